// The OpenAPI document (GET /openapi.json) is valid OpenAPI 3.1, by a maintained validator
// (@seriousme/openapi-schema-validator: the official 3.1 JSON Schema, and every $ref resolved).
// It runs here, not in workerd: the validator reads its schema files from disk. The document
// is built by the worker's own module, loaded with Node's type stripping; the worker's imports
// omit the `.ts` extension, which the hook below adds.
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';

registerHooks({
  resolve(specifier, context, next) {
    if (/^\.\.?\//.test(specifier) && !/\.[cm]?[jt]sx?$/.test(specifier)) {
      try {
        return next(`${specifier}.ts`, context);
      } catch {
        // not a TypeScript module: resolved as written below
      }
    }
    return next(specifier, context);
  },
});

/** @type {{ openApiDocument: (maxUrls: number) => Record<string, unknown> }} */
const { openApiDocument } = await import(
  String(new URL('../../src/openapi/document.ts', import.meta.url))
);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const doc = structuredClone(openApiDocument(100_000));
    const result = await new Validator().validate(doc);
    assert.deepEqual(result, { valid: true }, JSON.stringify(result.errors, null, 2));
  });

  it('documents the limit of the deployment it describes', () => {
    const doc = /** @type {any} */ (openApiDocument(250));
    assert.equal(doc.components.schemas.JobRequest.properties.urls.maxItems, 250);
  });

  it('is refused by the validator when broken (the check is live)', async () => {
    const doc = /** @type {any} */ (structuredClone(openApiDocument(100_000)));
    doc.paths['/v1/jobs'].get.responses['200'] = { content: {} };
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, false);
  });
});
