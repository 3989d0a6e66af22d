// Project duplication in the engine, on both databases: the work of each
// side driven directly, so a cancel can land at any step (EXPORTING,
// EXPORT_SYNCING, IMPORTING, in the middle of the import's transaction) and
// the outcome checked: the record's status, and no half-made project.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseDuplicationRequest, parseRestorationMetadata } from '../../src/core/duplication-settings.js';
import {
  cancelDuplication,
  findDuplication,
  startRestoration,
  startSourceDuplication,
  updateDuplication,
  type DuplicationDeps,
} from '../../src/engine/duplication.js';
import { RESTORATION_UPLOAD, abandonDuplication, endUnqueuedDuplications, runExport, runImport, type WorkContext } from '../../src/engine/duplication-work.js';
import { ShutdownReason, TakenOverReason } from '../../src/engine/operations-port.js';
import { readProjectPackageHeader } from '../../src/engine/duplication-package.js';
import type { NewOperation, OperationRunner } from '../../src/ops/types.js';
import { DirectoryFileStore } from '../../src/store/file-store.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { rejectsWith } from '../support/assert.js';

/** A runner that only records what it is asked: the tests run the work themselves. */
function fakeRunner(cancelled: string[]): OperationRunner {
  let n = 0;
  return {
    submit: async (input: NewOperation) => ({ id: `op-${++n}`, ...input }) as never,
    cancel: async (id: string) => {
      cancelled.push(id);
      return {} as never;
    },
  } as unknown as OperationRunner;
}

/** A context that cancels itself once progress reaches `at` (as a user's cancel would at that checkpoint). */
function context(at = Infinity): WorkContext & { seen: number[] } {
  const controller = new AbortController();
  const seen: number[] = [];
  return {
    signal: controller.signal,
    seen,
    progress(p) {
      seen.push(p);
      if (p >= at && !controller.signal.aborted) controller.abort(new Error('cancelled by a test'));
      controller.signal.throwIfAborted();
    },
  };
}

const OBJECTS = [
  { type: 'USRGRP', id: 'g1', name: 'Everyone', fields: {} },
  { type: 'USER', id: 'u1', name: 'Ann', fields: { login: 'ann', userGroupIDs: ['g1'] } },
  { type: 'GROUP', id: 'grp1', name: 'Default Group', fields: {} },
  { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'grp1' } },
];

