import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

type Who = 'admin' | 'envadmin' | 'promoter' | 'devpromoter' | 'viewer' | 'outsider';
const WHO: Who[] = ['admin', 'envadmin', 'promoter', 'devpromoter', 'viewer', 'outsider'];

/** Roles of the users, on dev (development), prod (production), tierenv (testing) and other. */
const ROLES: Record<Exclude<Who, 'admin'>, Record<string, string>> = {
  envadmin: { dev: 'admin', prod: 'admin', tierenv: 'admin' },
  promoter: { dev: 'promoter', prod: 'promoter' },
  // A promoter of the source only: never enough to install into production.
  devpromoter: { dev: 'promoter', prod: 'viewer' },
  viewer: { dev: 'viewer', prod: 'viewer' },
  outsider: { other: 'viewer' },
};

interface Ctx {
  s: TestServer;
  pkg: string;
  bundle: Buffer;
}

interface Row {
  action: string;
  method: InjectOptions['method'];
  /** Path (and body) for this user; `setup` ran first, as the server admin. */
  url: (c: Ctx, who: Who, prep: Record<string, string>) => string;
  body?: (c: Ctx, who: Who, prep: Record<string, string>) => unknown;
  raw?: boolean;
  setup?: (c: Ctx, who: Who) => Promise<Record<string, string>>;
  expect: Record<Who, number>;
}

const all = (n: number, over: Partial<Record<Who, number>> = {}): Record<Who, number> => ({
  admin: n,
  envadmin: n,
  promoter: n,
  devpromoter: n,
  viewer: n,
  outsider: n,
  ...over,
});

async function prepare(c: Ctx, target: string): Promise<string> {
  const r = await c.s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${c.pkg}/plans`, { targetEnvId: target });
  assert.equal(r.status, 201, r.text);
  return r.body.installation.id as string;
}

async function installNow(c: Ctx, target: string): Promise<string> {
  const id = await prepare(c, target);
  const r = await c.s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${id}/install`);
  assert.equal(r.status, 202, r.text);
  const op = await c.s.waitOp(ADMIN_KEY, r.body.operation.id);
  assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
  return id;
}

