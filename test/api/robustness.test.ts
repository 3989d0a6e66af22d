import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';
import { craftBundle, deepEntityLine, sameIdLines } from '../support/bundles.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** Clear 4xx for bad input, the server stays up, nothing is written. */
for (const dialect of DIALECTS) {
  describe(`bad requests on ${dialect}`, () => {
    let s: TestServer;
    let version = 0;

    before(async () => {
      s = await openTestServer(dialect, { config: { bodyLimit: 64 * 1024, uploadLimit: 32 * 1024 } });
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'dev', name: 'Dev', tier: 'development' })).status, 201);
      version = (await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev')).body.version;
    });
    after(async () => s.cleanup());

    /** Every error is `{code, message}` JSON, never a stack trace. */
    const isError = (r: { status: number; body: unknown; text: string }, status: number, code: string, message?: RegExp) => {
      assert.equal(r.status, status, r.text);
      assert.deepEqual(Object.keys(r.body as object).sort(), ['code', 'message'], r.text);
      assert.equal((r.body as { code: string }).code, code, r.text);
      if (message) assert.match((r.body as { message: string }).message, message);
      assert.ok(!/\n\s+at /.test(r.text) && !r.text.includes('.ts:'), `no stack trace: ${r.text}`);
    };

    it('GET /api/v1/health answers without credentials', async () => {
      const r = await s.call(null, 'GET', '/api/v1/health');
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.database, dialect);
    });

    it('malformed JSON is a 400 INVALID_JSON', async () => {
      for (const body of ['{"id": "x",', '{id: x}', 'null', '[1,2', '{"id":"x"}garbage']) {
        const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', body, JSON_TYPE);
        assert.ok(r.status === 400, `${body}: ${r.status}`);
        assert.ok(['INVALID_JSON', 'INVALID_REQUEST'].includes(r.body.code), `${body}: ${r.text}`);
      }
      isError(await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', '{"id": "x",', JSON_TYPE), 400, 'INVALID_JSON');
      isError(await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', '', JSON_TYPE), 400, 'INVALID_JSON');
    });

    it('a JSON syntax error names its line and column, and what was expected there', async () => {
      const cases: [string, RegExp][] = [
        ['{\n  "id": "x",\n  "name": "X"\n  "tier": "testing"\n}', /line 4, column 3: expected ',' or '}' after a property value/],
        ['{\n  "id": "x",\n}', /line 3, column 1: expected a property name in double quotes, found '}'/],
        ["{'id': 'x'}", /line 1, column 2: expected a property name in double quotes, found '''/],
        ['{"id": "x", "name": undefined}', /line 1, column 21: expected a value, found 'u'/],
        ['{"id": "x"', /line 1, column 11: .*found the end of the input/],
      ];
      for (const [body, message] of cases) {
        isError(await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', body, JSON_TYPE), 400, 'INVALID_JSON', message);
      }
      // The faces that parse JSON themselves say the same.
      const face = await s.call(ADMIN_KEY, 'POST', '/rest/dev/dev2prod/export/types/1', '{\n  "x": ,\n}', JSON_TYPE);
      assert.equal(face.status, 400, face.text);
      assert.match(face.text, /line 2, column 8: expected a value/);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments')).body.total, 1, 'nothing was created');
    });

    it('an unknown type says where the list of types is, with the closest codes', async () => {
      for (const r of [
        await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects?type=TMPX'),
        await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
          sourceEnvId: 'dev',
          name: 'p',
          objectCollections: [{ objCode: 'TMPX', entities: [{ ID: 'x' }] }],
        }),
      ]) {
        isError(r, 400, 'INVALID_REQUEST', /unknown type TMPX \(did you mean TMPL\?\); `ferry catalog` or GET \/api\/v1\/catalog lists the types/);
      }
    });

    it('a mistyped environment id in a body is a 400 naming the field, with the closest ids the caller may see; an unseen one reads the same', async () => {
      for (const id of ['dev-a', 'dev-b', 'secret-dev']) {
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: id, tier: 'development' })).status, 201);
      }
      const kim = await s.user('kim', { dev: 'promoter', 'dev-a': 'viewer' });
      const pkg = (sourceEnvId: string) => ({ sourceEnvId, name: 'p', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'x' }] }] });
      const typo = await s.call(kim, 'POST', '/api/v1/packages', pkg('deb'));
      isError(typo, 400, 'INVALID_REQUEST', /^sourceEnvId: no environment deb \(did you mean dev\?\); GET \/api\/v1\/environments/);
      // Closest among those kim sees: dev and dev-a, never dev-b or secret-dev.
      const near = await s.call(kim, 'POST', '/api/v1/packages', pkg('dev-c'));
      isError(near, 400, 'INVALID_REQUEST', /did you mean dev-a\?/);
      assert.ok(!near.text.includes('dev-b'), near.text);
      const hidden = await s.call(kim, 'POST', '/api/v1/packages', pkg('secret-dev'));
      const ghost = await s.call(kim, 'POST', '/api/v1/packages', pkg('secret-dew'));
      isError(hidden, 400, 'INVALID_REQUEST');
      assert.equal(
        hidden.body.message.replace('secret-dev', 'X'),
        ghost.body.message.replace('secret-dew', 'X'),
        'an unseen environment reads like a missing one',
      );
      assert.ok(!hidden.text.includes('dev-b'), hidden.text);
      // The server admin sees every environment; the fields of other bodies are named too.
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'copy', name: 'Copy', tier: 'testing', cloneFrom: 'dev-bb' }),
        400,
        'INVALID_REQUEST',
        /^cloneFrom: no environment dev-bb \(did you mean dev-b\?\)/,
      );
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/users', { username: 'lee', roles: { 'dev-z': 'viewer' } }),
        400,
        'INVALID_REQUEST',
        /^roles\.dev-z: no environment dev-z \(did you mean/,
      );
      for (const id of ['dev-a', 'dev-b', 'secret-dev']) assert.equal((await s.call(ADMIN_KEY, 'DELETE', `/api/v1/environments/${id}`)).status, 204);
    });

    it('wrong types, missing and unknown fields are 400s that name the field', async () => {
      const cases: [unknown, RegExp][] = [
        [{ id: 'x', name: 5, tier: 'development' }, /body\.name must be string/],
        [{ id: 'x', name: 'X', tier: 'dev' }, /body\.tier must be one of development, testing, preview, production/],
        [{ id: 'x', tier: 'development' }, /body\.name is required/],
        [{ id: 'x', name: 'X', tier: 'development', hosts: 'a.example' }, /body\.hosts must be array/],
        [{ id: 'x', name: 'X', tier: 'development', hosts: [7] }, /body\.hosts\[0\] must be string/],
        [{ id: 'x', name: 'X', tier: 'development', colour: 'blue' }, /body\.colour is not a known field/],
        [{ id: 'bad id!', name: 'X', tier: 'development' }, /body\.id/],
        [[], /body must be object/],
      ];
      for (const [body, message] of cases) isError(await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', body), 400, 'INVALID_REQUEST', message);
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [{ type: 'TMPL', id: 't1' }]),
        400,
        'INVALID_REQUEST',
        /body\[0\]\.name is required/,
      );
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [{ type: 'NOPE', id: 't1', name: 'x' }]),
        400,
        'INVALID_REQUEST',
        /unknown type NOPE/,
      );
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [{ type: 'TMPL', id: 't1', name: 'x', fields: { groupID: 5 } }]),
        400,
        'INVALID_REQUEST',
        /groupID/,
      );
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects?limit=many'), 400, 'INVALID_REQUEST', /querystring\.limit must be integer/);
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects?limit=0'), 400, 'INVALID_REQUEST', /querystring\.limit/);
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects?type=NOPE'), 400, 'INVALID_REQUEST', /unknown type NOPE/);
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', { sourceEnvId: 'dev', name: 'p', objectCollections: [] }),
        400,
        'INVALID_REQUEST',
        /objectCollections/,
      );
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
          sourceEnvId: 'dev',
          name: 'p',
          objectCollections: [{ objCode: 'TMPL', entities: [{ id: 'x' }] }],
        }),
        400,
        'INVALID_REQUEST',
        /ID is required/,
      );
      isError(
        await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/dev/objects/TMPL/t1', { type: 'GROUP', name: 'x' }),
        400,
        'INVALID_REQUEST',
        /does not match the path/,
      );
      isError(await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/dev', {}), 400, 'INVALID_REQUEST');
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/audit?since=yesterday'), 400, 'INVALID_REQUEST', /since/);
    });

    it('a body over the limit is a 413 and nothing is written', async () => {
      const many = Array.from({ length: 2000 }, (_, i) => ({
        type: 'GROUP',
        id: `g${i}`,
        name: `Group number ${i} with a long name`,
        fields: { description: 'x'.repeat(20) },
      }));
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', many);
      isError(r, 413, 'PAYLOAD_TOO_LARGE', /^the request body is larger than the 64 KiB limit \(FERRY_BODY_LIMIT\); nothing was written$/);
      const ndjson = many.map((o) => JSON.stringify(o)).join('\n');
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', ndjson, { 'content-type': 'application/x-ndjson' }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      const env = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev');
      assert.equal(env.body.version, version);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects')).body.total, 0);
    });

    it('an upload over the limit is a 413 and nothing is stored; a damaged bundle is a 400 and not kept', async () => {
      const big = Buffer.alloc(40 * 1024, 7);
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/files', big, { 'content-type': 'application/octet-stream' }),
        413,
        'PAYLOAD_TOO_LARGE',
        /^the upload is larger than the 32 KiB limit \(FERRY_UPLOAD_LIMIT\); nothing was stored$/,
      );
      // Without a Content-Length (chunked), the stream is cut at the limit instead.
      const chunked = await s.app.inject({
        method: 'POST',
        url: '/api/v1/files',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        payload: Readable.from(
          (function* () {
            for (let i = 0; i < 10; i++) yield Buffer.alloc(8 * 1024, i);
          })(),
        ),
      });
      assert.equal(chunked.statusCode, 413, chunked.body);
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/files', Buffer.from('not a bundle'), { 'content-type': 'application/octet-stream' }),
        400,
        'INVALID_REQUEST',
        /gzip/,
      );
      isError(await s.call(ADMIN_KEY, 'POST', '/api/v1/files', { not: 'raw' }), 400, 'INVALID_REQUEST', /raw request body/);
      assert.deepEqual((await s.call(ADMIN_KEY, 'GET', '/api/v1/files')).body.items, []);
      assert.deepEqual(readdirSync(s.app.ferry.files.dir), []);
    });

    it('an upload of a crafted bundle (an id repeated, fields nested 10^5 deep) is a 400 naming the line, and is not kept', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-crafted-'));
      try {
        const same = join(dir, 'same.ferry');
        craftBundle(same, { GROUP: 2000 }, sameIdLines(2000));
        const deep = join(dir, 'deep.ferry');
        craftBundle(deep, { GROUP: 1 }, [deepEntityLine('deep', 100_000)]);
        const octet = { 'content-type': 'application/octet-stream' };
        isError(
          await s.call(ADMIN_KEY, 'POST', '/api/v1/files?name=same.ferry', readFileSync(same), octet),
          400,
          'INVALID_REQUEST',
          /^bundle same\.ferry: line 3 repeats GROUP:same \(first on line 2\); an object appears once in a bundle$/,
        );
        isError(
          await s.call(ADMIN_KEY, 'POST', '/api/v1/files?name=deep.ferry', readFileSync(deep), octet),
          400,
          'INVALID_REQUEST',
          /^bundle deep\.ferry: line 2: fields are nested deeper than 64 levels/,
        );
        assert.deepEqual((await s.call(ADMIN_KEY, 'GET', '/api/v1/files')).body.items, []);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('unknown routes and methods are JSON 404s, with or without credentials', async () => {
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/nope'), 404, 'NOT_FOUND', /no route GET \/api\/v1\/nope/);
      isError(await s.call(null, 'GET', '/api/v2/environments'), 404, 'NOT_FOUND');
      isError(await s.call(ADMIN_KEY, 'DELETE', '/api/v1/environments'), 404, 'NOT_FOUND');
      isError(await s.call(ADMIN_KEY, 'GET', '/'), 404, 'NOT_FOUND');
    });

    it('NUL characters, broken URL encodings and over-long path parameters are clear 4xx (never a database error)', async () => {
      isError(
        await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/dev/objects/GROUP/gx', { name: 'x', fields: { tags: ['ok', 'b\u0000d'] } }),
        400,
        'INVALID_REQUEST',
        /body\.fields\.tags\[1\] contains a NUL/,
      );
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/a%00b'), 400, 'INVALID_REQUEST', /params\.envId/);
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/audit?actor=a%00b'), 400, 'INVALID_REQUEST', /querystring\.actor/);
      isError(await s.call(null, 'POST', '/api/v1/auth/login', { username: 'a\u0000', password: 'whatever!' }), 400, 'INVALID_REQUEST', /body\.username/);
      isError(await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/%E0%A4%A'), 400, 'INVALID_REQUEST', /not a valid url component/);
      isError(await s.call(ADMIN_KEY, 'GET', `/api/v1/environments/${'a'.repeat(2000)}`), 414, 'URI_TOO_LONG');
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/gx')).status, 404);
    });

    it('fields nested deeper than 64 levels are a 400 naming the limit at every entrance; 64 levels load, prepare and export', async () => {
      const nest = (depth: number, inner = '1') => '{"a":'.repeat(depth - 1) + inner + '}'.repeat(depth - 1);
      // `fields` is level 1: these fields are exactly 64 levels deep, then 65, then far deeper.
      const ok = `{"type":"GROUP","id":"deep64","name":"Deep","fields":${nest(64, '{}')}}`;
      const tooDeep = [65, 3000, 4000, 100_000].map((d) => `{"type":"GROUP","id":"deep${d}","name":"Deep","fields":${nest(d, '{}')}}`);
      for (const item of tooDeep) {
        for (const [body, type] of [
          [`[${item}]`, JSON_TYPE],
          [item, { 'content-type': 'application/x-ndjson' }],
        ] as const) {
          const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', body, type);
          if (r.status === 413) continue; // the 100k-deep body is over this server's body limit
          isError(r, 400, 'INVALID_REQUEST', /nested deeper than (64|\d+) levels/);
        }
        const put = await s.call(
          ADMIN_KEY,
          'PUT',
          '/api/v1/environments/dev/objects/GROUP/deepput',
          `{"name":"x","fields":${item.slice(item.indexOf('"fields":') + 9, -1)}}`,
          JSON_TYPE,
        );
        if (put.status !== 413) isError(put, 400, 'INVALID_REQUEST', /nested deeper than (64|\d+) levels/);
      }
      // Arrays count as levels too.
      isError(
        await s.call(
          ADMIN_KEY,
          'PUT',
          '/api/v1/environments/dev/objects/GROUP/arr',
          `{"name":"x","fields":{"a":${'['.repeat(64)}${']'.repeat(64)}}}`,
          JSON_TYPE,
        ),
        400,
        'INVALID_REQUEST',
        /fields.*nested deeper than 64 levels/,
      );
      // A selection can carry extra properties; a deep one never reaches the recursive code behind it either.
      isError(
        await s.call(
          ADMIN_KEY,
          'POST',
          '/api/v1/packages',
          `{"sourceEnvId":"dev","name":"p","objectCollections":[{"objCode":"GROUP","entities":[{"ID":"g","x":${nest(5000)}}]}]}`,
          JSON_TYPE,
        ),
        400,
        'INVALID_REQUEST',
        /nested deeper than \d+ levels/,
      );
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/deep65')).status, 404);

      // Exactly at the limit: stored, prepared and exported like any object.
      const loaded = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', `[${ok}]`, JSON_TYPE);
      assert.equal(loaded.status, 200, loaded.text);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'deeptest', name: 'T', tier: 'testing' })).status, 201);
      const created = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'deep',
        objectCollections: [{ objCode: 'GROUP', entities: [{ ID: 'deep64' }] }],
      });
      assert.equal(created.status, 202, created.text);
      assert.equal((await s.waitOp(ADMIN_KEY, created.body.operation.id)).status, 'COMPLETED');
      const pkgId = created.body.package.id as string;
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkgId}`, { status: 'TESTING' })).status, 200);
      const plan = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkgId}/plans`, { targetEnvId: 'deeptest' });
      assert.equal(plan.status, 201, plan.text);
      const exp = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkgId}/export`);
      assert.equal(exp.status, 202, exp.text);
      const done = await s.waitOp(ADMIN_KEY, exp.body.operation.id);
      assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
    });

    it('every numeric query parameter is bounded: 2^63, 1e309, -1, NaN, 1.5 are 400s, never a 500', async () => {
      const urls = ['/api/v1/environments/dev/objects?', '/api/v1/installations?', '/api/v1/operations?', '/api/v1/audit?'];
      for (const base of urls) {
        for (const name of ['offset', 'limit']) {
          for (const v of ['9223372036854775808', '1e309', '-1', 'NaN', '1.5', '1e20', 'Infinity', '-0x10']) {
            const r = await s.call(ADMIN_KEY, 'GET', `${base}${name}=${v}`);
            isError(r, 400, 'INVALID_REQUEST', new RegExp(`querystring\\.${name}`));
          }
        }
      }
    });

    it('a lone surrogate anywhere in a JSON or NDJSON body is a 400 (invalid UTF-16), not silently changed; control characters are stored verbatim', async () => {
      const cases: [string, string, string, RegExp][] = [
        ['PUT', '/api/v1/environments/dev/objects/GROUP/s1', '{"name":"a\\ud800b"}', /body\.name is not valid UTF-16/],
        ['PUT', '/api/v1/environments/dev/objects/GROUP/s1', '{"name":"x","fields":{"t":["ok","\\udc00"]}}', /body\.fields\.t\[1\] is not valid UTF-16/],
        ['PUT', '/api/v1/environments/dev/objects/GROUP/s1', '{"name":"x","fields":{"k\\udbff":1}}', /body\.fields \(a key\) is not valid UTF-16/],
        ['POST', '/api/v1/environments/dev/objects', '[{"type":"GROUP","id":"s1","name":"\\ud83d"}]', /body\[0\]\.name is not valid UTF-16/],
        ['POST', '/api/v1/environments', '{"id":"x","name":"\\udfff\\ud800","tier":"development"}', /body\.name is not valid UTF-16/],
        ['POST', '/api/v1/auth/login', '{"username":"\\ud800","password":"whatever!"}', /body\.username is not valid UTF-16/],
      ];
      for (const [method, url, body, message] of cases) {
        isError(await s.call(ADMIN_KEY, method as 'PUT', url, body, JSON_TYPE), 400, 'INVALID_REQUEST', message);
      }
      isError(
        await s.call(
          ADMIN_KEY,
          'POST',
          '/api/v1/environments/dev/objects',
          '{"type":"GROUP","id":"s1","name":"ok"}\n{"type":"GROUP","id":"s2","name":"\\ud800"}\n',
          {
            'content-type': 'application/x-ndjson',
          },
        ),
        400,
        'INVALID_REQUEST',
        /body\[1\]\.name is not valid UTF-16/,
      );
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/s1')).status, 404, 'nothing was written');
      // A surrogate pair (an emoji) is well-formed; control characters, ANSI escapes and bidi overrides are kept as sent.
      const name = 'Ops \ud83d\ude80 \u001b[31mred\u001b[0m \u202eevil\u202c \u0007\u0085';
      const put = await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/dev/objects/GROUP/s3', { name, fields: { note: '\u001b]0;title\u0007' } });
      assert.equal(put.status, 200, put.text);
      const got = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/s3');
      assert.equal(got.body.name, name);
      assert.equal(got.body.fields.note, '\u001b]0;title\u0007');
    });

    it('an unsupported content type is a 415', async () => {
      isError(await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', '<env/>', { 'content-type': 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('loads objects as NDJSON; a bad line is a 400 naming it and writes nothing', async () => {
      const good = '{"type":"GROUP","id":"g1","name":"One"}\n\n{"type":"GROUP","id":"g2","name":"Two","fields":{"description":"d"}}\n';
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', good, { 'content-type': 'application/x-ndjson' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.written, 2);
      const bad = '{"type":"GROUP","id":"g3","name":"Three"}\n{"type":"GROUP", "id":\n';
      isError(
        await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', bad, { 'content-type': 'application/x-ndjson' }),
        400,
        'INVALID_JSON',
        /line 2/,
      );
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/g3')).status, 404);
      // A GET answer can be sent back as is (computed fields are ignored).
      const g1 = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/g1');
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [g1.body])).status, 200);
      assert.equal((await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/dev/objects/GROUP/g1', g1.body)).status, 200);
    });

    it('a refused change is audited with the reason; the server keeps answering', async () => {
      const audit = await s.call(ADMIN_KEY, 'GET', '/api/v1/audit?environmentId=dev');
      const refused = audit.body.items.filter((e: { result: string }) => e.result.startsWith('refused'));
      assert.ok(
        refused.some((e: { result: string }) => e.result === 'refused 413 PAYLOAD_TOO_LARGE'),
        'the 413 is audited',
      );
      assert.ok(
        refused.some((e: { result: string }) => e.result === 'refused 400 INVALID_REQUEST'),
        'the 400 is audited',
      );
      assert.equal((await s.call(null, 'GET', '/api/v1/health')).status, 200);
    });

    it('serves the OpenAPI document with the fixed routes, and the docs page', async () => {
      const doc = await s.call(null, 'GET', '/docs/json');
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.0.3');
      const paths = doc.body.paths as Record<string, Record<string, unknown>>;
      const fixed: [string, string][] = [
        ['/api/v1/health', 'get'],
        ['/api/v1/catalog', 'get'],
        ['/api/v1/environments', 'post'],
        ['/api/v1/environments', 'get'],
        ['/api/v1/environments/{envId}', 'get'],
        ['/api/v1/environments/{envId}/objects', 'post'],
        ['/api/v1/environments/{envId}/objects', 'get'],
        ['/api/v1/environments/{envId}/objects/{type}/{objectId}', 'get'],
        ['/api/v1/environments/{envId}/objects/{type}/{objectId}', 'put'],
        ['/api/v1/environments/{envId}/objects/{type}/{objectId}', 'delete'],
        ['/api/v1/operations/{operationId}', 'get'],
        ['/api/v1/operations/{operationId}/cancel', 'post'],
        ['/api/v1/users', 'post'],
        ['/api/v1/api-keys', 'post'],
        ['/api/v1/auth/login', 'post'],
      ];
      for (const [path, method] of fixed) assert.ok(paths[path]?.[method], `OpenAPI has ${method.toUpperCase()} ${path}`);
      assert.ok(Object.keys(paths).length >= 35, `${Object.keys(paths).length} paths`);
      const page = await s.app.inject({ method: 'GET', url: '/docs' });
      assert.ok(page.statusCode === 200 || page.statusCode === 302, `docs page ${page.statusCode}`);
    });

    it('the catalog lists types with refs, includes, natural keys and parts', async () => {
      const r = await s.call(ADMIN_KEY, 'GET', '/api/v1/catalog');
      assert.equal(r.status, 200);
      const tmpl = r.body.types.TMPL;
      assert.ok(tmpl.refs && tmpl.includes.includes('TTSK') && tmpl.part, 'TMPL has refs, includes and a part');
      assert.equal(r.body.types.USER.naturalKey.fields[0], 'login');
      assert.equal((await s.call(null, 'GET', '/api/v1/catalog')).status, 401);
    });
  });
}
