import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

/**
 * The OpenAPI document (/docs/json) as a newcomer reads it in /docs: every
 * request and response body shows an example, every parameter says what it
 * is, and no text points at document numbers the reader does not have.
 */
describe('the OpenAPI document helps', () => {
  let s: TestServer;
  let doc: any;
  before(async () => {
    s = await openTestServer('sqlite');
    const r = await s.call(ADMIN_KEY, 'GET', '/docs/json');
    assert.equal(r.status, 200);
    doc = r.body;
  });
  after(async () => s.cleanup());

  const operations = () =>
    Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.entries<any>(ops).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, op })));
  const hasExample = (media: any) => media.example !== undefined || media.examples !== undefined || media.schema?.example !== undefined;

  it('gives every request and response body an example', () => {
    const missing: string[] = [];
    let bodies = 0;
    for (const { where, op } of operations()) {
      for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) {
        bodies++;
        if (!hasExample(media)) missing.push(`${where} request ${type}`);
      }
      for (const [status, res] of Object.entries<any>(op.responses ?? {})) {
        for (const [type, media] of Object.entries<any>(res.content ?? {})) {
          bodies++;
          if (!hasExample(media)) missing.push(`${where} ${status} ${type}`);
        }
      }
    }
    assert.ok(bodies > 100, `the document has bodies (${bodies})`);
    assert.deepEqual(missing, []);
  });

  it('describes every parameter', () => {
    const missing = operations().flatMap(({ where, op }) =>
      (op.parameters ?? []).filter((p: any) => !p.description?.trim()).map((p: any) => `${where} ${p.in} ${p.name}`),
    );
    assert.deepEqual(missing, []);
  });

  it('shows examples a first request can use: the demo environments, the error shape per status', () => {
    const create = doc.paths['/api/v1/packages'].post;
    const body = create.requestBody.content['application/json'].schema.example;
    assert.equal(body.sourceEnvId, '100000001');
    assert.equal(body.objectCollections[0].objCode, 'TMPL');
    const notFound = doc.paths['/api/v1/packages/{packageId}'].get.responses['404'].content['application/json'].schema.example;
    assert.equal(notFound.code, 'NOT_FOUND');
    assert.match(notFound.message, /not found/);
    const param = doc.paths['/api/v1/packages/{packageId}'].get.parameters.find((p: any) => p.name === 'packageId');
    assert.match(param.description, /Package id/);
    const dup = doc.paths['/api/projectDuplications/{id}'].get.parameters.find((p: any) => p.name === 'id');
    assert.equal(dup.description, 'Project duplication id');
  });

  it('names no document numbers in user-facing text', () => {
    const found: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === 'string') {
        if (/\((?:reference )?0\d\d\b|\b0\d\d\)|\b0\d\d (?:has|names|says)\b|^0\d\d /.test(v)) found.push(v);
      } else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk({ info: doc.info, tags: doc.tags, paths: doc.paths });
    assert.deepEqual(found, []);
  });
});
