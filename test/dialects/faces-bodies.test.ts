// The faces' response schemas document, they never filter: every face route,
// called over real HTTP on a server holding the demo data, answers exactly
// JSON.stringify of what its handler built (fast-json-stringify would drop
// properties a schema does not name, and coerce types), and answers only
// status codes its schema documents.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DIALECTS } from '../../src/server/dialects/index.js';
import type { DialectSpec } from '../../src/server/dialects/types.js';
import { startDialectServer, type DialectServer, type HttpOptions, type HttpRes } from './harness.js';
import { DEV, HOSTS, P, PROD, setUpWorld, untilAssembled, type PromotionWorld } from './promotion-world.js';

interface Seen {
  route: string;
  built?: string;
}

/** Each face as it is, plus hooks that keep, per request, what the handler built and which route answered. */
function recording(seen: Map<string, Seen>, routes: Map<string, string[]>): DialectSpec[] {
  return DIALECTS.map((spec) => ({
    ...spec,
    async routes(app: FastifyInstance, ctx) {
      app.addHook('onRoute', (r) => {
        for (const m of [r.method].flat()) if (m !== 'HEAD') routes.set(`${m} ${r.url}`, Object.keys(r.schema?.response ?? {}));
      });
      const of = (request: FastifyRequest): Seen => {
        if (!seen.has(request.id)) seen.set(request.id, { route: `${request.method} ${request.routeOptions.url ?? '(none)'}` });
        return seen.get(request.id)!;
      };
      app.addHook('preSerialization', async (request, _reply, payload) => {
        of(request).built = JSON.stringify(payload);
        return payload;
      });
      app.addHook('onSend', async (request, _reply, payload) => {
        of(request);
        return payload;
      });
      await spec.routes(app, ctx);
    },
  }));
}

