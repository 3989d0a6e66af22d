/**
 * The steps the crash suite kills a server in, each with what must hold
 * after the restart: the step's before state or its complete after state,
 * never anything between.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { INSTALLED, SOURCE, TARGET, objectsOf, withDb, type Fixture, type Server } from './world.js';

/** What the fixture's data directory held before any step ran. */
export interface Before {
  source: string[];
  target: string[];
  installed: string[];
  server: string[];
  packageEntities: number;
}

export interface Step {
  name: string;
  /** Begin the step; a kill may come before this resolves. Resolves when the step is complete (calibration). */
  run(s: Server, f: Fixture): Promise<void>;
  /** An open bug this step is known to hit: the test runs and reports, as a todo, until it is mended. */
  knownIssue?: string;
  /** The environment whose install this step rolls back (its ID map rows may go). */
  rollsBack?: string;
  /** After the restart, once every operation settled. */
  check(s: Server, f: Fixture, before: Before): Promise<void>;
}

const installationsInto = (dataDir: string, envId: string) =>
  withDb(dataDir, (db) => db.prepare('SELECT id, status FROM installations WHERE target_env_id = ?').all(envId) as { id: string; status: string }[]);

/** The target holds exactly its before state, or one COMPLETED installation whose rollback gives the before state back. */
async function checkBeforeOrAfter(s: Server, envId: string, before: Before, what: string): Promise<void> {
  const now = objectsOf(s.dataDir, envId);
  const insts = installationsInto(s.dataDir, envId);
  const completed = insts.filter((i) => i.status === 'COMPLETED');
  if (now.length === before.target.length && now.every((o, i) => o === before.target[i])) {
    assert.equal(completed.length, 0, `${what}: the target is unchanged, yet an installation says COMPLETED`);
    assert.deepEqual(objectsOf(s.dataDir, '*'), before.server, `${what}: server-wide objects changed though the target did not`);
    return;
  }
  assert.equal(
    completed.length,
    1,
    `${what}: the target changed (${now.length} objects, was ${before.target.length}) without exactly one COMPLETED installation`,
  );
  // Every operation that ran the completed install says so (it must not claim "nothing was written").
  const ops = (await s.api('GET', `/operations?environmentId=${envId}&limit=100`)).items as { status: string; result?: any; subject?: string }[];
  for (const op of ops.filter((o) => o.subject === completed[0]!.id || o.result?.installationId === completed[0]!.id)) {
    assert.equal(op.status, 'COMPLETED', `${what}: installation ${completed[0]!.id} COMPLETED but its operation says ${op.status}: ${JSON.stringify(op)}`);
  }
  const rolled = await s.http('POST', `/installations/${completed[0]!.id}/rollback`);
  assert.equal(rolled.status, 200, `${what}: rollback after the crash: ${rolled.status} ${rolled.text}`);
  assert.deepEqual(objectsOf(s.dataDir, envId), before.target, `${what}: the rollback of the completed install did not give the before state back`);
}

export const STEPS: Step[] = [
  {
    name: 'install',
    async run(s, f) {
      const plan = await s.api('POST', `/packages/${f.packageId}/plans`, { targetEnvId: TARGET });
      const op = await s.api('POST', `/installations/${plan.installation.id}/install`);
      await s.waitOp(op.operation.id);
    },
    check: (s, _f, before) => checkBeforeOrAfter(s, TARGET, before, 'install'),
  },
  {
    name: 'import',
    async run(s, f) {
      const op = await s.api('POST', '/imports', { fileId: f.fileId, targetEnvId: TARGET, dryRun: false });
      await s.waitOp(op.operation.id);
    },
    check: (s, _f, before) => checkBeforeOrAfter(s, TARGET, before, 'import'),
  },
  {
    name: 'rollback',
    rollsBack: INSTALLED,
    async run(s, f) {
      await s.api('POST', `/installations/${f.installedId}/rollback`);
    },
    async check(s, f, before) {
      const inst = (await s.api('GET', `/installations/${f.installedId}`)).installation;
      const now = objectsOf(s.dataDir, INSTALLED);
      if (inst.status === 'ROLLED_BACK') {
        assert.deepEqual(now, [], 'rollback: ROLLED_BACK but objects remain');
        return;
      }
      assert.equal(inst.status, 'COMPLETED');
      assert.deepEqual(now, before.installed, 'rollback: not rolled back, yet the target changed');
      // The environment is usable: the rollback can be done now.
      const again = await s.http('POST', `/installations/${f.installedId}/rollback`);
      assert.equal(again.status, 200, `rollback again after the crash: ${again.status} ${again.text}`);
      assert.deepEqual(objectsOf(s.dataDir, INSTALLED), []);
    },
  },
  {
    name: 'clone',
    async run(s) {
      await s.api('POST', '/environments', { id: 'copy', name: 'Copy', tier: 'testing', cloneFrom: SOURCE });
    },
    async check(s, _f, before) {
      const exists = withDb(s.dataDir, (db) => db.prepare("SELECT 1 FROM environments WHERE id = 'copy'").get());
      if (!exists) {
        assert.deepEqual(objectsOf(s.dataDir, 'copy'), [], 'clone: objects of an environment that does not exist');
        return;
      }
      assert.deepEqual(objectsOf(s.dataDir, 'copy'), before.source, 'clone: the clone is not an exact copy');
    },
  },
  {
    name: 'assembly',
    async run(s, f) {
      const pkg = await s.api('GET', `/packages/${f.packageId}`);
      const created = await s.api('POST', '/packages', { sourceEnvId: SOURCE, name: 'Again', objectCollections: pkg.objectCollections });
      await s.waitOp(created.operation.id);
    },
    async check(s, f, before) {
      const pkgs = withDb(
        s.dataDir,
        (db) => db.prepare('SELECT id, status, assembly_error AS error FROM packages').all() as { id: string; status: string; error: string | null }[],
      );
      for (const p of pkgs) {
        assert.notEqual(p.status, 'ASSEMBLING', `assembly: package ${p.id} left ASSEMBLING`);
        if (p.status === 'ASSEMBLING_FAILED') assert.ok(p.error, `assembly: package ${p.id} failed without a reason`);
        if (p.id === f.packageId || p.status === 'ASSEMBLING_FAILED') continue;
        const n = withDb(s.dataDir, (db) => (db.prepare('SELECT count(*) AS n FROM package_entities WHERE package_id = ?').get(p.id) as { n: number }).n);
        assert.equal(n, before.packageEntities, `assembly: package ${p.id} is ${p.status} with ${n} of ${before.packageEntities} entities`);
      }
    },
  },
  {
    name: 'export',
    async run(s, f) {
      const op = await s.api('POST', `/packages/${f.packageId}/export`);
      await s.waitOp(op.operation.id);
    },
    async check(s) {
      const ops = (await s.api('GET', '/operations?kind=export&limit=100')).items as { status: string; result?: any; error?: any }[];
      for (const op of ops) {
        if (op.status === 'COMPLETED') {
          const r = await s.http('GET', `/files/${op.result.file.id}/content`);
          assert.equal(r.status, 200, 'export: the exported file is not downloadable');
          assert.equal(r.bytes.length, op.result.file.bytes, 'export: the file is not the size recorded');
        } else assert.ok(op.error?.message, `export: ${op.status} without a reason`);
      }
      const filesDir = join(s.dataDir, 'files');
      const partial = existsSync(filesDir) ? readdirSync(filesDir).filter((n) => n.endsWith('.part')) : [];
      assert.deepEqual(partial, [], 'export: partial files left behind after the restart');
    },
  },
];
