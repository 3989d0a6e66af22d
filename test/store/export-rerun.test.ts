// An export run again after its server died between keeping the bundle and
// ending the operation (the operation is resumable, so the next start runs
// it again): the rerun replaces that bundle, and the package has one bundle in
// the file repository, not an orphan beside a second one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import { OP, engineHandlers } from '../../src/ops/handlers.js';
import type { Operation, OperationContext } from '../../src/ops/types.js';
import { openFileStore } from '../../src/store/database-file-store.js';
import type { FileStore } from '../../src/store/file-store.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';

const SAMPLE = { objects: 300, seed: 'export-rerun' };

for (const dialect of DIALECTS) {
  describe(`export run again [${dialect}]`, () => {
    let t: TestEngine;
    let files: FileStore;
    let dir: string;
    let packageId: string;

    before(async () => {
      t = await openTestEngine(dialect);
      dir = mkdtempSync(join(tmpdir(), 'ferry-export-rerun-'));
      files = openFileStore(t.engine.store, dir);
      await t.engine.createEnvironment({ id: 'dev', name: 'Dev', tier: 'development' });
      await t.engine.loadObjects('dev', [...generateSample(SAMPLE)]);
      packageId = (await t.engine.createPackage({ sourceEnvId: 'dev', name: 'Rerun', selection: sampleSelection(SAMPLE) })).id;
    });
    after(async () => {
      await t?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('replaces the bundle a killed run kept: one bundle for the package, the rerun answering it', async () => {
      const op = { id: randomUUID(), kind: OP.export, params: { packageId }, createdBy: 'admin', address: null } as unknown as Operation;
      const ctx: OperationContext = { op, signal: new AbortController().signal, progress: () => {}, setSubject: async () => {} };
      const handler = engineHandlers(t.engine, files)[OP.export]!;
      const first = (await handler.run(ctx)) as { file: { id: string } };
      // The server died here: the bundle kept, the operation still RUNNING; the next start runs it again.
      const again = (await handler.run(ctx)) as { file: { id: string }; entityCount: number };
      const bundles = (await files.list()).filter((f) => f.packageId === packageId);
      assert.deepEqual(
        bundles.map((f) => f.id),
        [again.file.id],
        'one bundle, the one the rerun answers',
      );
      assert.equal(again.file.id, first.file.id);
      assert.ok(again.entityCount > 0);
      // Another export of the same package is another operation, and another bundle.
      const other = (await handler.run({ ...ctx, op: { ...op, id: randomUUID() } })) as { file: { id: string } };
      assert.notEqual(other.file.id, again.file.id);
      assert.equal((await files.list()).filter((f) => f.packageId === packageId).length, 2);
    });

    for (const inDatabase of [false, true]) {
      it(`replaces a bundle of its own that expired and was not swept yet (a rerun after a long outage; files ${inDatabase ? 'in the database' : 'in a directory'})`, async () => {
        const shortLived = openFileStore(t.engine.store, dir, { retentionMs: 100, inDatabase });
        const op = { id: randomUUID(), kind: OP.export, params: { packageId }, createdBy: 'admin', address: null } as unknown as Operation;
        const ctx: OperationContext = { op, signal: new AbortController().signal, progress: () => {}, setSubject: async () => {} };
        const handler = engineHandlers(t.engine, shortLived)[OP.export]!;
        const first = (await handler.run(ctx)) as { file: { id: string } };
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(await shortLived.get(first.file.id), undefined, 'expired: read as missing, its row still there');
        const again = (await handler.run(ctx)) as { file: { id: string } };
        assert.equal(again.file.id, first.file.id);
        assert.ok(await shortLived.get(again.file.id), 'the rerun kept a fresh bundle');
        await shortLived.remove(again.file.id);
      });
    }
  });
}
