import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { ADMIN_KEY } from '../support/api.js';

/**
 * The server as an attacker meets it: password guessing, credentials in
 * URLs, and the headers every response carries. Built by hand (not
 * openTestServer) to add a route that opts in to query credentials and to
 * read the log it writes.
 */
/** Failed logins allowed per window (FERRY_LOGIN_RATE, 10 by default): fewer here, each login costs a password hash. */
const RATE = 3;

for (const dialect of DIALECTS) {
  describe(`security on ${dialect}`, () => {
    let t: TestEngine;
    let app: FastifyInstance;
    let log = '';

    before(async () => {
      t = await openTestEngine(dialect);
      const stream = new PassThrough();
      stream.on('data', (d: Buffer) => (log += d.toString('utf8')));
      app = await buildApp({
        engine: t.engine,
        config: {
          filesDir: join(t.dataDir, 'files'),
          bodyLimit: 1024 * 1024,
          uploadLimit: 1024 * 1024,
          sessionTtlMs: 3600_000,
          workers: 0,
          shutdownGraceMs: 1000,
          loginRate: RATE,
        },
        logger: { level: 'info', stream },
      });
      // A face whose document sends a credential in the query string (as some do) opts in.
      app.get('/test/query-credentials', { config: { public: true, queryCredentials: true } }, async () => ({ ok: true }));
      await app.ferry.auth.ensureFirstAdmin({ apiKey: ADMIN_KEY });
      await app.ready();
      const create = await call({ method: 'POST', url: '/api/v1/users', payload: { username: 'ann', password: 'the right password', roles: {} } });
      assert.equal(create.statusCode, 201, create.body);
      const bob = await call({ method: 'POST', url: '/api/v1/users', payload: { username: 'bob', password: 'bobs own password', roles: {} } });
      assert.equal(bob.statusCode, 201, bob.body);
    });
    after(async () => {
      await app.close();
      await t.cleanup();
    });

    const call = (o: InjectOptions & { key?: string | null }) =>
      app.inject({ ...o, headers: { ...(o.key === null ? {} : { authorization: `Bearer ${o.key ?? ADMIN_KEY}` }), ...(o.headers ?? {}) } });
    const login = (username: string, password: string, ip: string) =>
      call({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, key: null, remoteAddress: ip });

    it('failed logins are throttled per user: past the limit a try is a 429 with Retry-After, whatever the address, even with the right password', async () => {
      for (let i = 0; i < RATE; i++) assert.equal((await login('ann', `guess ${i}`, `10.0.1.${i}`)).statusCode, 401);
      const blocked = await login('ann', 'the right password', '10.0.1.200');
      assert.equal(blocked.statusCode, 429, blocked.body);
      assert.deepEqual(Object.keys(blocked.json()).sort(), ['code', 'message']);
      assert.equal(blocked.json().code, 'TOO_MANY_REQUESTS');
      assert.match(blocked.json().message, /too many failed logins; try again in \d+ seconds/);
      const retry = Number(blocked.headers['retry-after']);
      assert.ok(retry > 0 && retry <= 60, `Retry-After ${String(blocked.headers['retry-after'])}`);
      // Another user is not locked out by it.
      assert.equal((await login('bob', 'bobs own password', '10.0.1.201')).statusCode, 200);
    });

    it('failed logins are throttled per address: wrong guesses for several users, then a 429 for any user from there', async () => {
      for (let i = 0; i < RATE; i++) assert.equal((await login(`nobody${i}`, 'whatever', '10.0.2.1')).statusCode, 401);
      assert.equal((await login('bob', 'bobs own password', '10.0.2.1')).statusCode, 429);
      assert.equal((await login('bob', 'bobs own password', '10.0.2.2')).statusCode, 200);
    });

    it('successful logins are not counted', async () => {
      for (let i = 0; i < 2 * RATE; i++) assert.equal((await login('bob', 'bobs own password', '10.0.3.1')).statusCode, 200);
    });

    it('credentials in a query string are refused with a 400 saying to send a header, on every route but those that opt in', async () => {
      for (const q of ['apikey', 'APIKEY', 'sessionID', 'token', 'password', 'key', '%61pikey']) {
        for (const url of [`/api/v1/environments?${q}=${ADMIN_KEY}`, `/api/v1/health?x=1&${q}=secret`, `/api/v1/nope?${q}=secret`]) {
          const r = await call({ method: 'GET', url, key: null });
          assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
          assert.equal(r.json().code, 'CREDENTIALS_IN_QUERY');
          assert.match(r.json().message, /send credentials in a header \(Authorization: Bearer/);
        }
      }
      // Named otherwise, a value in Ferry's own key or session format is a credential all the same.
      const looksLikeKey = 'fry_PT_6cZLMNGCDUjicTKCMv-RXGASsId_XHfOYgydRsoQ';
      for (const q of ['authorization=Bearer%20' + looksLikeKey, 'JSESSIONID=abc', 'q=' + looksLikeKey, 'x=1&x=frs_Wb9MDD7SzdjwWcJvyadVeso1']) {
        const r = await call({ method: 'GET', url: `/api/v1/environments?${q}`, key: null });
        assert.equal(r.statusCode, 400, `${q}: ${r.body}`);
        assert.equal(r.json().code, 'CREDENTIALS_IN_QUERY');
      }
      assert.equal((await call({ method: 'GET', url: `/test/query-credentials?authorization=Bearer%20${looksLikeKey}`, key: null })).statusCode, 200);
      // A header credential still works, and a harmless query stays harmless.
      assert.equal((await call({ method: 'GET', url: '/api/v1/environments?monkey=1' })).statusCode, 200);
      assert.equal((await call({ method: 'GET', url: '/test/query-credentials?apikey=opted-in-secret&sessionID=also-secret', key: null })).statusCode, 200);
    });

    it('no credential from a URL reaches the log: the access log redacts them', () => {
      assert.ok(log.length > 0, 'the app logged');
      for (const secret of [ADMIN_KEY, 'opted-in-secret', 'also-secret', 'secret']) assert.ok(!log.includes(`=${secret}`), `${secret} is not in the log`);
      assert.ok(!log.includes('6cZLMNGCDUjicTKCMv'), "a key in Ferry's format is not in the log, whatever the parameter is called");
      const line = log.split('\n').find((l) => l.includes('/test/query-credentials?apikey'));
      assert.ok(line, 'the request was logged');
      assert.match(line, /apikey=\[REDACTED\]&sessionID=\[REDACTED\]/);
    });

    it('log lines never carry raw control characters: user values are logged escaped, as valid JSON with the same value', () => {
      // Whatever a route or an API face logs (a name, an error message) goes through the logger's one stream.
      const evil = 'mallory\u001b[2J\u202e\u0085\u2028\u007f\ud800';
      app.log.info({ name: evil, probe: 'control-characters' }, `refused ${evil}`);
      const lines = log.split('\n').filter((l) => l.includes('control-characters'));
      assert.equal(lines.length, 1);
      // eslint-disable-next-line no-control-regex -- what must never reach a terminal tailing the log
      const raw = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff]/;
      assert.ok(!raw.test(lines[0]!), `no raw control character in ${JSON.stringify(lines[0])}`);
      const parsed = JSON.parse(lines[0]!) as { name: string; msg: string };
      assert.equal(parsed.name, evil);
      assert.equal(parsed.msg, `refused ${evil}`);
    });

    it('every response carries security headers, with a policy under which /docs still loads its own scripts', async () => {
      const pages = [
        await call({ method: 'GET', url: '/api/v1/health', key: null }),
        await call({ method: 'GET', url: '/api/v1/environments', key: null }),
        await call({ method: 'GET', url: '/api/v1/environments' }),
        await call({ method: 'GET', url: '/api/v1/nope' }),
        await call({ method: 'GET', url: '/docs/static/index.html', key: null }),
        await call({ method: 'GET', url: '/docs', key: null }),
      ];
      for (const r of pages) {
        assert.equal(r.headers['x-content-type-options'], 'nosniff', r.raw.req.url);
        assert.ok(r.headers['x-frame-options'], 'x-frame-options');
        assert.ok(r.headers['strict-transport-security'], 'strict-transport-security');
        assert.equal(r.headers['referrer-policy'], 'no-referrer');
        const csp = String(r.headers['content-security-policy']);
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.match(csp, /object-src 'none'/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.ok(!csp.includes('upgrade-insecure-requests'), 'plain-HTTP servers keep working');
        assert.ok(!r.headers['x-powered-by']);
      }
      // The docs page loads only same-origin scripts and styles, which script-src 'self' allows.
      assert.equal(pages[4]!.statusCode, 302);
      const docs = pages[5]!;
      assert.equal(docs.statusCode, 200);
      const scripts = [...docs.body.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(scripts.length >= 3, docs.body);
      assert.ok(!/<script(?![^>]*src=)[^>]*>\s*\S/.test(docs.body), 'no inline script');
      for (const src of scripts) {
        assert.ok(!/^(https?:)?\/\//.test(src), `${src} is same-origin`);
        const js = await call({ method: 'GET', url: new URL(src, 'http://x/docs').pathname, key: null });
        assert.equal(js.statusCode, 200, src);
      }
    });
  });
}
