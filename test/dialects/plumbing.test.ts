// The shared plumbing of the API faces (src/server/dialects), through a tiny
// face defined here: credentials where a face's clients send them,
// environment resolution in the face's order, errors in the face's shape,
// its OpenAPI tag. Real HTTP to a listening server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/core/errors.js';
import type { DialectSpec } from '../../src/server/dialects/index.js';
import { DIALECTS } from '../support/engines.js';
import { eachServer, startDialectServer, type DialectServer } from './harness.js';

const echo: DialectSpec = {
  name: 'echo',
  prefix: '/echo/api',
  description: 'A face for the plumbing tests',
  environmentFrom: ['path', 'host', 'header', 'home'],
  envParam: 'tenant',
  credentials: ['bearer', 'sessionID', { cookie: 'ECHO_TOKEN' }],
  errorBody: (status, e) => ({ error: { status, kind: e.code, text: e.message } }),
  async routes(app, ctx) {
    app.get('/whoami', async (request) => {
      const env = await ctx.environment(request);
      return { user: request.principal?.username, env: env.id };
    });
    app.get('/t/:tenant/whoami', async (request) => {
      const env = await ctx.environment(request, 'promoter', 'writing here');
      return { user: request.principal?.username, env: env.id };
    });
    app.post('/things', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => {
      throw new ValidationError('no things today');
    });
    app.post('/login', { config: { public: true } }, async (request) => {
      const { username, password } = request.body as { username: string; password: string };
      const s = await ctx.ferry.auth.login(username, password, request.ip);
      return { token: s.token };
    });
  },
};

