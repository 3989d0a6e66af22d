/**
 * The access matrix over every route the server documents (the native API
 * and every mounted face, from its own OpenAPI document):
 * - no credential, an expired session, a revoked key: 401 everywhere but the
 *   public routes;
 * - a user holding roles only on their own environment, probing another
 *   tenant's ids (environment, package, installation, operation, file,
 *   object) in any path parameter, gets exactly the answer a missing id gets
 *   (same status, same body but for the id), and no response, lists
 *   included, carries the other tenant's data.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestServer, ADMIN_KEY, documentedRoutes, type DocumentedRoute as Route, type TestServer } from '../support/api.js';
import { DIALECTS } from '../support/engines.js';

const SECRET = 'SECRET-OF-BETA';

for (const db of DIALECTS) {
  describe(`access matrix over every documented route [${db}]`, () => {
    let s: TestServer;
    let routes: Route[];
    /** Another tenant's ids, by the parameter names that may carry them. */
    const theirs: Record<string, string> = {};
    const missing: Record<string, string> = {};
    const roleKeys: Record<string, string> = {};
    let expired = '';
    let revoked = '';

    before(async () => {
      s = await openTestServer(db, { config: { sessionTtlMs: 1500 } });
      const ok = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => {
        const r = await s.call(ADMIN_KEY, method, url, body);
        assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${r.text}`);
        return r.body;
      };
      await ok('POST', '/api/v1/environments', { id: 'alpha', name: 'Alpha', tier: 'development', hosts: ['alpha.matrix.test'] });
      await ok('POST', '/api/v1/environments', { id: 'beta', name: `Beta ${SECRET}`, tier: 'production', hosts: ['beta.matrix.test'] });
      const objs = (env: string, tag: string) => [
        { type: 'GROUP', id: `${env}-g1`, name: `Ops ${tag}`, fields: { description: tag } },
        { type: 'TMPL', id: `${env}-t1`, name: `Onboarding ${tag}`, fields: { groupID: `${env}-g1` } },
      ];
      await ok('POST', '/api/v1/environments/alpha/objects', objs('alpha', 'alpha'));
      await ok('POST', '/api/v1/environments/beta/objects', objs('beta', SECRET));
      const pkg = await ok('POST', '/api/v1/packages', {
        sourceEnvId: 'beta',
        name: `Package ${SECRET}`,
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'beta-t1' }] }],
      });
      await s.waitOp(ADMIN_KEY, pkg.operation.id);
      await ok('PATCH', `/api/v1/packages/${pkg.package.id}`, { status: 'ACTIVE' });
      await ok('POST', '/api/v1/environments', { id: 'gamma', name: 'Gamma', tier: 'production' });
      const plan = await ok('POST', `/api/v1/packages/${pkg.package.id}/plans`, { targetEnvId: 'gamma' });
      const exp = await s.waitOp(ADMIN_KEY, (await ok('POST', `/api/v1/packages/${pkg.package.id}/export`)).operation.id);
      Object.assign(theirs, {
        envId: 'beta',
        tenant_id: 'beta',
        environmentId: 'beta',
        sourceEnvId: 'beta',
        packageId: pkg.package.id,
        installationId: plan.installation.id,
        operationId: exp.id,
        fileId: (exp.result as { file: { id: string } }).file.id,
        objectId: 'beta-t1',
        entityId: 'beta-t1',
        type: 'TMPL',
      });
      for (const [k, v] of Object.entries(theirs)) missing[k] = k === 'type' ? v : v.replace(/[0-9a-f]/g, (c) => (c === '0' ? '1' : '0')) + '-missing';
      for (const role of ['viewer', 'promoter', 'admin']) roleKeys[role] = await s.user(`amy-${role}`, { alpha: role }, { password: 'a long password' });
      // A session that will have expired by the time it is used, and a key revoked at once.
      const login = await s.call(null, 'POST', '/api/v1/auth/login', { username: 'amy-viewer', password: 'a long password' });
      expired = login.body.token as string;
      revoked = await s.user('rex', { alpha: 'admin' });
      const keys = (await s.call(ADMIN_KEY, 'GET', '/api/v1/api-keys?username=rex')).body.items as { id: string }[];
      for (const k of keys) await ok('DELETE', `/api/v1/api-keys/${k.id}`);
      routes = await documentedRoutes(s.app);
      await new Promise((r) => setTimeout(r, 1600));
    });
    after(async () => {
      await s?.cleanup();
    });

    const fill = (route: Route, values: Record<string, string>) =>
      route.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(values[name] ?? theirs[name] ?? 'x'));

    it('answers 401 to no credential, an expired session and a revoked key on every non-public route', async () => {
      for (const route of routes.filter((r) => !r.public && !r.path.startsWith('/docs'))) {
        const url = fill(route, theirs);
        for (const [label, key] of [
          ['no credential', null],
          ['an expired session', expired],
          ['a revoked key', revoked],
        ] as const) {
          const r = await s.call(key, route.method as 'GET', url, route.method === 'GET' ? undefined : {});
          assert.equal(r.status, 401, `${route.method} ${url} with ${label}: ${r.status} ${r.text.slice(0, 200)}`);
          assert.ok(!r.text.includes(SECRET), `${route.method} ${url} with ${label} leaked data`);
        }
      }
    });

    it("answers another tenant's ids exactly as missing ones, for every role on the caller's own environment", async () => {
      const probed = routes.filter((r) => !r.public && r.params.some((p) => p.in === 'path' && theirs[p.name] !== undefined && p.name !== 'type'));
      assert.ok(probed.length >= 20, `only ${probed.length} routes take an id`);
      for (const method of ['GET', 'DELETE'])
        assert.ok(
          probed.some((r) => r.method === method && r.path === '/api/v1/environments/{envId}/lock'),
          `${method} /api/v1/environments/{envId}/lock is probed`,
        );
      for (const [role, key] of Object.entries(roleKeys)) {
        for (const route of probed) {
          const body = route.method === 'GET' ? undefined : {};
          const a = await s.call(key, route.method as 'GET', fill(route, theirs), body);
          const b = await s.call(key, route.method as 'GET', fill(route, missing), body);
          const where = `${role}: ${route.method} ${route.path}`;
          assert.ok(a.status >= 400, `${where} answered ${a.status} for another tenant's id: ${a.text.slice(0, 200)}`);
          assert.equal(a.status, b.status, `${where}: ${a.status} for another tenant's id, ${b.status} for a missing one`);
          let text = a.text;
          for (const k of Object.keys(theirs))
            text = text.replaceAll(encodeURIComponent(theirs[k]!), encodeURIComponent(missing[k]!)).replaceAll(theirs[k]!, missing[k]!);
          assert.equal(text, b.text, `${where}: the answers differ`);
          assert.ok(!a.text.includes(SECRET), `${where} leaked another tenant's data`);
        }
      }
    });

    it("lists nothing of another tenant's, whatever filter names it", async () => {
      const lists = routes.filter((r) => r.method === 'GET' && !r.public && !r.path.includes('{') && !r.path.startsWith('/docs'));
      for (const [role, key] of Object.entries(roleKeys)) {
        for (const route of lists) {
          for (const q of ['', '?sourceEnvId=beta', '?environmentId=beta', `?packageId=${theirs.packageId}`, '?actor=admin']) {
            const r = await s.call(key, 'GET', route.path + q);
            assert.ok(r.status < 500, `${role}: GET ${route.path}${q}: ${r.status}`);
            assert.ok(!r.text.includes(SECRET), `${role}: GET ${route.path}${q} leaked another tenant's data: ${r.text.slice(0, 300)}`);
            for (const id of [theirs.packageId!, theirs.installationId!, theirs.fileId!, theirs.operationId!]) {
              assert.ok(!r.text.includes(id), `${role}: GET ${route.path}${q} names another tenant's ${id}`);
            }
          }
        }
      }
    });
  });
}
