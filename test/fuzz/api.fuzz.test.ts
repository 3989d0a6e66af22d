/**
 * Fuzzing with fast-check over every route the server documents (the native
 * API and every mounted face, read from its own OpenAPI document): random and
 * half-valid path parameters, query strings and bodies. Every answer is a
 * 2xx or a 4xx with a JSON message, never a 500; the server keeps answering;
 * a refused change writes nothing (the fingerprint of environments, objects,
 * packages, installations, files, users and keys is unchanged).
 *
 * `npm test` runs FERRY_FUZZ_RUNS (300) requests; `npm run test:fuzz` runs
 * 5000. FERRY_FUZZ_SEED replays a run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openTestServer, ADMIN_KEY, documentedRoutes, type DocumentedRoute as Route, type TestServer } from '../support/api.js';

const RUNS = Number(process.env.FERRY_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 1_000_000);

/** Values that mean something here (real ids) mixed with junk, overlong, numeric edge and non-ASCII strings. */
function valueFor(pool: Record<string, string[]>, name: string): fc.Arbitrary<string> {
  const known = pool[name] ?? [];
  return fc.oneof(
    ...(known.length ? [{ weight: 4, arbitrary: fc.constantFrom(...known) }] : []),
    { weight: 2, arbitrary: fc.constantFrom('0', '1', '-1', '1e309', '9223372036854775808', 'NaN', 'true', '', '..', '%00', 'TMPL', '*') },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ minLength: 300, maxLength: 600 }) },
  );
}

/**
 * A body whose `fields` (and everything else) nest `depth` levels deep: deep
 * input must be refused, never overflow a stack. Kept as JSON text, so that
 * neither fast-check's reporting nor the test itself recurses through it.
 */
class DeepJson {
  constructor(readonly depth: number) {}
  get text(): string {
    const inner = '{"x":['.repeat(this.depth) + '"bottom"' + ']}'.repeat(this.depth);
    return `{"type":"ROLE","id":"deep","name":"Deep","fields":${inner},"objectCollections":${inner},"targetEnvId":"beta"}`;
  }
  /** The same as a list of objects (what the object routes load). */
  get list(): string {
    return `[${this.text}]`;
  }
  toString(): string {
    return `<JSON nested ${this.depth * 2} deep>`;
  }
}

function bodyFor(pool: Record<string, string[]>, route: Route): fc.Arbitrary<unknown> {
  const props = Object.keys(route.body?.properties ?? {});
  const junk = fc.jsonValue({ maxDepth: 4 });
  const deep = fc.integer({ min: 30, max: 5000 }).map((d) => new DeepJson(d));
  const field = (name: string) => fc.oneof({ weight: 2, arbitrary: valueFor(pool, name) }, { weight: 2, arbitrary: junk });
  const shaped = props.length
    ? fc.record(Object.fromEntries(props.map((p) => [p, field(p)])), { requiredKeys: [] })
    : fc.dictionary(fc.string({ maxLength: 10 }), junk, { maxKeys: 5 });
  return fc.oneof(
    { weight: 6, arbitrary: shaped },
    { weight: 2, arbitrary: junk },
    { weight: 1, arbitrary: deep },
    { weight: 2, arbitrary: fc.constant(undefined) },
  );
}