for (const db of DIALECTS) {
  describe(`API face plumbing [in process, ${db}]`, () => {
    let s: DialectServer;
    let stop: () => Promise<void>;
    let pat: string;
    let multi: string;
    before(async () => {
      const running = await startDialectServer({ kind: 'in-process', db }, { dialects: [echo] });
      s = running.server;
      stop = () => running.stop();
      await s.environment({ id: '111', name: 'Dev', tier: 'development', hosts: ['dev.example.test'] });
      await s.environment({ id: '222', name: 'Prod', tier: 'production', hosts: ['prod.example.test'] });
      await s.environment({ id: '333', name: 'Hidden', tier: 'testing' });
      pat = await s.user('pat', { '111': 'promoter' }, { password: 'a long password' });
      multi = await s.user('multi', { '111': 'viewer', '222': 'viewer' });
    });
    after(async () => stop());

    it('takes the credentials the face declares and no others', async () => {
      const bearer = await s.http('GET', '/echo/api/whoami', { headers: { authorization: `Bearer ${pat}` } });
      assert.equal(bearer.status, 200);
      assert.deepEqual(bearer.json, { user: 'pat', env: '111' });
      // An API key in the cookie the face names works like the Bearer.
      const cookie = await s.http('GET', '/echo/api/whoami', { headers: { cookie: `ECHO_TOKEN=${pat}` } });
      assert.deepEqual(cookie.json, { user: 'pat', env: '111' });
      // `apikey` is the native API's, not this face's: the face's 401, in its shape.
      const apikey = await s.http('GET', '/echo/api/whoami', { headers: { apikey: pat } });
      assert.equal(apikey.status, 401);
      assert.equal(apikey.json.error.kind, 'UNAUTHORIZED');
      assert.equal(apikey.json.error.status, 401);
      // ... while the native API still takes it.
      assert.equal((await s.http('GET', '/api/v1/environments', { headers: { apikey: pat } })).status, 200);
    });

    it('a session from a login answers as sessionID, as Bearer and as the cookie', async () => {
      const login = await s.http('POST', '/echo/api/login', { json: { username: 'pat', password: 'a long password' } });
      assert.equal(login.status, 200);
      const token = login.json.token as string;
      const variants: Record<string, string>[] = [{ sessionid: token }, { authorization: `Bearer ${token}` }, { cookie: `ECHO_TOKEN=${token}` }];
      for (const headers of variants) {
        const r = await s.http('GET', '/echo/api/whoami', { headers });
        assert.equal(r.status, 200, JSON.stringify(headers));
        assert.equal(r.json.user, 'pat');
      }
    });

    it('resolves the environment by path, then Host, then X-Ferry-Environment, then the home environment', async () => {
      const admin = { authorization: `Bearer ${s.adminKey}` };
      assert.equal((await s.http('GET', '/echo/api/t/222/whoami', { headers: { ...admin, host: 'dev.example.test' } })).json.env, '222');
      assert.equal(
        (await s.http('GET', '/echo/api/whoami', { headers: { ...admin, host: 'prod.example.test:8080', 'x-ferry-environment': '111' } })).json.env,
        '222',
      );
      assert.equal((await s.http('GET', '/echo/api/whoami', { headers: { ...admin, 'x-ferry-environment': '333' } })).json.env, '333');
      // A Host that matches no environment names none: the header decides.
      assert.equal((await s.http('GET', '/echo/api/whoami', { headers: { ...admin, host: 'elsewhere.test', 'x-ferry-environment': '111' } })).json.env, '111');
      // Nothing named: a user with a role on one environment is at home there; others are told how to name one.
      assert.equal((await s.http('GET', '/echo/api/whoami', { headers: { authorization: `Bearer ${pat}` } })).json.env, '111');
      const none = await s.http('GET', '/echo/api/whoami', { headers: { authorization: `Bearer ${multi}` } });
      assert.equal(none.status, 400);
      assert.match(none.json.error.text, /names no environment.*X-Ferry-Environment/);
    });

    it('an environment the caller cannot see reads exactly like one that does not exist; a missing role is a 403', async () => {
      const hidden = await s.http('GET', '/echo/api/t/333/whoami', { headers: { authorization: `Bearer ${pat}` } });
      const missing = await s.http('GET', '/echo/api/t/999/whoami', { headers: { authorization: `Bearer ${pat}` } });
      assert.equal(hidden.status, 404);
      assert.equal(missing.status, 404);
      assert.equal(hidden.json.error.text.replace('333', 'X'), missing.json.error.text.replace('999', 'X'));
      const viewer = await s.http('GET', '/echo/api/t/222/whoami', { headers: { authorization: `Bearer ${multi}` } });
      assert.equal(viewer.status, 403);
      assert.equal(viewer.json.error.kind, 'FORBIDDEN');
    });

    it('answers every error in the face shape: bad body, thrown error, unknown route under its prefix', async () => {
      const h = { authorization: `Bearer ${pat}` };
      const bad = await s.http('POST', '/echo/api/things', { headers: h, json: { nope: 1 } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.status, 400);
      const notJson = await s.http('POST', '/echo/api/things', { headers: { ...h, 'content-type': 'application/json' }, body: '{"name":' });
      assert.equal(notJson.status, 400);
      assert.equal(notJson.json.error.kind, 'INVALID_JSON');
      const thrown = await s.http('POST', '/echo/api/things', { headers: h, json: { name: 'x' } });
      assert.deepEqual(thrown.json, { error: { status: 400, kind: 'INVALID_REQUEST', text: 'no things today' } });
      const unknown = await s.http('GET', '/echo/api/nothing-here', { headers: h });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.error.kind, 'NOT_FOUND');
      // The native API keeps its own shape.
      const native = await s.http('GET', '/api/v1/nothing-here', { headers: h });
      assert.deepEqual(Object.keys(native.json).sort(), ['code', 'message']);
    });

    it('lists the face under its own OpenAPI tag', async () => {
      const doc = (await s.http('GET', '/docs/json')).json;
      assert.ok(doc.tags.some((t: { name: string }) => t.name === 'echo'));
      assert.deepEqual(doc.paths['/echo/api/whoami'].get.tags, ['echo']);
    });
  });
}

eachServer(
  'the contract harness against a real server process',
  (server) => {
    it('sets up users, environments and objects through the native API and drives HTTP as a client would', async () => {
      const s = server();
      await s.environment({ id: '444', name: 'Dev', tier: 'development', hosts: ['dev.harness.test'] });
      await s.objects('444', [{ type: 'ROLE', id: 'r1', name: 'Planner', fields: {} }]);
      const key = await s.user('kim', { '444': 'viewer' });
      const r = await s.http('GET', '/api/v1/environments/444/objects?type=ROLE', { headers: { apikey: key } });
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.json.items.map((o: { id: string; name: string }) => [o.id, o.name]),
        [['r1', 'Planner']],
      );
    });
  },
  [{ kind: 'process' }],
);
