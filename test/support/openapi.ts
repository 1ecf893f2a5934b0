// Checks live responses against the OpenAPI document the worker serves: the status must be
// documented for the route, the content type listed, and a JSON body must validate (Ajv, JSON
// Schema 2020-12, the dialect of OpenAPI 3.1; formats such as date-time are checked too).
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { api } from './api';

type Json = { [key: string]: unknown };

/** The base URI the document is registered under, so its internal `$ref`s resolve. */
const DOC_ID = 'https://scrape-fanout.test/openapi.json';

const pointerPart = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');

export interface DocChecker {
  doc: Json;
  /**
   * Asserts that `res` is what the document says `method path` answers (path as the document
   * writes it, `/v1/jobs/{id}`), and returns its body (parsed when JSON, else text).
   */
  check(method: string, path: string, res: Response): Promise<unknown>;
  /**
   * Validates `value` against components.schemas[name], or the schema at a JSON pointer into
   * the document (`/components/...`); returns Ajv's errors, or null when it is valid.
   */
  errorsFor(name: string, value: unknown): unknown[] | null;
}

export async function docChecker(): Promise<DocChecker> {
  const res = await api('/openapi.json', { headers: { authorization: '' } });
  expect(res.status).toBe(200);
  const doc = (await res.json()) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const at = (pointer: string) => ajv.getSchema(`${DOC_ID}#${pointer}`);
  const resolve = (pointer: string, value: Json): [string, Json] => {
    const ref = value.$ref;
    if (typeof ref !== 'string') return [pointer, value];
    const target = ref.slice(1);
    const found = target
      .split('/')
      .slice(1)
      .reduce<unknown>((o, k) => (o as Json)[k], doc);
    return [target, found as Json];
  };
  return {
    doc,
    async check(method, path, response) {
      const where = `${method.toUpperCase()} ${path} -> ${response.status}`;
      const op = ((doc.paths as Json)[path] as Json | undefined)?.[method.toLowerCase()] as Json;
      expect(op, `${where}: not in the document`).toBeDefined();
      const responses = op.responses as Json;
      const documented = responses[String(response.status)] as Json | undefined;
      expect(documented, `${where}: status not documented`).toBeDefined();
      const base = `/paths/${pointerPart(path)}/${method.toLowerCase()}/responses/${response.status}`;
      const [pointer, resp] = resolve(base, documented as Json);
      const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      const content = (resp.content ?? {}) as Json;
      expect(Object.keys(content), `${where}: content type`).toContain(type);
      const text = new TextDecoder().decode(await response.arrayBuffer());
      if (type !== 'application/json') return text;
      const body = JSON.parse(text) as unknown;
      const validate = at(`${pointer}/content/${pointerPart(type)}/schema`);
      if (!validate) throw new Error(`${where}: no schema`);
      expect(validate(body) ? null : validate.errors, `${where}: ${text.slice(0, 300)}`).toBeNull();
      return body;
    },
    errorsFor(name, value) {
      const validate = at(name.startsWith('/') ? name : `/components/schemas/${name}`);
      if (!validate) throw new Error(`no schema ${name}`);
      return validate(value) ? null : (validate.errors ?? []);
    },
  };
}
