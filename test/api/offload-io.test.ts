import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { ConflictError } from '../../src/core/errors.js';
import { join } from 'node:path';
import { exportPackage } from '../../src/engine/bundles.js';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Operation } from '../../src/store/operations-store.js';
import { DIALECTS, openTestEngine } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

/**
 * Bundle export, upload (verify), import and clone run in the offload
 * thread (src/engine/offload-verbs.ts), driven through the native API as a
 * client would. The proof that a step runs off the main thread: this
 * thread stops dead (a synchronous wait) at one of the step's progress
 * reports, and the offload thread keeps working meanwhile (its event-loop
 * utilization grows). Run on this thread, the step cannot advance while
 * this thread waits. No timing is asserted: the wait ends as soon as the
 * thread has worked a little, and gives up (failing) only after a long
 * while.
 */
const SAMPLE = { objects: 6000, seed: 'offload-io' };
/** Enough work to tell a working thread from an idle one (an idle thread's utilization does not move). */
const WORKED_MS = 20;
const GIVE_UP_MS = 60_000;

/**
 * Hold this thread (no turn of its event loop) until the offload thread has
 * worked WORKED_MS, or GIVE_UP_MS passed; answers how long it worked.
 */
function holdMainThread(engine: Engine): number {
  const offload = engine.offload!;
  const from = offload.busyMs();
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + GIVE_UP_MS;
  while (offload.busyMs() - from < WORKED_MS && Date.now() < until) Atomics.wait(cell, 0, 0, 2);
  return offload.busyMs() - from;
}

