// engine.recentEnvironments(): the environment list the API faces' status
// calls read (hosts, install locks), kept for at most 250 ms. A change made
// through the store shows at once, including one committed after a read
// taken inside its transaction; a change made by another process (another
// Store on the same database) shows once the 250 ms have passed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../src/store/store.js';
import { RecentEnvironments } from '../../src/store/repository.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { holdLock } from '../support/locks.js';

for (const dialect of DIALECTS) {
  describe(`recent environments [${dialect}]`, () => {
    let t: TestEngine;
    const hostsOf = async (id: string) => (await t.engine.recentEnvironment(id)).hosts;

    before(async () => {
      t = await openTestEngine(dialect);
      await t.engine.createEnvironment({ id: 'dev', name: 'Development', tier: 'development', hosts: ['dev.example.test'] });
    });
    after(async () => t.cleanup());

    it('a change of hosts made through this process shows at once', async () => {
      assert.deepEqual(await hostsOf('dev'), ['dev.example.test']);
      await t.engine.updateEnvironment('dev', { hosts: ['dev2.example.test'] });
      assert.deepEqual(await hostsOf('dev'), ['dev2.example.test']);
    });

    it('a read taken while a transaction changes hosts is not kept past its commit', async () => {
      await hostsOf('dev');
      const during = await t.engine.store.transaction(async (tx) => {
        await tx.environments.update('dev', { hosts: ['dev3.example.test'] });
        // Outside the transaction: the committed (old) rows, now the recent list.
        return hostsOf('dev');
      });
      assert.deepEqual(during, ['dev2.example.test']);
      assert.deepEqual(await hostsOf('dev'), ['dev3.example.test']);
    });

    it('an install lock taken or released through this process shows at once', async () => {
      assert.equal((await t.engine.recentEnvironment('dev')).lockedBy, null);
      assert.ok(await holdLock(t.engine.store, 'dev', 'inst-1'));
      assert.equal((await t.engine.recentEnvironment('dev')).lockedBy, 'inst-1');
      await t.engine.store.locks.releaseHeldBy('dev', 'inst-1');
      assert.equal((await t.engine.recentEnvironment('dev')).lockedBy, null);
    });

    it('a new environment shows at once, a deleted one is gone at once', async () => {
      await t.engine.recentEnvironments();
      await t.engine.createEnvironment({ id: 'prod', name: 'Production', tier: 'production' });
      assert.equal((await t.engine.recentEnvironment('prod')).id, 'prod');
      await t.engine.deleteEnvironment('prod');
      await assert.rejects(t.engine.recentEnvironment('prod'), /environment prod/);
    });

    it('a change made by another process shows within the 250 ms', async () => {
      const other = await Store.open(t.databaseUrl ? { databaseUrl: t.databaseUrl, schema: t.schema, migrate: false } : { dataDir: t.dataDir, migrate: false });
      try {
        await hostsOf('dev');
        await other.environments.update('dev', { hosts: ['elsewhere.example.test'] });
        await new Promise((r) => setTimeout(r, RecentEnvironments.TTL_MS + 50));
        assert.deepEqual(await hostsOf('dev'), ['elsewhere.example.test']);
      } finally {
        await other.close();
      }
    });

    it('the shared list cannot be changed by a caller', async () => {
      const env = await t.engine.recentEnvironment('dev');
      assert.throws(() => env.hosts.push('x.test'), TypeError);
      assert.throws(() => ((env as { name: string }).name = 'changed'), TypeError);
    });
  });
}