/** Each role against each action: the status every user gets. 404 wherever the environment is not theirs to see. */
const MATRIX: Row[] = [
  { action: 'read an environment', method: 'GET', url: () => '/api/v1/environments/dev', expect: all(200, { outsider: 404 }) },
  { action: 'list objects', method: 'GET', url: () => '/api/v1/environments/dev/objects?type=TMPL', expect: all(200, { outsider: 404 }) },
  { action: 'read an object', method: 'GET', url: () => '/api/v1/environments/dev/objects/TMPL/t1', expect: all(200, { outsider: 404 }) },
  {
    action: 'put an object',
    method: 'PUT',
    url: (_c, who) => `/api/v1/environments/dev/objects/GROUP/g-${who}`,
    body: (_c, who) => ({ name: `Group of ${who}`, fields: {} }),
    expect: all(403, { admin: 200, envadmin: 200, outsider: 404 }),
  },
  {
    action: 'bulk-load objects',
    method: 'POST',
    url: () => '/api/v1/environments/dev/objects',
    body: (_c, who) => [{ type: 'GROUP', id: `bulk-${who}`, name: `Bulk ${who}`, fields: {} }],
    expect: all(403, { admin: 200, envadmin: 200, outsider: 404 }),
  },
  {
    action: 'delete an object',
    method: 'DELETE',
    setup: async (c, who) => {
      const r = await c.s.call(ADMIN_KEY, 'PUT', `/api/v1/environments/dev/objects/GROUP/del-${who}`, { name: `Doomed ${who}` });
      assert.equal(r.status, 200, r.text);
      return {};
    },
    url: (_c, who) => `/api/v1/environments/dev/objects/GROUP/del-${who}`,
    expect: all(403, { admin: 204, envadmin: 204, outsider: 404 }),
  },
  {
    action: 'write a server-scoped object (a user, shared by every environment)',
    method: 'PUT',
    url: (_c, who) => `/api/v1/environments/dev/objects/USER/u-${who}`,
    body: (_c, who) => ({ name: who, fields: { login: `${who}@example.test` } }),
    expect: all(403, { admin: 200, outsider: 404 }),
  },
  {
    action: 'rename an environment',
    method: 'PATCH',
    url: () => '/api/v1/environments/dev',
    body: (_c, who) => ({ name: `Development (${who})` }),
    expect: all(403, { admin: 200, envadmin: 200, outsider: 404 }),
  },
  {
    action: 'change the tier of an environment',
    method: 'PATCH',
    setup: async (c) => {
      const r = await c.s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/tierenv', { tier: 'testing' });
      assert.equal(r.status, 200, r.text);
      return {};
    },
    url: () => '/api/v1/environments/tierenv',
    body: () => ({ tier: 'preview' }),
    expect: all(404, { admin: 200, envadmin: 403 }),
  },
  {
    action: 'create an environment',
    method: 'POST',
    url: () => '/api/v1/environments',
    body: (_c, who) => ({ id: `new-${who}`, name: `New ${who}`, tier: 'development' }),
    expect: all(403, { admin: 201 }),
  },
  {
    action: 'delete an environment (dev is not empty)',
    method: 'DELETE',
    url: () => '/api/v1/environments/dev',
    expect: all(403, { admin: 409, outsider: 404 }),
  },
  {
    action: 'create a package from dev',
    method: 'POST',
    url: () => '/api/v1/packages',
    body: (_c, who) => ({ sourceEnvId: 'dev', name: `By ${who}`, objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 't1' }] }] }),
    // An environment named in a body that the caller cannot see is a 400 naming the field, as if it did not exist.
    expect: all(202, { viewer: 403, outsider: 400 }),
  },
  {
    action: 'set a package status',
    method: 'PATCH',
    url: (c) => `/api/v1/packages/${c.pkg}`,
    body: () => ({ status: 'ACTIVE' }),
    expect: all(200, { viewer: 403, outsider: 404 }),
  },
  { action: 'read a package', method: 'GET', url: (c) => `/api/v1/packages/${c.pkg}/definition`, expect: all(200, { outsider: 404 }) },
  {
    action: 'prepare into production',
    method: 'POST',
    url: (c) => `/api/v1/packages/${c.pkg}/plans`,
    body: () => ({ targetEnvId: 'prod' }),
    expect: all(201, { devpromoter: 403, viewer: 403, outsider: 404 }),
  },
  {
    action: 'override and re-validate a production plan',
    method: 'POST',
    setup: async (c) => ({ inst: await prepare(c, 'prod') }),
    url: (_c, _w, p) => `/api/v1/installations/${p.inst}/revalidate`,
    body: () => ({ overrides: [] }),
    expect: all(200, { devpromoter: 403, viewer: 403, outsider: 404 }),
  },
  {
    action: 'install into production',
    method: 'POST',
    setup: async (c) => ({ inst: await prepare(c, 'prod') }),
    url: (_c, _w, p) => `/api/v1/installations/${p.inst}/install`,
    expect: all(202, { devpromoter: 403, viewer: 403, outsider: 404 }),
  },
  {
    action: 'install into development',
    method: 'POST',
    setup: async (c) => ({ inst: await prepare(c, 'dev') }),
    url: (_c, _w, p) => `/api/v1/installations/${p.inst}/install`,
    expect: all(202, { viewer: 403, outsider: 404 }),
  },
  {
    action: 'roll back a production install',
    method: 'POST',
    setup: async (c) => ({ inst: await installNow(c, 'prod') }),
    url: (_c, _w, p) => `/api/v1/installations/${p.inst}/rollback`,
    expect: all(200, { devpromoter: 403, viewer: 403, outsider: 404 }),
  },
  { action: 'export a package', method: 'POST', url: (c) => `/api/v1/packages/${c.pkg}/export`, expect: all(202, { viewer: 403, outsider: 404 }) },
  {
    action: 'upload a bundle',
    method: 'POST',
    url: () => '/api/v1/files?name=b.ferry',
    raw: true,
    body: (c) => c.bundle,
    expect: all(201, { viewer: 403, outsider: 403 }),
  },
  {
    action: 'import into production (dry run)',
    method: 'POST',
    setup: async (c) => {
      const r = await c.s.call(ADMIN_KEY, 'POST', '/api/v1/files?name=b.ferry', c.bundle, { 'content-type': 'application/octet-stream' });
      assert.equal(r.status, 201, r.text);
      return { file: r.body.id as string };
    },
    url: () => '/api/v1/imports',
    body: (_c, _w, p) => ({ fileId: p.file, targetEnvId: 'prod', dryRun: true }),
    // The admin's upload is not theirs to see: 404 before any role check.
    expect: all(404, { admin: 202 }),
  },
  {
    action: 'read an operation on dev',
    method: 'GET',
    setup: async (c) => {
      const r = await c.s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${c.pkg}/export`);
      await c.s.waitOp(ADMIN_KEY, r.body.operation.id);
      return { op: r.body.operation.id as string };
    },
    url: (_c, _w, p) => `/api/v1/operations/${p.op}`,
    expect: all(200, { outsider: 404 }),
  },
  {
    action: 'cancel a finished operation on dev',
    method: 'POST',
    setup: async (c) => {
      const r = await c.s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${c.pkg}/export`);
      await c.s.waitOp(ADMIN_KEY, r.body.operation.id);
      return { op: r.body.operation.id as string };
    },
    url: (_c, _w, p) => `/api/v1/operations/${p.op}/cancel`,
    expect: all(409, { viewer: 403, outsider: 404 }),
  },
  {
    action: 'read the audit log of dev',
    method: 'GET',
    url: () => '/api/v1/audit?environmentId=dev',
    expect: all(403, { admin: 200, envadmin: 200, outsider: 404 }),
  },
  { action: 'read the whole audit log', method: 'GET', url: () => '/api/v1/audit', expect: all(403, { admin: 200 }) },
  { action: 'read your own audit entries', method: 'GET', url: (_c, who) => `/api/v1/audit?actor=${who}`, expect: all(200) },
  {
    action: 'create a user',
    method: 'POST',
    url: () => '/api/v1/users',
    body: (_c, who) => ({ username: `made-by-${who}`, password: 'long enough', roles: { dev: 'viewer' } }),
    expect: all(403, { admin: 201 }),
  },
  { action: 'list users', method: 'GET', url: () => '/api/v1/users', expect: all(403, { admin: 200 }) },
  { action: 'create your own API key', method: 'POST', url: () => '/api/v1/api-keys', body: () => ({ name: 'mine' }), expect: all(201) },
  {
    action: 'create an API key for someone else',
    method: 'POST',
    url: () => '/api/v1/api-keys',
    body: () => ({ username: 'viewer', name: 'theirs' }),
    expect: all(403, { admin: 201, viewer: 201 }),
  },
];

