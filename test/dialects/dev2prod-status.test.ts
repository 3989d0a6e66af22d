// The fields of GET .../dev2prod/import/{id} that follow the server's state
// rather than the import: `SystemLocked`/`StudioLocked` while an install holds
// the tenant, `TimeToLive` counting down to the file's removal. In process,
// where a test can hold the install lock and shorten the retention.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { DIALECTS } from '../support/engines.js';
import { holdLock } from '../support/locks.js';
import { startDialectServer, type DialectServer } from './harness.js';
import { Dev2Prod, PASSWORD, SOURCE, SOURCE_OBJECTS, sourcePackage } from './dev2prod-client.js';

const TARGET = '987654321';
const RETENTION_MS = 4000;

for (const db of DIALECTS) {
  describe(`dev2prod import status follows the tenant's lock and the file's retention [in process, ${db}]`, () => {
    let app: FastifyInstance;
    let stop: () => Promise<void>;
    let s: DialectServer;
    let client: Dev2Prod;
    let status: any;

    before(async () => {
      const running = await startDialectServer({ kind: 'in-process', db }, { config: { fileRetentionMs: RETENTION_MS } });
      s = running.server;
      app = running.app!;
      stop = () => running.stop();
      await s.environment({ id: SOURCE, name: 'Development', tier: 'development' });
      await s.native('POST', '/environments', { id: TARGET, name: 'Production', tier: 'production', parameters: { statusBase: 'https://s.example' } });
      await s.objects(SOURCE, SOURCE_OBJECTS);
      const pkg = await sourcePackage(s);
      await s.user('release', { [SOURCE]: 'promoter', [TARGET]: 'promoter' }, { password: PASSWORD });
      client = await Dev2Prod.login(s, 'release');
      const fileId = (await client.waitExport(SOURCE, await client.exportPackage(SOURCE, pkg.id))).FileId as string;
      status = await client.importFile(TARGET, fileId, true);
    });
    after(async () => stop());

    it('SystemLocked and StudioLocked are true while an install holds the tenant', async () => {
      const path = `/rest/${TARGET}/dev2prod/import/${status.id}`;
      assert.equal(status.SystemLocked, false);
      const store = app.ferry.engine.store;
      assert.ok(await holdLock(store, TARGET, 'an-install'));
      try {
        const locked = (await client.call('GET', path)).json;
        assert.equal(locked.SystemLocked, true);
        assert.equal(locked.StudioLocked, true);
        assert.deepEqual(locked.Results, status.Results);
      } finally {
        await store.locks.releaseHeldBy(TARGET, 'an-install');
      }
      assert.equal((await client.call('GET', path)).json.SystemLocked, false);
    });

    it('TimeToLive counts down to the removal of the file, then stays 0', async () => {
      assert.ok(status.TimeToLive > 0 && status.TimeToLive <= RETENTION_MS, String(status.TimeToLive));
      await new Promise((r) => setTimeout(r, status.TimeToLive + 50));
      const gone = (await client.call('GET', `/rest/${TARGET}/dev2prod/import/${status.id}`)).json;
      assert.equal(gone.TimeToLive, 0);
      assert.equal(gone.Status, 'COMPLETED');
      // The file itself is gone from the repository: downloading or importing it again is refused.
      assert.equal((await client.call('GET', `/rest/${TARGET}/ces/attachment/${status.FileId}`)).status, 404);
      assert.equal((await client.call('POST', `/rest/${TARGET}/dev2prod/import?dryRun=true`, { json: { FileId: status.FileId } })).status, 400);
    });
  });
}
