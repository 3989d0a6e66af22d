import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError } from '../../src/core/errors.js';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import type { Engine } from '../../src/engine/engine.js';
import { DIALECTS, openTestEngine } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

/**
 * The long use cases in the offload thread (src/engine/offload.ts), as a
 * server runs them: the server keeps answering while an install runs, and
 * the install stays one transaction, all or nothing, with the errors the
 * faces map. No timing is asserted: the order of events is.
 */
const SAMPLE = { objects: 6000, seed: 'offload' };

async function count(engine: Engine, envId: string): Promise<number> {
  return (await engine.listObjects(envId, { limit: 1 })).total;
}

for (const dialect of DIALECTS) {
  describe(`offload thread on ${dialect}`, () => {
    let s: TestServer;
    let engine: Engine;
    let pkgId = '';
    let entityCount = 0;
    /** What the target shows before any install (server-scoped objects are shared with the source). */
    let empty = 0;

    before(async () => {
      const t = await openTestEngine(dialect, 'http://ferry.test', undefined, { offload: true });
      s = await openTestServer(dialect, { engine: t });
      engine = t.engine;
      assert.ok(engine.offload, 'the engine runs its long use cases in a thread');
      await engine.createEnvironment({ id: 'dev', name: 'Dev', tier: 'development' });
      await engine.createEnvironment({ id: 'test', name: 'Test', tier: 'testing' });
      await engine.loadObjects('dev', [...generateSample(SAMPLE)]);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Offloaded', selection: sampleSelection(SAMPLE) });
      assert.equal(pkg.status, 'DRAFT');
      pkgId = (await engine.setPackageStatus(pkg.id, 'TESTING')).id;
      entityCount = pkg.entityCount;
      assert.ok(entityCount > 5000);
      empty = await count(engine, 'test');
    });
    after(async () => {
      await s?.cleanup();
    });

    it('a cancelled install writes nothing, releases the lock, and fails with the error the faces map', async () => {
      const plan = await engine.prepare(pkgId, 'test');
      assert.equal(plan.installation.status, 'PREPARED');
      assert.equal(plan.entries.length, entityCount, 'the whole plan comes back from the thread');
      const controller = new AbortController();
      let progressed = 0;
      // Cancelled at its first report of objects written: inside its transaction.
      const failed = await engine
        .install(plan.installation.id, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.done === 0) return;
            progressed++;
            controller.abort();
          },
        })
        .then(
          () => assert.fail('the install should have been cancelled'),
          (e: unknown) => e,
        );
      assert.ok(progressed > 0, 'progress crossed from the thread');
      assert.ok(failed instanceof ConflictError, `a ConflictError, not ${String(failed)}`);
      assert.equal(failed.code, 'CANCELLED');
      assert.equal(failed.status, 409);
      assert.equal(await count(engine, 'test'), empty, 'nothing half-installed');
      const target = await engine.getEnvironment('test');
      assert.equal(target.lockedBy, null);
      assert.equal((await engine.getInstallation(plan.installation.id)).status, 'FAILED');
    });

    it('health and reads are answered while an install runs, which then installs everything', async () => {
      const plan = await engine.prepare(pkgId, 'test');
      const id = plan.installation.id;
      let finished = false;
      let during: Promise<{ health: number; status: string; finished: boolean }> | undefined;
      // At the install's first report of objects written (from inside its transaction), ask the server.
      const installed = engine
        .install(id, {
          onProgress: (p) => {
            if (p.done === 0) return;
            during ??= (async () => {
              const health = await s.call(null, 'GET', '/api/v1/health');
              const inst = await s.call(ADMIN_KEY, 'GET', `/api/v1/installations/${id}`);
              return { health: health.status, status: inst.body.installation.status as string, finished };
            })();
          },
        })
        .finally(() => (finished = true));
      const done = await installed;
      assert.ok(during, 'the install reported progress');
      const seen = await during;
      assert.equal(seen.health, 200);
      assert.equal(seen.status, 'PREPARED', 'answered before the install committed');
      assert.equal(seen.finished, false, 'answered before the install ended');
      assert.equal(done.status, 'COMPLETED');
      assert.equal(await count(engine, 'test'), empty + plan.installation.summary.create);
      const counts = await engine.entryStatusCounts(id);
      assert.equal(counts.INSTALLED, plan.installation.summary.create);
    });

    it('errors keep their class across the thread', async () => {
      await assert.rejects(engine.install('no-such-installation'), (e: unknown) => e instanceof NotFoundError && e.status === 404);
      const [done] = await engine.listInstallations({ packageId: pkgId, targetEnvIds: ['test'] }).then((l) => l.filter((i) => i.status === 'COMPLETED'));
      assert.ok(done);
      await assert.rejects(engine.install(done.id), (e: unknown) => e instanceof ConflictError && e.code === 'NOT_PREPARED');
      const back = await engine.rollback(done.id);
      assert.equal(back.status, 'ROLLED_BACK');
      assert.equal(await count(engine, 'test'), empty);
    });
  });
}
