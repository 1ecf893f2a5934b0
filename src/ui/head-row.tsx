/** A column: its label, and `num` for a right-aligned number column. */
type Column = string | [label: string, kind: 'num'];

/** A table's header row: one `<th scope="col">` per column, as screen readers need. */
export function HeadRow({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) =>
          typeof c === 'string' ? (
            <th scope="col">{c}</th>
          ) : (
            <th scope="col" class="num">
              {c[0]}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