for (const db of DIALECTS) {
  describe(`project duplication in the engine [${db}]`, () => {
    let t: TestEngine;
    let deps: DuplicationDeps;
    let files: DirectoryFileStore;
    const cancelled: string[] = [];
    const actor = { actor: 'ops' };
    const creator = { id: 'OPS', name: 'ops' };

    before(async () => {
      t = await openTestEngine(db);
      files = new DirectoryFileStore(t.engine.store, join(t.dataDir, 'files'));
      deps = { engine: t.engine, files, runner: fakeRunner(cancelled) };
      await t.engine.createEnvironment({ id: 'src', name: 'Source', tier: 'development' });
      await t.engine.loadObjects('src', OBJECTS);
    });
    after(async () => t.cleanup());

    async function exported(name: string) {
      const sourceEnv = await t.engine.getEnvironment('src');
      const request = parseDuplicationRequest({
        source: { environment: { id: 'http://a', name: 'A' }, project: { id: sourceEnv.uid, name: 'Source' } },
        target: { environment: { id: 'http://b', name: 'B' }, project: { name } },
        settings: { export: { configurationObjects: { rules: [{ type: 34, rule: 3 }] } } },
      });
      return startSourceDuplication(deps, { request, sourceEnv, creator, actor, local: false });
    }

    it('an export cancelled while EXPORTING ends CANCELLED and keeps no package', async () => {
      const r = await exported('x1');
      assert.equal(r.operationId, 'op-1');
      await assert.rejects(runExport(deps, r.id, context(2)));
      const after = await findDuplication(t.engine, r.id);
      assert.equal(after?.status, 'CANCELLED');
      assert.equal(after?.fileId, null);
      assert.deepEqual((await deps.files.list()).length, 0);
    });

    it('EXPORT_SYNCING can be cancelled: at that checkpoint the export stops and keeps no package; a record cancelled there is not exported later', async () => {
      const r = await exported('x2');
      const ctx = context(85);
      await assert.rejects(runExport(deps, r.id, ctx));
      assert.equal(ctx.seen[ctx.seen.length - 1], 85);
      assert.equal((await findDuplication(t.engine, r.id))?.status, 'CANCELLED');
      assert.equal((await deps.files.list()).length, 0);

      const q = await exported('x2b');
      await updateDuplication(t.engine, q.id, { status: 'EXPORT_SYNCING' });
      const c = await cancelDuplication(deps, (await findDuplication(t.engine, q.id))!, actor);
      assert.equal(c.status, 'CANCELLED');
      assert.ok(cancelled.includes(q.operationId!));
      assert.deepEqual(await runExport(deps, q.id, context()), { duplicationId: q.id, status: 'CANCELLED' });
      assert.equal((await deps.files.list()).length, 0);
    });

    it('an export run again after its server died while storing the package (EXPORT_SYNCING) ends EXPORTED, keeping one package', async () => {
      const r = await exported('x2c');
      // What a kill leaves between the EXPORT_SYNCING write and the EXPORTED one: the record EXPORT_SYNCING, and maybe the package already indexed.
      await updateDuplication(t.engine, r.id, { status: 'EXPORT_SYNCING', progress: 85, message: 'storing the package' }, ['EXPORTING']);
      const { id: deadId, tmp } = files.reserve();
      await writeFile(tmp, 'the dead run stored this package');
      await files.commit(tmp, { id: deadId, name: `${r.id}.projdup`, kind: 'projdup', environmentId: null, packageId: null, createdBy: 'ops' });
      const done = await runExport(deps, r.id, context());
      const after = await findDuplication(t.engine, r.id);
      assert.deepEqual([(done as { status: string }).status, after?.status], ['EXPORTED', 'EXPORTED'], `record: ${after?.status} (${after?.message})`);
      const kept = (await files.list()).filter((f) => f.name === `${r.id}.projdup`).map((f) => f.id);
      assert.deepEqual(kept, [after?.fileId], "the dead run's package is removed, the new one kept");
      await files.remove(after!.fileId!);
    });

    for (const [why, id, reason] of [
      ['stopped by its server stopping is no cancel: the record stays EXPORTING and the run again exports it', 'x2d', new ShutdownReason('server stopping')],
      [
        'whose operation another server process took over leaves the record to the new runner (never a false "cancelled by a user"), which exports it',
        'x2t',
        new TakenOverReason('another server process took this operation over'),
      ],
    ] as const) {
      it(`an export ${why}`, async () => {
        const r = await exported(id);
        const controller = new AbortController();
        const ctx: WorkContext = {
          signal: controller.signal,
          progress(p) {
            if (p >= 2 && !controller.signal.aborted) controller.abort(reason);
            controller.signal.throwIfAborted();
          },
        };
        await assert.rejects(runExport(deps, r.id, ctx));
        const left = await findDuplication(t.engine, r.id);
        assert.equal(left?.status, 'EXPORTING', `record: ${left?.status} (${left?.message})`);
        assert.equal(((await runExport(deps, r.id, context())) as { status: string }).status, 'EXPORTED');
        await files.remove((await findDuplication(t.engine, r.id))!.fileId!);
      });
    }

    it('a record left CANCELLING by a run that died ends CANCELLED when its operation runs again', async () => {
      const r = await exported('x2e');
      await updateDuplication(t.engine, r.id, { status: 'CANCELLING', message: 'cancel requested' });
      assert.deepEqual(await runExport(deps, r.id, context()), { duplicationId: r.id, status: 'CANCELLED' });
    });

    it('at start, a record a killed server wrote but never queued ends failed with the true reason, and an upload no restoration took is removed', async () => {
      const r = await exported('x2f');
      await updateDuplication(t.engine, r.id, { operationId: null });
      const upload = await files.upload(Readable.from(['a package']), 1e6, { name: 'package.projdup', createdBy: 'ops', kind: RESTORATION_UPLOAD });
      const other = await files.upload(Readable.from(['a bundle']), 1e6, { name: 'b.ferry', createdBy: 'ops' });
      const ended = await endUnqueuedDuplications(deps, new Date(Date.now() + 1000).toISOString());
      assert.deepEqual(ended, { records: [r.id], files: [upload.id] });
      const after = await findDuplication(t.engine, r.id);
      assert.equal(after?.status, 'EXPORT_FAILED');
      assert.match(after.message, /stopped before this duplication could be queued/);
      assert.deepEqual(
        (await files.list()).map((f) => f.id),
        [other.id],
      );
      await files.remove(other.id);
    });

    it('an import cancelled inside its transaction leaves no project and no configuration object behind', async () => {
      const r = await exported('x3');
      const done = await runExport(deps, r.id, context());
      assert.equal((done as { status: string }).status, 'EXPORTED');
      const fileId = (await findDuplication(t.engine, r.id))!.fileId!;
      const header = await readProjectPackageHeader(t.engine, files.pathOf(fileId));
      // Restore it on this server after the source's configuration objects are gone (so the import would create them).
      await t.engine.deleteObject('src', 'USER', 'u1');
      const serverBefore = (await t.engine.listObjects('src', { type: 'USER' })).total;
      const copy = await deps.files.upload((await import('node:fs')).createReadStream(files.pathOf(fileId)), 1e9, { name: 'p.projdup', createdBy: 'ops' });
      const metadata = parseRestorationMetadata(JSON.stringify({ target: { environment: { id: 'http://b', name: 'B' }, project: { name: 'Restored' } } }));
      const rec = await startRestoration(deps, { fileId: copy.id, info: header.duplication, metadata, creator, actor });
      const ctx = context(45);
      await assert.rejects(runImport(deps, rec.id, ctx));
      assert.ok(
        ctx.seen.some((p) => p >= 25 && p < 45),
        `cancelled while IMPORTING: ${ctx.seen.join(' ')}`,
      );
      assert.equal((await findDuplication(t.engine, rec.id))?.status, 'CANCELLED');
      assert.equal((await t.engine.listEnvironments()).filter((e) => e.name === 'Restored').length, 0);
      assert.equal((await t.engine.listObjects('src', { type: 'USER' })).total, serverBefore);

      // The same package imports fine when nobody cancels; the user is back.
      const again = await startRestoration(deps, {
        fileId: (await deps.files.upload((await import('node:fs')).createReadStream(files.pathOf(fileId)), 1e9, { name: 'p.projdup', createdBy: 'ops' })).id,
        info: header.duplication,
        metadata,
        creator,
        actor,
      });
      const ok = await runImport(deps, again.id, context());
      assert.equal((ok as { status: string }).status, 'COMPLETED');
      assert.equal((await t.engine.listObjects('src', { type: 'USER' })).total, serverBefore + 1);
    });

    it('a restoration that writes configuration objects makes plans prepared against other projects stale, as an install does', async () => {
      const r = await exported('x6');
      await runExport(deps, r.id, context());
      const fileId = (await findDuplication(t.engine, r.id))!.fileId!;
      const header = await readProjectPackageHeader(t.engine, files.pathOf(fileId));
      // The user is gone from the server, so the restoration creates it again: a server-scoped write.
      await t.engine.deleteObject('src', 'USER', 'u1');
      await t.engine.createEnvironment({ id: 'other', name: 'Other', tier: 'testing' });
      const pkg = await t.engine.createPackage({ sourceEnvId: 'src', name: 'Templates', selection: [{ type: 'TMPL', id: 't1' }] });
      await t.engine.setPackageStatus(pkg.id, 'ACTIVE');
      const plan = await t.engine.prepare(pkg.id, 'other');
      const metadata = parseRestorationMetadata(JSON.stringify({ target: { environment: { id: 'http://b', name: 'B' }, project: { name: 'Restored 6' } } }));
      const upload = await deps.files.upload((await import('node:fs')).createReadStream(files.pathOf(fileId)), 1e9, { name: 'p.projdup', createdBy: 'ops' });
      const rec = await startRestoration(deps, { fileId: upload.id, info: header.duplication, metadata, creator, actor });
      assert.equal(((await runImport(deps, rec.id, context())) as { status: string }).status, 'COMPLETED');
      assert.equal((await t.engine.getObject('other', 'USER', 'u1')).name, 'Ann');
      await rejectsWith(t.engine.install(plan.installation.id), '409 STALE_PLAN', /prepare again/);
      assert.equal((await t.engine.listObjects('other', { type: 'TMPL' })).total, 0);
    });

    it('a duplication whose operation will never run ends visibly: CANCELLED when cancelled queued, failed with the reason otherwise', async () => {
      const a = await exported('x4');
      await abandonDuplication(deps, a.id, 'CANCELLED', 'cancelled before it started');
      assert.equal((await findDuplication(t.engine, a.id))?.status, 'CANCELLED');
      const b = await exported('x5');
      await abandonDuplication(deps, b.id, 'FAILED', 'the server stopped while this ran');
      const failed = await findDuplication(t.engine, b.id);
      assert.deepEqual([failed?.status, failed?.message], ['EXPORT_FAILED', 'the server stopped while this ran']);
    });
  });
}
