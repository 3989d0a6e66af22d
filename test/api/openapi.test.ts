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

  it('documents every operation of the four faces: a 2xx and its error responses, each with a schema and an example', () => {
    const faces = ['promotion', 'sync', 'dev2prod', 'duplication'];
    const faceOps = operations().filter(({ op }) => faces.includes(op.tags?.[0]));
    assert.deepEqual(new Set(faceOps.map(({ op }) => op.tags[0])), new Set(faces));
    const problems: string[] = [];
    for (const { where, op } of faceOps) {
      const codes = Object.keys(op.responses ?? {});
      if (codes.includes('default')) problems.push(`${where}: a default response`);
      if (!codes.some((c) => /^2\d\d$/.test(c))) problems.push(`${where}: no 2xx response`);
      // A public route (a login, the server status) may have no error of its own; every other answers 401 at least.
      if (op.security?.length !== 0 && !codes.some((c) => /^4\d\d$/.test(c))) problems.push(`${where}: no error response`);
      for (const [code, res] of Object.entries<any>(op.responses ?? {})) {
        if (!res.description?.trim() || res.description === 'Default Response') problems.push(`${where} ${code}: no description`);
        if (code === '204') continue;
        const media = Object.values<any>(res.content ?? {});
        if (media.length === 0) problems.push(`${where} ${code}: no body schema`);
        for (const m of media) if (!hasExample(m)) problems.push(`${where} ${code}: no example`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(faceOps.length >= 50, `face operations: ${faceOps.length}`);
  });

  it("shows each face's field names and error shape as its document has them", () => {
    const body = (path: string, method: string, code: string) => doc.paths[path][method].responses[code].content['application/json'].schema;
    const P = '/environment-promotion/api/v1';
    const record = body(`${P}/installations/{id}`, 'get', '200');
    assert.ok(record.properties.translationMap && record.properties.environmentPromotionPackageId);
    assert.equal(record.example.translationMap.GROUP.eaf0f1b0a90638be403b0fc69cb42174.installationStatus, 'REGISTERED');
    assert.deepEqual(Object.keys(body(`${P}/packages/{id}`, 'get', '404').example.error), ['class', 'message', 'code']);
    assert.equal(doc.paths[`${P}/packages/{id}`].delete.responses['200'].content['text/plain'].schema.example, 'Deleted');
    assert.equal(body('/projects/sync/import', 'post', '200').items.properties.result.enum.join(), 'created,updated,unchanged,conflict,drift');
    assert.ok(body('/sync/{envId}/api/v1/admin/projects/sync/export', 'post', '200').example.dataSources);
    assert.equal(body('/rest/{tenant_id}/dev2prod/export/{id}', 'get', '200').example.OperationType, 'Export');
    const dup = body('/api/projectDuplications', 'get', '200');
    assert.ok(dup.properties.duplications && dup.properties.projectDuplications);
    assert.deepEqual(Object.keys(body('/api/projectDuplications/{id}', 'get', '404').example), ['code', 'message', 'ticketId', 'iServerCode']);
    // The promotion PUT body still requires name or packageName (the handler says which is missing).
    const put = doc.paths[`${P}/packages/{id}`].put.requestBody.content['application/json'].schema;
    assert.ok(put.properties.name && put.properties.packageName);
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