for (const dialect of DIALECTS) {
  describe(`auth on ${dialect}`, () => {
    let s: TestServer;
    const keys = {} as Record<Who, string>;
    const ctx = {} as Ctx;

    before(async () => {
      s = await openTestServer(dialect);
      ctx.s = s;
      keys.admin = ADMIN_KEY;
      for (const [id, tier] of [
        ['dev', 'development'],
        ['prod', 'production'],
        ['tierenv', 'testing'],
        ['other', 'development'],
      ] as const) {
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: id, tier })).status, 201);
      }
      const load = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [
        { type: 'GROUP', id: 'g1', name: 'Default Group', fields: {} },
        { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1' } },
        { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1' } },
      ]);
      assert.equal(load.status, 200, load.text);
      for (const who of WHO) if (who !== 'admin') keys[who] = await s.user(who, ROLES[who]);
      const p = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'Matrix',
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 't1' }] }],
      });
      assert.equal((await s.waitOp(ADMIN_KEY, p.body.operation.id)).status, 'COMPLETED');
      ctx.pkg = p.body.package.id;
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${ctx.pkg}`, { status: 'ACTIVE' })).status, 200);
      const ex = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${ctx.pkg}/export`);
      const op = await s.waitOp(ADMIN_KEY, ex.body.operation.id);
      const dl = await s.app.inject({ method: 'GET', url: (op.result as { downloadUrl: string }).downloadUrl, headers: { apikey: ADMIN_KEY } });
      ctx.bundle = dl.rawPayload;
    });
    after(async () => s.cleanup());

    for (const row of MATRIX) {
      describe(row.action, () => {
        for (const who of WHO) {
          it(`${who}: ${row.expect[who]}`, async () => {
            const prep = row.setup ? await row.setup(ctx, who) : {};
            const body = row.body?.(ctx, who, prep);
            const r = await s.call(keys[who], row.method, row.url(ctx, who, prep), body, row.raw ? { 'content-type': 'application/octet-stream' } : {});
            assert.equal(r.status, row.expect[who], `${who} ${row.method} ${row.url(ctx, who, prep)}: ${r.text}`);
            if (r.status >= 400) {
              assert.deepEqual(Object.keys(r.body).sort(), ['code', 'message']);
              assert.equal(r.body.code, { 403: 'FORBIDDEN', 404: 'NOT_FOUND', 409: r.body.code }[r.status as 403 | 404 | 409] ?? r.body.code);
            }
            // Let an accepted operation finish before the next row (installs move the target's version).
            if (r.status === 202) await s.waitOp(ADMIN_KEY, r.body.operation.id);
          });
        }
      });
    }

    describe('credentials', () => {
      it('no credential is a 401 with a JSON error, before the body is even looked at', async () => {
        const r = await s.call(null, 'POST', '/api/v1/environments', '{not json', { 'content-type': 'application/json' });
        assert.equal(r.status, 401);
        assert.equal(r.body.code, 'UNAUTHORIZED');
        assert.equal(r.headers['www-authenticate'], 'Bearer realm="ferry"');
      });

      it('an unknown key is a 401 in every header form', async () => {
        for (const h of [
          { authorization: 'Bearer nope' },
          { apikey: 'nope' },
          { sessionid: 'nope' },
          { 'x-mstr-authtoken': 'nope' },
          { authorization: 'Basic abc' },
        ] as Record<string, string>[]) {
          const r = await s.call(null, 'GET', '/api/v1/environments', undefined, h);
          assert.equal(r.status, 401, JSON.stringify(h));
        }
      });

      it('accepts an API key as Authorization: Bearer and as apikey', async () => {
        for (const h of [{ authorization: `Bearer ${keys.viewer}` }, { apikey: keys.viewer }] as Record<string, string>[]) {
          const r = await s.call(null, 'GET', '/api/v1/auth/me', undefined, h);
          assert.equal(r.status, 200);
          assert.deepEqual(r.body, { username: 'viewer', admin: false, roles: ROLES.viewer, credential: 'api-key' });
        }
      });

      it('logs in with a password: a session token accepted as Bearer, sessionID and X-MSTR-AuthToken; logout ends it', async () => {
        assert.equal((await s.call(ADMIN_KEY, 'PATCH', '/api/v1/users/viewer', { password: 'correct horse' })).status, 200);
        const bad = await s.call(null, 'POST', '/api/v1/auth/login', { username: 'viewer', password: 'wrong password' });
        assert.equal(bad.status, 401);
        const ghost = await s.call(null, 'POST', '/api/v1/auth/login', { username: 'nobody', password: 'wrong password' });
        assert.deepEqual(ghost.body, bad.body, 'an unknown user and a wrong password answer alike');
        const ok = await s.call(null, 'POST', '/api/v1/auth/login', { username: 'viewer', password: 'correct horse' });
        assert.equal(ok.status, 200, ok.text);
        assert.ok(Date.parse(ok.body.expiresAt) > Date.now(), 'expires in the future');
        const token = ok.body.token as string;
        for (const h of [{ authorization: `Bearer ${token}` }, { sessionid: token }, { 'x-mstr-authtoken': token }] as Record<string, string>[]) {
          const me = await s.call(null, 'GET', '/api/v1/auth/me', undefined, h);
          assert.equal(me.status, 200, JSON.stringify(h));
          assert.equal(me.body.credential, 'session');
        }
        // A session token is not an API key.
        assert.equal((await s.call(null, 'GET', '/api/v1/auth/me', undefined, { apikey: token })).status, 401);
        assert.equal((await s.call(null, 'POST', '/api/v1/auth/logout', undefined, { sessionid: token })).status, 204);
        assert.equal((await s.call(null, 'GET', '/api/v1/auth/me', undefined, { sessionid: token })).status, 401);
        const audit = await s.call(ADMIN_KEY, 'GET', '/api/v1/audit?actor=viewer');
        const logins = audit.body.items.filter((e: { action: string }) => e.action === 'auth.login').map((e: { result: string }) => e.result);
        assert.deepEqual(logins.sort(), ['failed', 'ok']);
      });

      it('sessions expire', async () => {
        const short = await openTestServer(dialect, { config: { sessionTtlMs: 50 } });
        try {
          await short.user('temp', {}, { password: 'a long password' });
          const before = Date.now();
          const ok = await short.call(null, 'POST', '/api/v1/auth/login', { username: 'temp', password: 'a long password' });
          // That a fresh session works is tested above; here only that it ends after the configured time
          // (a check within 50 ms of the login would depend on the machine's load).
          const expiresAt = Date.parse(ok.body.expiresAt as string);
          assert.ok(expiresAt >= before + 50 && expiresAt <= Date.now() + 50, `expiresAt ${ok.body.expiresAt} is the login time + 50 ms`);
          await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 30));
          assert.equal((await short.call(ok.body.token, 'GET', '/api/v1/auth/me')).status, 401);
        } finally {
          await short.cleanup();
        }
      });

      it('API keys: shown once, stored hashed, listed without the key, revocable', async () => {
        const made = await s.call(keys.promoter, 'POST', '/api/v1/api-keys', { name: 'ci' });
        assert.equal(made.status, 201);
        const key = made.body.key as string;
        assert.match(key, /^fry_/);
        const list = await s.call(keys.promoter, 'GET', '/api/v1/api-keys');
        assert.ok(list.body.items.length >= 2, 'own keys listed');
        assert.ok(!list.text.includes(key), 'the key is never listed');
        assert.ok(
          list.body.items.every((k: { username: string }) => k.username === 'promoter'),
          'only your own keys',
        );
        assert.equal((await s.call(keys.promoter, 'GET', '/api/v1/api-keys?username=viewer')).status, 403);
        const rows = await s.t.engine.store.db
          .selectFrom('api_keys' as never)
          .selectAll()
          .execute();
        assert.ok(!JSON.stringify(rows).includes(key), 'the database holds only a hash');
        assert.equal((await s.call(key, 'GET', '/api/v1/auth/me')).status, 200);
        // Someone else's key id answers like an unknown one.
        assert.equal((await s.call(keys.viewer, 'DELETE', `/api/v1/api-keys/${made.body.id}`)).status, 404);
        assert.equal((await s.call(keys.promoter, 'DELETE', `/api/v1/api-keys/${made.body.id}`)).status, 200);
        assert.equal((await s.call(key, 'GET', '/api/v1/auth/me')).status, 401);
        assert.equal((await s.call(keys.promoter, 'DELETE', `/api/v1/api-keys/${made.body.id}`)).status, 409);
      });

      it('a user may change their own password but not their roles', async () => {
        assert.equal((await s.call(keys.viewer, 'PATCH', '/api/v1/users/viewer', { password: 'another password' })).status, 200);
        assert.equal((await s.call(keys.viewer, 'PATCH', '/api/v1/users/viewer', { roles: { prod: 'admin' } })).status, 403);
        assert.equal((await s.call(keys.viewer, 'PATCH', '/api/v1/users/promoter', { password: 'another password' })).status, 403);
        assert.equal((await s.call(keys.viewer, 'GET', '/api/v1/users/promoter')).status, 403);
        assert.equal((await s.call(keys.viewer, 'GET', '/api/v1/users/viewer')).status, 200);
      });

      it('user input is checked: unknown environments and roles are 400s naming the field; the last admin stays', async () => {
        const r1 = await s.call(ADMIN_KEY, 'POST', '/api/v1/users', { username: 'x1', roles: { nowhere: 'viewer' } });
        assert.equal(r1.status, 400);
        assert.match(r1.body.message, /roles\.nowhere/);
        const r2 = await s.call(ADMIN_KEY, 'POST', '/api/v1/users', { username: 'x2', roles: { dev: 'owner' } });
        assert.equal(r2.status, 400);
        assert.match(r2.body.message, /roles\.dev/);
        const r3 = await s.call(ADMIN_KEY, 'POST', '/api/v1/users', { username: 'x3', password: 'short' });
        assert.equal(r3.status, 400);
        assert.match(r3.body.message, /password/);
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/users', { username: 'viewer' })).status, 409);
        assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/users/admin')).status, 409);
      });

      it('a user name that differs from another only in case is refused: "Admin" would pass for admin in the audit log', async () => {
        for (const username of ['Admin', 'ADMIN', 'Viewer']) {
          const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/users', { username, password: 'long enough' });
          assert.equal(r.status, 409, r.text);
          assert.equal(r.body.code, 'USER_EXISTS');
          assert.equal(r.body.message, `user ${username} differs from the existing user ${username.toLowerCase()} only in case; choose another name`);
        }
        assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/users/Admin')).status, 404);
      });

      it('deleting a user revokes their keys', async () => {
        const k = await s.user('leaver', { dev: 'viewer' });
        assert.equal((await s.call(k, 'GET', '/api/v1/environments/dev')).status, 200);
        assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/users/leaver')).status, 204);
        assert.equal((await s.call(k, 'GET', '/api/v1/environments/dev')).status, 401);
      });
    });
  });
}
