// Status calls polled hard (the promotion face's package and installation)
// answer from what was built at most 250 ms ago while this process writes
// nothing (src/server/recent-answers.ts, src/store/write-clock.ts). A change
// made through this server shows at the very next poll; one made by another
// process sharing the database within 250 ms; an answer kept for one caller
// is never given to another.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Store } from '../../src/store/store.js';
import { RecentAnswers } from '../../src/server/recent-answers.js';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

const P = '/environment-promotion/api/v1';

for (const dialect of DIALECTS) {
  describe(`recent answers of status calls [${dialect}]`, () => {
    let s: TestServer;
    let pkgId = '';
    const asAdmin = { apikey: ADMIN_KEY };
    const status = async (key: Record<string, string> = asAdmin) => s.call(null, 'GET', `${P}/packages/${pkgId}`, undefined, key);

    before(async () => {
      s = await openTestServer(dialect);
      await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'dev', name: 'Development', tier: 'development' });
      await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'other', name: 'Other', tier: 'development' });
      await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', [{ type: 'PORT', id: 'p1', name: 'Portfolio', fields: {} }]);
      const made = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'One portfolio',
        objectCollections: [{ objCode: 'PORT', entities: [{ ID: 'p1' }] }],
      });
      assert.equal(made.status, 202, made.text);
      pkgId = made.body.package.id;
      await s.waitOp(ADMIN_KEY, made.body.operation.id);
    });
    after(async () => s.cleanup());

    it('counts writes (statements and the end of a transaction), never reads', async () => {
      const clock = s.t.engine.store.writes!;
      const at = clock.now;
      await s.t.engine.store.packages.get(pkgId);
      await sql`select 1`.execute(s.t.engine.store.db);
      assert.equal(clock.now, at, 'a read ticked the clock');
      await s.t.engine.store.transaction(async (tx) => {
        const pkg = (await tx.packages.get(pkgId))!;
        await tx.packages.update({ ...pkg, description: 'counted' });
      });
      assert.ok(clock.now > at + 1, 'an update in a transaction ticks for the statement and again at its end');
    });

    it('a change made through this server shows at the very next poll', async () => {
      assert.equal((await status()).body.data.status, 'DRAFT');
      assert.equal((await status()).body.data.status, 'DRAFT');
      const patched = await s.call(null, 'PATCH', `${P}/packages/${pkgId}`, { status: 'TESTING' }, asAdmin);
      assert.equal(patched.status, 200, patched.text);
      assert.equal((await status()).body.data.status, 'TESTING');
      const renamed = await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkgId}`, { name: 'Renamed' });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal((await status()).body.data.name, 'Renamed');
    });

    it('an answer kept for one caller is never given to another', async () => {
      const outsider = await s.user('outsider', { other: 'admin' });
      // Their key is checked once first: a first use of a key is recorded, which is a write.
      const missing = await s.call(null, 'GET', `${P}/packages/no-such-package`, undefined, { apikey: outsider });
      assert.equal((await status()).status, 200);
      const theirs = await status({ apikey: outsider });
      assert.equal(theirs.status, 404);
      assert.equal(theirs.text.replace(pkgId, 'X'), missing.text.replace('no-such-package', 'X'));
    });

    it('a change made by another process shows within 250 ms', async () => {
      const t = s.t;
      const other = await Store.open(t.databaseUrl ? { databaseUrl: t.databaseUrl, schema: t.schema, migrate: false } : { dataDir: t.dataDir, migrate: false });
      try {
        const before = (await status()).body.data.description;
        const pkg = (await other.packages.get(pkgId))!;
        await other.packages.update({ ...pkg, description: `${before ?? ''} changed elsewhere` });
        await new Promise((r) => setTimeout(r, RecentAnswers.TTL_MS + 50));
        assert.equal((await status()).body.data.description, `${before ?? ''} changed elsewhere`);
      } finally {
        await other.close();
      }
    });
  });
}