for (const dialect of DIALECTS) {
  describe(`bundle export, upload, import and clone in the offload thread on ${dialect}`, () => {
    let s: TestServer;
    let engine: Engine;
    let pkgId = '';
    let bundle: Buffer = Buffer.alloc(0);
    let fileId = '';

    /** Run an operation; at its first progress report whose message starts with `phase`, hold this thread (holdMainThread). */
    async function holdDuring(
      start: () => Promise<{ status: number; body: any; text: string }>,
      phase: string,
    ): Promise<{ op: Operation; worked: number | undefined }> {
      let worked: number | undefined;
      const onProgress = (op: Operation) => {
        if (worked === undefined && op.message?.startsWith(phase)) worked = holdMainThread(engine);
      };
      s.app.ferry.runner.on('progress', onProgress);
      try {
        const r = await start();
        assert.equal(r.status, 202, r.text);
        const op = await s.waitOp(ADMIN_KEY, r.body.operation.id as string, 180_000);
        return { op, worked };
      } finally {
        s.app.ferry.runner.off('progress', onProgress);
      }
    }

    before(async () => {
      const t = await openTestEngine(dialect, 'http://ferry.test', undefined, { offload: true });
      s = await openTestServer(dialect, { engine: t, config: { uploadLimit: 64 * 1024 * 1024 } });
      engine = t.engine;
      await engine.createEnvironment({ id: 'dev', name: 'Dev', tier: 'development' });
      await engine.createEnvironment({ id: 'test', name: 'Test', tier: 'testing' });
      await engine.loadObjects('dev', [...generateSample(SAMPLE)]);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Offloaded IO', selection: sampleSelection(SAMPLE) });
      pkgId = (await engine.setPackageStatus(pkg.id, 'TESTING')).id;
      assert.ok(pkg.entityCount > 5000);
      // The bundle the upload and import tests send (written here, in this thread: each test stands alone).
      const file = join(t.dataDir, 'io.ferry');
      await exportPackage(engine, pkgId, { file });
      bundle = readFileSync(file);
    });
    after(async () => {
      await s?.cleanup();
    });

    it('an export runs in the thread while this one stands still, and writes the whole bundle', async (t) => {
      const { op, worked } = await holdDuring(() => s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkgId}/export`), 'export:');
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
      assert.ok(worked !== undefined, 'the export reported progress');
      t.diagnostic(`the offload thread worked ${worked.toFixed(1)} ms while this thread was held`);
      assert.ok(worked >= WORKED_MS, `the offload thread worked ${worked.toFixed(1)} ms while this thread was held`);
      const result = op.result as { file: { id: string }; entityCount: number };
      const pkg = await engine.getPackage(pkgId);
      assert.equal(result.entityCount, pkg.entityCount);
      const content = await s.app.inject({ method: 'GET', url: `/api/v1/files/${result.file.id}/content`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(content.statusCode, 200);
      assert.ok(content.rawPayload.length > 0);
    });

    it('an upload is verified in the thread', async (t) => {
      const before = engine.offload!.busyMs();
      const up = await s.call(ADMIN_KEY, 'POST', '/api/v1/files?name=io.ferry', bundle, { 'content-type': 'application/octet-stream' });
      assert.equal(up.status, 201, up.text);
      fileId = up.body.id as string;
      // Nothing else runs in the thread meanwhile: what it worked is the verify (decompress, hash, parse 6000 entities).
      const worked = engine.offload!.busyMs() - before;
      t.diagnostic(`the offload thread worked ${worked.toFixed(1)} ms`);
      assert.ok(worked >= WORKED_MS, `the offload thread worked ${worked.toFixed(1)} ms during the upload`);
      // A damaged bundle is still refused whole, with its name and no server path, and not kept.
      const broken = Buffer.from(bundle);
      broken[broken.length - 12] = broken[broken.length - 12]! ^ 0xff;
      const bad = await s.call(ADMIN_KEY, 'POST', '/api/v1/files?name=broken.ferry', broken, { 'content-type': 'application/octet-stream' });
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.body.message as string, /broken\.ferry/);
      assert.doesNotMatch(bad.body.message as string, new RegExp(s.t.dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });

    it('an import reads the bundle in the thread while this one stands still, and plans it whole', async (t) => {
      const entityCount = (await engine.getPackage(pkgId)).entityCount;
      // Not here any more: the import reads the bundle into a new package (else it takes the one here).
      await engine.deletePackage(pkgId);
      const { op, worked } = await holdDuring(() => s.call(ADMIN_KEY, 'POST', '/api/v1/imports', { fileId, targetEnvId: 'test', dryRun: true }), 'import:');
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
      assert.ok(worked !== undefined, 'the import reported progress');
      t.diagnostic(`the offload thread worked ${worked.toFixed(1)} ms while this thread was held`);
      assert.ok(worked >= WORKED_MS, `the offload thread worked ${worked.toFixed(1)} ms while this thread was held`);
      const result = op.result as { packageId: string; summary: Record<string, number> };
      const pkg = await engine.getPackage(result.packageId);
      assert.equal(pkg.entityCount, entityCount);
      const planned = ['create', 'update', 'useExisting', 'merge', 'ignore'].reduce((n, k) => n + (result.summary[k] ?? 0), 0);
      assert.equal(planned, entityCount, 'every entity is planned');
    });

    it('a clone copies in the thread while this one stands still, and copies everything', async (t) => {
      const { op, worked } = await holdDuring(
        () => s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'copy', name: 'Copy', tier: 'testing', cloneFrom: 'dev' }, { prefer: 'respond-async' }),
        'clone:',
      );
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
      assert.ok(worked !== undefined, 'the clone reported progress');
      t.diagnostic(`the offload thread worked ${worked.toFixed(1)} ms while this thread was held`);
      assert.ok(worked >= WORKED_MS, `the offload thread worked ${worked.toFixed(1)} ms while this thread was held`);
      const [dev, copy] = await Promise.all([engine.listObjects('dev', { limit: 1 }), engine.listObjects('copy', { limit: 1 })]);
      assert.equal(copy.total, dev.total);
    });

    it('a progress callback that throws (a cancelled operation) stops the work in the thread, which writes nothing and fails with what it threw', async () => {
      const dir = join(s.t.dataDir, 'stopped');
      mkdirSync(dir);
      const cancel = new ConflictError('CANCELLED', 'operation cancelled');
      let reports = 0;
      const failed = await engine
        .run(
          'exportPackage',
          {
            onProgress: () => {
              reports++;
              throw cancel;
            },
          },
          (await engine.listPackages())[0]!.id,
          { file: join(dir, 'stopped.ferry') },
        )
        .then(
          () => assert.fail('the export should have stopped'),
          (e: unknown) => e,
        );
      assert.equal(failed, cancel);
      assert.equal(reports, 1, 'no report after the callback threw');
      assert.deepEqual(readdirSync(dir), [], 'no bundle and no temp file left');
      // The thread is still there for the next call.
      assert.equal(
        (await engine.run('exportPackage', {}, (await engine.listPackages())[0]!.id, { file: join(dir, 'next.ferry') })).file?.path,
        join(dir, 'next.ferry'),
      );
    });

    it('a sync runs in the thread and keeps its results and errors', async () => {
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/sync/test', { dryRun: true });
      assert.equal(r.status, 200, r.text);
      const objects = (await engine.listObjects('dev', { limit: 1 })).total;
      assert.ok((r.body.results as unknown[]).length > 2000, 'a long result crosses whole');
      assert.ok((r.body.results as unknown[]).length <= objects);
      // One-way push is refused with its status and words, from the thread.
      const down = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/test/sync/dev', { dryRun: true });
      assert.equal(down.status, 409, down.text);
      assert.equal(down.body.code, 'PUSH_ONE_WAY');
    });
  });
}
