/**
 * Names that are also members of every JavaScript object (`constructor`,
 * `toString`, `__proto__`...) are plain user input: as an object type, a
 * bundle's type or a `${parameter}`, they must read as unknown or missing,
 * never as the built-in member (a 500, or the text of a native function
 * written into the target).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';
import { craftBundle } from '../support/bundles.js';

const MEMBERS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

for (const dialect of DIALECTS) {
  describe(`names of built-in object members [${dialect}]`, () => {
    let s: TestServer;

    before(async () => {
      s = await openTestServer(dialect);
      const created = await Promise.all([
        s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'dev', name: 'Dev', tier: 'development' }),
        s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'prod', name: 'Prod', tier: 'production' }),
      ]);
      assert.deepEqual(
        created.map((r) => r.status),
        [201, 201],
      );
    });
    after(async () => s.cleanup());

    /** One object of dev, assembled, made ACTIVE and planned into prod: the plan and that object's entry. */
    const planFromDev = async (objCode: string, id: string) => {
      const pkg = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        name: id,
        sourceEnvId: 'dev',
        objectCollections: [{ objCode, entities: [{ ID: id }] }],
      });
      assert.equal((await s.waitOp(ADMIN_KEY, pkg.body.operation.id)).status, 'COMPLETED');
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkg.body.package.id}`, { status: 'ACTIVE' })).status, 200);
      const plan = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg.body.package.id}/plans`, { targetEnvId: 'prod' });
      assert.equal(plan.status, 201, plan.text);
      return { plan, entry: plan.body.entries.find((e: { sourceId: string }) => e.sourceId === id) };
    };

    it('an object type named after one is an unknown type (400), nothing written', async () => {
      const before = (await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev')).body.version;
      for (const type of MEMBERS) {
        const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [{ type, id: 'x', name: 'x', fields: {} }]);
        assert.equal(r.status, 400, `${type}: ${r.text}`);
        assert.match(r.body.message, /unknown type/, `${type}: ${r.text}`);
      }
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev')).body.version, before);
    });

    it('a bundle counting and holding such a type is refused by its import, nothing written', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-members-'));
      try {
        const before = (await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/prod')).body.version;
        for (const type of ['constructor', 'toString']) {
          const path = join(dir, `${type}.ferry`);
          craftBundle(path, { [type]: 1 }, [`{"fields":{},"id":"x","name":"X","type":"${type}"}`]);
          const up = await s.call(ADMIN_KEY, 'POST', `/api/v1/files?name=${type}.ferry`, readFileSync(path), { 'content-type': 'application/octet-stream' });
          assert.equal(up.status, 201, up.text);
          const known = new RegExp(`types this server's catalog does not know: ${type}`);
          // The dev2prod face reads the header before it answers; the native import finds it in its operation.
          const face = await s.call(ADMIN_KEY, 'POST', '/rest/prod/dev2prod/import', { FileId: up.body.id });
          assert.equal(face.status, 400, `${type}: ${face.text}`);
          assert.match(face.body.message, known, face.text);
          const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/imports', { fileId: up.body.id, targetEnvId: 'prod' });
          assert.equal(r.status, 202, r.text);
          const op = await s.waitOp(ADMIN_KEY, r.body.operation.id);
          assert.equal(op.status, 'FAILED', JSON.stringify(op));
          assert.match(String(op.error?.message ?? op.message), known, JSON.stringify(op));
        }
        assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/prod')).body.version, before);
        assert.deepEqual((await s.call(ADMIN_KEY, 'GET', '/api/v1/packages')).body.items, []);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a ${parameter} named after one is a missing parameter (invalid entry), never the built-in text', async () => {
      const text = MEMBERS.map((m) => '${' + m + '}').join(' ');
      assert.equal(
        (await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [{ type: 'GROUP', id: 'g', name: 'G', fields: { description: text } }])).status,
        200,
      );
      const { plan, entry } = await planFromDev('GROUP', 'g');
      assert.equal(entry.isValid, false, JSON.stringify(entry));
      for (const m of MEMBERS) assert.ok(entry.reason.includes(m), `${m} named missing: ${entry.reason}`);
      const install = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`, {});
      assert.equal(install.status, 409, install.text);
      const objects = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/prod/objects?type=GROUP');
      assert.ok(!objects.text.includes('native code'), objects.text);
    });

    it('a target-owned field named after one is a field the target lacks: the update plans and installs, nothing built-in is written', async () => {
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { targetOwned: { ROLE: MEMBERS } })).status, 200);
      const group = (env: string, description: string) =>
        s.call(ADMIN_KEY, 'POST', `/api/v1/environments/${env}/objects`, [{ type: 'ROLE', id: `${env}-ops`, name: 'Ops', fields: { description } }]);
      assert.equal((await group('dev', 'from dev')).status, 200);
      assert.equal((await group('prod', 'in prod')).status, 200);
      const { plan, entry } = await planFromDev('ROLE', 'dev-ops');
      assert.deepEqual([entry.action, entry.targetId, entry.changes], ['UPDATE', 'prod-ops', ['description']], JSON.stringify(entry));
      const install = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`, {});
      assert.equal((await s.waitOp(ADMIN_KEY, install.body.operation.id)).status, 'COMPLETED');
      const after = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/prod/objects/ROLE/prod-ops');
      assert.deepEqual(after.body.fields, { description: 'from dev' });
    });
    it("an environment whose id is one is another tenant's like any other: a user without a role there sees nothing of it", async () => {
      const alice = await s.user('alice', { dev: 'admin' });
      for (const id of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
        const secret = `SECRET-OF-${id}`;
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: secret, tier: 'production' })).status, 201);
        const load = await s.call(ADMIN_KEY, 'POST', `/api/v1/environments/${id}/objects`, [{ type: 'GROUP', id: 'g', name: secret, fields: {} }]);
        assert.equal(load.status, 200, load.text);
        const pkg = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
          name: secret,
          sourceEnvId: id,
          objectCollections: [{ objCode: 'GROUP', entities: [{ ID: 'g' }] }],
        });
        assert.equal((await s.waitOp(ADMIN_KEY, pkg.body.operation.id)).status, 'COMPLETED');
        const exported = await s.waitOp(ADMIN_KEY, (await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg.body.package.id}/export`)).body.operation.id);
        const file = (exported.result as { file: { id: string } }).file.id;
        for (const url of [
          `/api/v1/environments/${id}`,
          `/api/v1/environments/${id}/objects`,
          `/api/v1/packages/${pkg.body.package.id}`,
          `/api/v1/packages/${pkg.body.package.id}/definition`,
          `/api/v1/operations/${exported.id}`,
          `/api/v1/files/${file}`,
          `/api/v1/files/${file}/content`,
        ]) {
          const r = await s.call(alice, 'GET', url);
          assert.equal(r.status, 404, `${url}: ${r.status} ${r.text.slice(0, 200)}`);
          assert.ok(!r.text.includes(secret) && !r.text.includes('native code'), `${url}: ${r.text.slice(0, 200)}`);
        }
        for (const url of ['/api/v1/environments', '/api/v1/packages', '/api/v1/operations', '/api/v1/files', '/api/projects']) {
          const r = await s.call(alice, 'GET', url);
          assert.equal(r.status, 200, `${url}: ${r.text.slice(0, 200)}`);
          assert.ok(!r.text.includes(secret), `${url} shows ${id}: ${r.text.slice(0, 300)}`);
        }
      }
    });
    it('a key named __proto__ is refused with a 400 that names it, in a JSON body, an NDJSON line and a sync pack file; never silently dropped', async () => {
      const before = (await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev')).body.version;
      const json = await s.call(
        ADMIN_KEY,
        'POST',
        '/api/v1/environments/dev/objects',
        '[{"type":"GROUP","id":"p1","name":"P1","fields":{"__proto__":{"a":1}}}]',
        {
          'content-type': 'application/json',
        },
      );
      assert.equal(json.status, 400, json.text);
      assert.match(json.body.message, /__proto__/, json.text);
      const ndjson = await s.call(
        ADMIN_KEY,
        'POST',
        '/api/v1/environments/dev/objects',
        '{"type":"GROUP","id":"p0","name":"P0","fields":{}}\n{"type":"GROUP","id":"p2","name":"P2","fields":{"\\u005f_proto__":{"a":1},"b":2}}\n',
        { 'content-type': 'application/x-ndjson' },
      );
      assert.equal(ndjson.status, 400, ndjson.text);
      assert.match(ndjson.body.message, /line 2.*__proto__/, ndjson.text);
      const boundary = 'PROTO';
      const pack = '{"projects":[{"id":"p3","name":"P3","__proto__":{"description":"x"}}]}';
      const multipart = `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="pack.json"\r\ncontent-type: application/json\r\n\r\n${pack}\r\n--${boundary}--\r\n`;
      const sync = await s.call(ADMIN_KEY, 'POST', '/sync/dev/api/v1/admin/projects/sync/import', multipart, {
        'content-type': `multipart/form-data; boundary=${boundary}`,
      });
      assert.equal(sync.status, 400, sync.text);
      assert.match(sync.body.message, /__proto__/, sync.text);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev')).body.version, before);
    });
  });
}