describe(`fuzzing every documented route: ${RUNS} requests (FERRY_FUZZ_SEED=${SEED})`, () => {
  let s: TestServer;
  let routes: Route[];
  const pool: Record<string, string[]> = {};
  let promoter = '';

  before(async () => {
    s = await openTestServer('sqlite', { config: { uploadLimit: 1024 * 1024 } });
    const ok = async (method: 'POST' | 'PATCH', url: string, body?: unknown) => {
      const r = await s.call(ADMIN_KEY, method, url, body);
      assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${r.text}`);
      return r.body;
    };
    await ok('POST', '/api/v1/environments', { id: 'alpha', name: 'Alpha', tier: 'development', hosts: ['alpha.fuzz.test'] });
    await ok('POST', '/api/v1/environments', { id: 'beta', name: 'Beta', tier: 'production' });
    await ok('POST', '/api/v1/environments/alpha/objects', [
      { type: 'ROLE', id: 'r1', name: 'Planner', fields: {} },
      { type: 'GROUP', id: 'g1', name: 'Ops', fields: {} },
      { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1' } },
    ]);
    const created = await ok('POST', '/api/v1/packages', {
      sourceEnvId: 'alpha',
      name: 'P',
      objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 't1' }] }],
    });
    await s.waitOp(ADMIN_KEY, created.operation.id);
    await ok('PATCH', `/api/v1/packages/${created.package.id}`, { status: 'ACTIVE' });
    const plan = await ok('POST', `/api/v1/packages/${created.package.id}/plans`, { targetEnvId: 'beta' });
    const exported = await s.waitOp(ADMIN_KEY, (await ok('POST', `/api/v1/packages/${created.package.id}/export`)).operation.id);
    promoter = await s.user('pat', { alpha: 'promoter', beta: 'viewer' });
    const keys = await s.call(ADMIN_KEY, 'GET', '/api/v1/api-keys');
    Object.assign(pool, {
      envId: ['alpha', 'beta'],
      sourceEnvId: ['alpha', 'beta'],
      targetEnvId: ['alpha', 'beta'],
      environmentId: ['alpha', 'beta'],
      packageId: [created.package.id],
      installationId: [plan.installation.id],
      operationId: [created.operation.id, exported.id],
      fileId: [(exported.result as { file: { id: string } }).file.id],
      type: ['TMPL', 'ROLE', 'GROUP'],
      objCode: ['TMPL', 'ROLE'],
      objectId: ['t1', 'r1', 'g1'],
      entityId: ['t1', 'g1'],
      username: ['admin', 'pat'],
      // The admin's own key is left out: revoking it would end the run, not find a bug.
      keyId: (keys.body.items as { id: string; username: string }[]).filter((k) => k.username !== 'admin').map((k) => k.id),
      status: ['DRAFT', 'TESTING', 'ACTIVE', 'DISABLED', 'ASSEMBLING', 'COMPLETED'],
      tier: ['development', 'testing', 'preview', 'production'],
      id: ['alpha', 't1', created.package.id],
      name: ['x', 'Planner'],
    });
    routes = await documentedRoutes(s.app);
  });
  after(async () => {
    await s?.cleanup();
  });

  /** What a refused request must not change (once the operations accepted earlier have finished their own changes). */
  async function fingerprint(): Promise<string> {
    const get = async (url: string) => (await s.call(ADMIN_KEY, 'GET', url)).body;
    for (let i = 0; i < 400; i++) {
      const busy = (await get('/api/v1/operations?status=RUNNING')).total + (await get('/api/v1/operations?status=QUEUED')).total;
      if (busy === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const envs = (await get('/api/v1/environments')).items as { id: string; version: number; name: string; tier: string }[];
    const objects = await Promise.all(envs.map(async (e) => (await get(`/api/v1/environments/${encodeURIComponent(e.id)}/objects?limit=1`)).total as number));
    return JSON.stringify({
      envs: envs.map((e) => [e.id, e.version, e.name, e.tier]),
      objects,
      packages: (await get('/api/v1/packages')).items.map((p: { id: string; status: string; version: number }) => [p.id, p.status, p.version]),
      installations: (await get('/api/v1/installations?limit=1000')).total,
      files: (await get('/api/v1/files')).items.length,
      users: (await get('/api/v1/users')).items.length,
      keys: (await get('/api/v1/api-keys')).items.length,
    });
  }

  it('answers every request with a 2xx or a 4xx carrying a message; refused changes write nothing', async () => {
    const request = fc.constantFrom(...routes.filter((r) => !r.path.startsWith('/docs'))).chain((route) =>
      fc.record({
        route: fc.constant(route),
        params: fc.tuple(...route.params.map((p) => fc.option(valueFor(pool, p.name), { nil: undefined, freq: 5 }))),
        body: bodyFor(pool, route),
        as: fc.constantFrom('admin', 'promoter', 'none'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async ({ route, params, body, as }) => {
        let path = route.path;
        const query = new URLSearchParams();
        route.params.forEach((p, i) => {
          const v = params[i];
          if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(v ?? pool[p.name]?.[0] ?? 'x'));
          else if (p.in === 'query' && v !== undefined) query.set(p.name, v);
        });
        const url = query.size ? `${path}?${query.toString()}` : path;
        const mutating = route.method !== 'GET';
        const before = mutating ? await fingerprint() : '';
        const key = as === 'admin' ? ADMIN_KEY : as === 'promoter' ? promoter : null;
        const r =
          body instanceof DeepJson
            ? await s.call(key, route.method as 'GET', url, body.text, { 'content-type': 'application/json' })
            : await s.call(key, route.method as 'GET', url, body);
        const where = `${route.method} ${url} as ${as} with ${body instanceof DeepJson ? String(body) : JSON.stringify(body)?.slice(0, 300)}`;
        assert.ok(r.status < 500, `${where}: ${r.status} ${r.text.slice(0, 500)}`);
        if (r.status >= 400) {
          assert.ok(r.body && typeof r.body === 'object', `${where}: a ${r.status} without a JSON body: ${r.text.slice(0, 200)}`);
          assert.match(JSON.stringify(r.body), /[a-z]{3}/i, `${where}: a ${r.status} without a message`);
          if (mutating) assert.equal(await fingerprint(), before, `${where}: refused with ${r.status}, yet something changed`);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true, includeErrorInReport: true },
    );
    // Still up and answering.
    assert.equal((await s.call(null, 'GET', '/api/v1/health')).status, 200);
  });

  it('refuses deeply nested bodies on every route that takes one, as the admin, without a 500', async () => {
    for (const route of routes.filter((r) => r.method !== 'GET' && !r.path.startsWith('/docs'))) {
      const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(pool[name]?.[0] ?? 'x'));
      for (const depth of [40, 1000, 4000, 50_000]) {
        for (const text of [new DeepJson(depth).text, new DeepJson(depth).list]) {
          const r = await s.call(ADMIN_KEY, route.method as 'POST', path, text, { 'content-type': 'application/json' });
          assert.ok(r.status < 500, `${route.method} ${path} with JSON nested ${depth * 2} deep: ${r.status} ${r.text.slice(0, 300)}`);
        }
      }
    }
    // What was accepted must still be served: reading, preparing and exporting do not fail on it either.
    const objects = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/alpha/objects?limit=1000');
    assert.equal(objects.status, 200, objects.text.slice(0, 300));
  });
});