describe('face responses are byte for byte what the handlers built', () => {
  const seen = new Map<string, Seen>();
  const routes = new Map<string, string[]>();
  const answered: { route: string; status: number }[] = [];
  let checked = 0;
  let running: Awaited<ReturnType<typeof startDialectServer>>;
  let s: DialectServer;
  let w: PromotionWorld;

  /** One request; its body compared with what the handler built (when it built an object rather than text). */
  async function call(method: string, path: string, opts: HttpOptions = {}): Promise<HttpRes> {
    const r = await s.http(method, path, opts);
    const id = r.headers.get('x-request-id');
    const rec = id ? seen.get(id) : undefined;
    if (rec) {
      answered.push({ route: rec.route, status: r.status });
      if (rec.built !== undefined) {
        assert.equal(r.text, rec.built, `${method} ${path} (${r.status}): the body is not JSON.stringify of what the handler built`);
        checked++;
      }
    }
    return r;
  }

  before(async () => {
    running = await startDialectServer({ kind: 'in-process', db: 'sqlite' }, { dialects: recording(seen, routes) });
    s = running.server;
    w = await setUpWorld(s);
  });
  after(async () => running?.stop());

  it('promotion: every route', async () => {
    const h = { apikey: w.pat, host: HOSTS[DEV] };
    const group = w.dev.find((o) => o.type === 'GROUP')!;
    const tmpl = w.dev.find((o) => o.type === 'TMPL')!;
    const made = await call('POST', `${P}/packages`, {
      headers: h,
      json: { name: 'Bodies', description: 'd', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: tmpl.id }] }] },
    });
    assert.equal(made.status, 200, made.text);
    const id = made.json.data.id as string;
    const get = (path: string) => call('GET', P + path, { headers: h });
    await untilAssembled((m, p, o = {}) => call(m, P + p, { headers: { ...h, ...o.headers } }), id);
    assert.equal((await get('/packages')).status, 200);
    const definition = await get(`/packages/${id}/definition`);
    assert.equal(definition.status, 200);
    const data = (await get(`/packages/${id}`)).json.data;
    const put = await call('PUT', `${P}/packages/${id}`, {
      headers: h,
      json: {
        name: data.name,
        description: data.description,
        source: `https://${HOSTS[DEV]}`,
        status: 'DRAFT',
        version: data.version,
        metadata: data.metadata,
        packageEntities: definition.json.packageEntities,
      },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal((await call('PATCH', `${P}/packages/${id}`, { headers: h, json: { status: 'ACTIVE' } })).status, 200);
    const prod = { apikey: w.pat, host: HOSTS[PROD] };
    const pre = await call('POST', `${P}/packages/${id}/prepare-installation`, { headers: prod, json: {} });
    assert.equal(pre.status, 200, pre.text);
    const inst = await call('POST', `${P}/installations/${pre.json.id}/install`, { headers: prod, json: {} });
    assert.equal(inst.status, 200, inst.text);
    assert.equal((await call('GET', `${P}/installations?environmentPromotionPackageId=${id}`, { headers: prod })).status, 200);
    assert.equal((await call('GET', `${P}/installations/${pre.json.id}`, { headers: prod })).status, 200);
    // Errors, in the face's own shape.
    assert.equal((await get('/packages/no-such-package')).status, 404);
    assert.equal((await call('GET', `${P}/packages`)).status, 401);
    assert.equal((await call('POST', `${P}/packages`, { headers: h, json: { description: 'no name' } })).status, 400);
    assert.equal((await call('POST', `${P}/installations/${pre.json.id}/install`, { headers: prod, json: {} })).status, 409);
    const empty = await call('POST', `${P}/packages`, { headers: h, json: { name: 'Empty' } });
    const other = await call('POST', `${P}/packages`, {
      headers: h,
      json: { packageName: 'Other', objectCollections: [{ objCode: 'GROUP', entities: [{ ID: group.id }] }] },
    });
    await untilAssembled((m, p) => call(m, P + p, { headers: h }), other.json.data.id);
    assert.equal((await call('DELETE', `${P}/packages/${empty.json.data.id}`, { headers: h })).status, 200);
    assert.equal((await call('DELETE', `${P}/package/${other.json.data.id}`, { headers: h })).status, 200);
  });

  it('sync: every route, under both Manage roots and the server root', async () => {
    const proj = w.dev.find((o) => o.type === 'PROJ')!;
    const roots = [`/sync/${DEV}/api/v1/admin`, '/sync/api/v1/admin'];
    const host = { host: HOSTS[DEV] };
    for (const [i, root] of roots.entries()) {
      const login = await call('POST', `${root}/login/forms`, {
        headers: host,
        json: i ? { username: 'pat', password: 'a long password' } : { UserName: 'pat', Password: 'a long password' },
      });
      assert.equal(login.status, 200, login.text);
      const h = { ...host, authorization: `Bearer ${login.json.authorizationToken}` };
      assert.equal((await call('GET', `${root}/projects`, { headers: h })).status, 200);
      assert.equal((await call('GET', `${root}/projects/${proj.id}`, { headers: h })).status, 200);
      assert.equal((await call('GET', `${root}/projects/no-such-project`, { headers: h })).status, 404);
      const admin = { ...host, authorization: `Bearer ${s.adminKey}` };
      const cloned = await call('POST', `${root}/clone`, { headers: admin, json: { id: `clone-${i}`, name: `Clone ${i}`, tier: 'development' } });
      assert.equal(cloned.status, 201, cloned.text);
      const queued = await call('POST', `${root}/clone`, {
        headers: { ...admin, prefer: 'respond-async' },
        json: { id: `clone-async-${i}`, name: `Async ${i}`, tier: 'development' },
      });
      assert.equal(queued.status, 202, queued.text);
      assert.equal((await call('GET', `${root}/operations/${queued.json.operation.id}`, { headers: admin })).status, 200);
      assert.equal((await call('POST', `${root}/clone`, { headers: h, json: { id: 'x', name: 'x', tier: 'development' } })).status, 403);
      assert.equal((await call('POST', `${root}/logoff`, { headers: h })).status, 204);
    }
    const bearer = { authorization: `Bearer ${w.pat}` };
    for (const root of [`/sync/${DEV}/api/v1/admin/projects/sync`, '/sync/api/v1/admin/projects/sync', '/projects/sync']) {
      const pack = await call('POST', `${root}/export`, {
        headers: { ...bearer, host: HOSTS[DEV] },
        json: { projects: [{ id: proj.id }], options: { projects: true, dataSources: true } },
      });
      assert.equal(pack.status, 200, pack.text);
      const into = root.startsWith(`/sync/${DEV}`) ? root.replace(DEV, PROD) : root;
      const imported = await call('POST', `${into}/import?dryRun=true`, { headers: { ...bearer, host: HOSTS[PROD] }, json: { options: {}, ...pack.json } });
      assert.equal(imported.status, 200, imported.text);
      assert.equal(
        (await call('POST', `${into}/import`, { headers: { ...bearer, host: HOSTS[PROD] }, json: { options: {}, projects: 'not a list' } })).status,
        400,
      );
      assert.equal((await call('POST', `${root}/export`, { headers: { host: HOSTS[DEV] }, json: {} })).status, 401);
    }
  });

  it('dev2prod: every route', async () => {
    const token = await call('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'pat', password: 'a long password' } });
    assert.equal(token.status, 200, token.text);
    const h = { cookie: `SMAX_AUTH_TOKEN=${token.text}` };
    assert.equal((await call('POST', '/auth/authentication-endpoint/authenticate/login', { json: { login: 'pat', password: 'a long password' } })).status, 200);
    assert.equal((await call('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'pat', password: 'wrong' } })).status, 401);
    const tmpl = w.dev.find((o) => o.type === 'TMPL')!;
    const created = await s.native('POST', '/packages', {
      sourceEnvId: DEV,
      name: 'Onboarding',
      objectCollections: [{ objCode: 'TMPL', entities: [{ ID: tmpl.id }] }],
    });
    await s.waitOp(created.operation.id);
    await s.native('PATCH', `/packages/${created.package.id}`, { status: 'ACTIVE' });
    const started = await call('POST', `/rest/${DEV}/dev2prod/export/types/${created.package.id}`, { headers: h, json: {} });
    assert.equal(started.status, 200, started.text);
    const status = await until(() => call('GET', `/rest/${DEV}/dev2prod/export/${started.json.Id}`, { headers: h }));
    const bundle = await call('GET', `/rest/${DEV}/ces/attachment/${status.FileId}`, { headers: h });
    assert.equal(bundle.status, 200);
    assert.equal((await call('GET', `/rest/${DEV}/dev2prod/ces/attachment/${status.FileId}`, { headers: h })).status, 200);
    const form = new FormData();
    form.append('Files[]', new Blob([bundle.bytes]), 'package.ferry');
    const up = await call('POST', `/rest/${PROD}/ces/attachment`, { headers: h, body: form });
    assert.equal(up.status, 200, up.text);
    const imp = await call('POST', `/rest/${PROD}/dev2prod/import?dryRun=true`, { headers: h, json: { FileId: up.json.Id } });
    assert.equal(imp.status, 200, imp.text);
    await until(() => call('GET', `/rest/${PROD}/dev2prod/import/${imp.json.Id}`, { headers: h }));
    assert.equal((await call('POST', `/rest/${PROD}/dev2prod/import`, { headers: h, json: { FileId: 'no-such-file' } })).status, 400);
    assert.equal((await call('GET', `/rest/${PROD}/dev2prod/import/nope`, { headers: h })).status, 404);
    assert.equal((await call('GET', `/rest/${PROD}/dev2prod/import/nope`)).status, 401);
  });

  it('duplication: every route', async () => {
    await s.user('ops', {}, { password: 'ops password 1', admin: true });
    const login = await call('POST', '/api/auth/login', { form: { loginMode: '1', applicationType: '76', username: 'ops', password: 'ops password 1' } });
    assert.equal(login.status, 204, login.text);
    const h = { 'x-mstr-authtoken': login.headers.get('x-mstr-authtoken')! };
    const get = (path: string, extra: Record<string, string> = {}) => call('GET', path, { headers: { ...h, ...extra } });
    assert.equal((await get('/api/sessions')).status, 200);
    assert.equal((await call('PUT', '/api/sessions', { headers: h })).status, 204);
    assert.equal((await get('/api/sessions/userInfo')).status, 200);
    assert.equal((await get('/api/status')).status, 200);
    const projects = await get('/api/projects');
    const project = projects.json.find((p: { name: string }) => p.name === 'Development');
    assert.equal((await get(`/api/projects/${project.id}`)).status, 200);
    assert.equal((await get('/api/monitors/projects?offset=0&limit=1000')).status, 200);
    assert.equal((await get(`/api/objects/${project.id}?type=32`, { 'x-mstr-projectid': project.id })).status, 200);
    const versions = await get('/api/projectDuplications/versions');
    assert.equal((await call('POST', '/api/projectDuplications/validations', { headers: h, json: versions.json })).status, 200);
    assert.equal(
      (await call('POST', '/api/projectDuplications/validations', { headers: h, json: { ...versions.json, packageFormatVersion: 999 } })).status,
      400,
    );
    const source = { environment: { id: s.base, name: 'Source' }, project: { id: project.id, name: project.name } };
    const local = await call('POST', '/api/projectDuplications', {
      headers: { ...h, prefer: 'respond-async' },
      json: { source, target: { environment: { id: s.base, name: 'Target' }, project: { name: 'Development copy' } } },
    });
    assert.equal(local.status, 201, local.text);
    await until(() => get(`/api/projectDuplications/${local.json.id}`), ['COMPLETED', 'IMPORT_FAILED'], 'status');
    const away = await call('POST', '/api/projectDuplications', {
      headers: h,
      json: { source, target: { environment: { id: 'http://127.0.0.1:9', name: 'Elsewhere' }, project: { name: 'Far copy' } } },
    });
    assert.equal(away.status, 201, away.text);
    await until(() => get(`/api/projectDuplications/${away.json.id}`), ['EXPORTED'], 'status');
    assert.equal((await get('/api/projectDuplications?offset=0&limit=10')).status, 200);
    const backup = await get(`/api/projectDuplications/${away.json.id}/backup`);
    assert.equal(backup.status, 200);
    const form = new FormData();
    form.append('metadata', JSON.stringify({ settings: { import: {} }, target: { environment: { id: s.base, name: 'Here' }, project: { name: 'Restored' } } }));
    form.append('file', new Blob([backup.bytes], { type: 'application/octet-stream' }), 'package.projdup');
    const restored = await call('POST', '/api/projectDuplications/restoration', { headers: h, body: form });
    assert.ok([200, 201].includes(restored.status), restored.text);
    assert.equal((await call('PUT', `/api/projectDuplications/${away.json.id}/status`, { headers: h, json: { status: 'cancelled' } })).status, 400);
    assert.equal((await call('PUT', `/api/projectDuplications/${away.json.id}`, { headers: h, json: { status: 'cancelled' } })).status, 400);
    assert.equal((await call('DELETE', `/api/projectDuplications/${local.json.id}`, { headers: h })).status, 204);
    assert.equal((await get(`/api/projectDuplications/${'0'.repeat(32)}`)).status, 404);
    assert.equal((await call('POST', '/api/projectDuplications', { headers: h, json: { target: {} } })).status, 400);
    assert.equal((await call('POST', '/api/auth/logout', { headers: h })).status, 204);
    assert.equal((await get('/api/sessions')).status, 401);
  });

  it('every face route answered, only with documented status codes, and the bodies were compared', () => {
    const hit = new Set(answered.map((a) => a.route));
    const missed = [...routes.keys()].filter((r) => !hit.has(r));
    assert.deepEqual(missed, []);
    const undocumented = answered.filter((a) => !(routes.get(a.route) ?? []).includes(String(a.status))).map((a) => `${a.route} ${a.status}`);
    assert.deepEqual([...new Set(undocumented)], []);
    assert.ok(checked > 20, `bodies compared: ${checked}`);
  });
});

/** Poll a status route until its `field` is one of `done`; its body. */
async function until(get: () => Promise<HttpRes>, done = ['COMPLETED', 'FAILED', 'CANCELLED'], field = 'Status'): Promise<any> {
  for (let i = 0; ; i++) {
    const r = await get();
    assert.equal(r.status, 200, r.text);
    if (done.includes(r.json[field])) return r.json;
    if (i > 2000) throw new Error(`still ${r.json[field]}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
