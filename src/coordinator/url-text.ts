/** The parts of a normalised URL (always `scheme://host[:port][/path...]`) a job needs. */

function hostEnd(norm: string): { start: number; end: number } {
  const start = norm.indexOf('://') + 3;
  return { start, end: norm.indexOf('/', start) };
}

/** `host[:port]`: the text between `://` and the next `/`. */
export function hostOf(norm: string): string {
  const { start, end } = hostEnd(norm);
  return end === -1 ? norm.slice(start) : norm.slice(start, end);
}

/** `scheme://host[:port]`. */
export function originOf(norm: string): string {
  const { end } = hostEnd(norm);
  return end === -1 ? norm : norm.slice(0, end);
}

/** The path and query, `/` at least. */
export function pathOf(norm: string): string {
  const { end } = hostEnd(norm);
  return end === -1 ? '/' : norm.slice(end);
}
