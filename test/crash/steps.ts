/**
 * The steps the crash suite kills a server in, each with what must hold
 * after the restart: the step's before state or its complete after state,
 * never anything between.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { INSTALLED, SOURCE, TARGET, hasRow, objectsOf, withDb, type Fixture, type Server } from './world.js';

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
  /**
   * A targeted step: killed as soon as this holds (polled every millisecond
   * while the step runs; plus a seeded jitter), not at a random moment of its
   * duration. For the narrow moments random kills rarely meet: just after a
   * commit, during a lock release, between a file's rename and its index row.
   */
  killAt?: (db: Database.Database, dataDir: string, f: Fixture) => boolean;
  /**
   * The windows after the moment that a targeted kill may land in: how many
   * kills landed in each is reported (a diagnostic; the checks hold either
   * way). The narrowest (a lock release, a rename) last well under a
   * millisecond and are seldom met by a kill from outside.
   */
  windows?: { name: string; holds(db: Database.Database, dataDir: string, f: Fixture): boolean }[];
}

const installationsInto = (dataDir: string, envId: string) =>
  withDb(dataDir, (db) => db.prepare('SELECT id, status FROM installations WHERE target_env_id = ?').all(envId) as { id: string; status: string }[]);

/** The target holds exactly its before state, or one COMPLETED installation whose rollback gives the before state back. */
async function checkBeforeOrAfter(s: Server, envId: string, before: Before, what: string): Promise<void> {
  const now = objectsOf(s.dataDir, envId);
  const insts = installationsInto(s.dataDir, envId);
  const completed = insts.filter((i) => i.status === 'COMPLETED');
  const ops = (await s.api('GET', `/operations?environmentId=${envId}&limit=100`)).items as Op[];
  if (now.length === before.target.length && now.every((o, i) => o === before.target[i])) {
    assert.equal(completed.length, 0, `${what}: the target is unchanged, yet an installation says COMPLETED`);
    // An install or import the kill stopped says what to do next, in its own words.
    for (const op of ops.filter((o) => o.status === 'FAILED' && o.error?.code === 'SERVER_STOPPED')) {
      const next = { install: /prepare and install again/, 'bundle.import': /import the bundle again/ }[op.kind];
      if (next) assert.match(op.message ?? '', next, `${what}: ${op.kind} stopped by the kill: ${JSON.stringify(op)}`);
    }
    assert.deepEqual(objectsOf(s.dataDir, '*'), before.server, `${what}: server-wide objects changed though the target did not`);
    return;
  }
  assert.equal(
    completed.length,
    1,
    `${what}: the target changed (${now.length} objects, was ${before.target.length}) without exactly one COMPLETED installation`,
  );
  // Every operation that ran the completed install says so (it must not claim "nothing was written").
  for (const op of ops.filter((o) => o.subject === completed[0]!.id || o.result?.installationId === completed[0]!.id)) {
    assert.equal(op.status, 'COMPLETED', `${what}: installation ${completed[0]!.id} COMPLETED but its operation says ${op.status}: ${JSON.stringify(op)}`);
  }
  const rolled = await s.http('POST', `/installations/${completed[0]!.id}/rollback`);
  assert.equal(rolled.status, 200, `${what}: rollback after the crash: ${rolled.status} ${rolled.text}`);
  assert.deepEqual(objectsOf(s.dataDir, envId), before.target, `${what}: the rollback of the completed install did not give the before state back`);
}

interface Op {
  kind: string;
  status: string;
  message?: string;
  error?: { code: string };
  result?: any;
  subject?: string;
}

const install: Step = {
  name: 'install',
  async run(s, f) {
    const plan = await s.api('POST', `/packages/${f.packageId}/plans`, { targetEnvId: TARGET });
    const op = await s.api('POST', `/installations/${plan.installation.id}/install`);
    await s.waitOp(op.operation.id);
  },
  check: (s, _f, before) => checkBeforeOrAfter(s, TARGET, before, 'install'),
};
const importStep: Step = {
  name: 'import',
  async run(s, f) {
    const op = await s.api('POST', '/imports', { fileId: f.fileId, targetEnvId: TARGET, dryRun: false });
    await s.waitOp(op.operation.id);
  },
  check: (s, _f, before) => checkBeforeOrAfter(s, TARGET, before, 'import'),
};
const rollback: Step = {
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
};
/** Clone the source into `copy`: in the request, or (a big source, or `async`) as an operation, waited for. */
async function cloneSource(s: Server, async: boolean): Promise<void> {
  const body = { id: 'copy', name: 'Copy', tier: 'testing', cloneFrom: SOURCE };
  const r = await s.http('POST', '/environments', { json: body, headers: async ? { prefer: 'respond-async' } : {} });
  if (r.status >= 300 && r.status !== 202) throw new Error(`clone: ${r.status} ${r.text}`);
  if (r.status === 202) await s.waitOp(r.json.operation.id);
}

const clone: Step = {
  name: 'clone',
  run: (s) => cloneSource(s, false),
  async check(s, _f, before) {
    const exists = withDb(s.dataDir, (db) => db.prepare("SELECT 1 FROM environments WHERE id = 'copy'").get());
    // A clone run as an operation ends as the clone did: COMPLETED once the copy exists, else failed with a reason.
    const ops = (await s.api('GET', '/operations?kind=environment.clone&limit=100')).items as { status: string; message: string; error?: any }[];
    for (const op of ops) {
      if (exists) assert.equal(op.status, 'COMPLETED', `clone: the copy exists, yet its operation says ${op.status}: ${op.message}`);
      else assert.ok(op.status !== 'COMPLETED' && op.error?.message, `clone: no copy, yet its operation says ${op.status}: ${op.message}`);
    }
    if (!exists) {
      assert.deepEqual(objectsOf(s.dataDir, 'copy'), [], 'clone: objects of an environment that does not exist');
      return;
    }
    assert.deepEqual(objectsOf(s.dataDir, 'copy'), before.source, 'clone: the clone is not an exact copy');
  },
};
const assembly: Step = {
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
};
const exportStep: Step = {
  name: 'export',
  async run(s, f) {
    const op = await s.api('POST', `/packages/${f.packageId}/export`);
    await s.waitOp(op.operation.id);
  },
  async check(s) {
    const ops = (await s.api('GET', '/operations?kind=package.export&limit=100')).items as { status: string; result?: any; error?: any }[];
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
};

/** The whole source synced into the empty target (the sync face's engine path, in the request): one install transaction. */
const sync: Step = {
  name: 'sync',
  async run(s) {
    await s.api('POST', `/environments/${SOURCE}/sync/${TARGET}`, {});
  },
  check: (s, _f, before) => checkBeforeOrAfter(s, TARGET, before, 'sync'),
};

const DUP = '/api/projectDuplications';
const DUP_ENDED = ['COMPLETED', 'EXPORTED', 'IMPORT_FAILED', 'EXPORT_FAILED', 'CANCELLED'];

/** Start a duplication of the source (or a restoration, with `form`) and wait for its record to end. */
async function duplicate(s: Server, path: string, init: { json?: unknown; body?: FormData }): Promise<string> {
  const r = await s.root('POST', path, { ...init, headers: { prefer: 'respond-async' } });
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
  for (;;) {
    const rec = (await s.root('GET', `${DUP}/${r.json.id}`)).json;
    if (DUP_ENDED.includes(rec.status)) return r.json.id as string;
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function duplicationBody(s: Server, targetServer: string, name: string): Promise<unknown> {
  const dev = await s.api('GET', `/environments/${SOURCE}`);
  const uid = (dev.environment ?? dev).uid as string;
  return {
    source: { environment: { id: s.base, name: 'This server' }, project: { id: uid, name: 'Development' } },
    target: { environment: { id: targetServer, name: 'Target' }, project: { name } },
  };
}

/**
 * After a duplication step: every record ended (a failed one with a
 * reason), every COMPLETED one made its project as an exact copy of the
 * source, and no project exists that no COMPLETED record made.
 */
async function checkDuplications(s: Server, before: Before): Promise<void> {
  type Rec = { id: string; status: string; message: string; env: string | null; fileId: string | null };
  const recs = withDb(s.dataDir, (db) => db.prepare('SELECT id, status, message, target_env_id AS env, file_id AS fileId FROM duplications').all() as Rec[]);
  const envs = withDb(s.dataDir, (db) => (db.prepare('SELECT id FROM environments').raw().all() as string[][]).map((r) => r[0]!));
  const known = new Set([SOURCE, TARGET, INSTALLED]);
  for (const r of recs) {
    assert.ok(DUP_ENDED.includes(r.status) && r.status !== 'CANCELLED', `duplication: record ${r.id} left ${r.status} (${r.message})`);
    if (r.status.endsWith('FAILED')) assert.ok(r.message, `duplication: ${r.status} without a reason`);
    if (r.status !== 'COMPLETED') continue;
    assert.ok(r.env && envs.includes(r.env), `duplication: COMPLETED without its project (${r.env})`);
    assert.deepEqual(objectsOf(s.dataDir, r.env), before.source, 'duplication: the copy is not an exact copy');
    known.add(r.env);
  }
  assert.deepEqual(
    envs.filter((e) => !known.has(e)),
    [],
    'duplication: a project that no COMPLETED duplication made',
  );
}

/** The duplication face within the server: the source copied into a new project (one transaction), as an operation. */
const duplication: Step = {
  name: 'duplication',
  async run(s) {
    await duplicate(s, DUP, { json: await duplicationBody(s, s.base, 'Copy') });
  },
  check: (s, _f, before) => checkDuplications(s, before),
};

/**
 * The duplication face's import: the source exported for another server
 * (its package downloaded as a backup), then restored here as a new project
 * (upload, then one import transaction, then the package removed).
 */
const restoration: Step = {
  name: 'restoration',
  async run(s) {
    const exported = await duplicate(s, DUP, { json: await duplicationBody(s, 'http://elsewhere.test:8080', 'Over there') });
    const pkg = await s.root('GET', `${DUP}/${exported}/backup`);
    if (pkg.status !== 200) throw new Error(`backup: ${pkg.status} ${pkg.text}`);
    const form = new FormData();
    const importSettings = { description: 'restored', defaultLocale: 0, locales: [0], configurationObjects: { conflictRules: [], matchUsersByLogin: false } };
    form.append(
      'metadata',
      JSON.stringify({ settings: { import: importSettings }, target: { environment: { id: s.base, name: s.base }, project: { name: 'Restored' } } }),
    );
    form.append('file', new Blob([pkg.bytes], { type: 'application/octet-stream' }), 'package.projdup');
    await duplicate(s, `${DUP}/restoration`, { body: form });
  },
  async check(s, _f, before) {
    await checkDuplications(s, before);
    // Only the restoration can complete here (the export ends EXPORTED): once it has, its uploaded package is gone.
    const completed = withDb(s.dataDir, (db) => hasRow(db, "SELECT 1 FROM duplications WHERE status = 'COMPLETED'"));
    const kept = withDb(s.dataDir, (db) => db.prepare("SELECT id FROM files WHERE name = 'package.projdup'").all());
    if (completed) assert.deepEqual(kept, [], 'restoration: COMPLETED, yet its uploaded package is still in the file store');
  },
};

/** An operation of this kind has not ended yet. */
const opRunning = (db: Database.Database, kind: string) => hasRow(db, "SELECT 1 FROM operations WHERE kind = ? AND status IN ('QUEUED', 'RUNNING')", kind);
const lockHeld = (db: Database.Database, envId: string) => hasRow(db, 'SELECT 1 FROM environment_locks WHERE env_id = ?', envId);
const installedInto = (db: Database.Database, envId: string) =>
  hasRow(db, "SELECT 1 FROM installations WHERE target_env_id = ? AND status = 'COMPLETED'", envId);
/** Bundle files of the store that the fixture did not have: the export's, once renamed into place. */
const newBundles = (dataDir: string, f: Fixture) => {
  const dir = join(dataDir, 'files');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.ferry') && n !== `${f.fileId}.ferry`) : [];
};

/** Killed at the commit of an install into the target (an install's, an import's): its lock not yet released, its operation not yet ended. */
const atInstallCommit = (step: Step, opKind: string): Step => ({
  ...step,
  name: `${step.name}-commit`,
  killAt: (db) => installedInto(db, TARGET),
  windows: [
    { name: 'committed, lock not yet released', holds: (db) => lockHeld(db, TARGET) },
    { name: 'committed, operation not yet ended', holds: (db) => opRunning(db, opKind) },
  ],
});
const installCommit = atInstallCommit(install, 'install');
const importCommit = atInstallCommit(importStep, 'bundle.import');
const rollbackCommit: Step = {
  ...rollback,
  name: 'rollback-commit',
  killAt: (db, _d, f) => hasRow(db, "SELECT 1 FROM installations WHERE id = ? AND status = 'ROLLED_BACK'", f.installedId),
  windows: [{ name: 'committed, lock not yet released', holds: (db) => lockHeld(db, INSTALLED) }],
};
/** Ids of the export's bundle once indexed (its row) or in place (its file), whichever comes first. */
const newBundleIds = (db: Database.Database, dataDir: string, f: Fixture): string[] => {
  const rows = (db.prepare('SELECT id FROM files WHERE id <> ?').raw().all(f.fileId) as string[][]).map((r) => r[0]!);
  return [...new Set([...rows, ...newBundles(dataDir, f).map((n) => n.slice(0, -'.ferry'.length))])];
};

/** Killed as soon as the export's bundle is indexed or renamed into place, between the two if it can. */
const exportRename: Step = {
  ...exportStep,
  name: 'export-rename',
  killAt: (db, dir, f) => newBundleIds(db, dir, f).length > 0,
  windows: [
    {
      name: 'indexed or renamed, not both',
      holds: (db, dir, f) =>
        newBundleIds(db, dir, f).some((id) => hasRow(db, 'SELECT 1 FROM files WHERE id = ?', id) !== existsSync(join(dir, 'files', `${id}.ferry`))),
    },
    { name: 'operation not yet ended', holds: (db) => opRunning(db, 'package.export') },
  ],
};
/** Killed once the clone committed; run as an operation (as any clone of over 10,000 objects is), so the kill can come before it ends. */
const cloneCommit: Step = {
  ...clone,
  name: 'clone-commit',
  run: (s) => cloneSource(s, true),
  windows: [{ name: 'committed, operation not yet ended', holds: (db) => opRunning(db, 'environment.clone') }],
  killAt: (db) => hasRow(db, "SELECT 1 FROM environments WHERE id = 'copy'"),
};
const assemblyCommit: Step = {
  ...assembly,
  name: 'assembly-commit',
  killAt: (db, _d, f) => hasRow(db, "SELECT 1 FROM packages WHERE id <> ? AND status = 'DRAFT'", f.packageId),
};

/** Killed once the restoration's import has committed: its package not yet removed, its operation not yet ended. */
const restorationCommit: Step = {
  ...restoration,
  name: 'restoration-commit',
  killAt: (db) => hasRow(db, "SELECT 1 FROM duplications WHERE status = 'COMPLETED'"),
  windows: [
    { name: 'committed, package not yet removed', holds: (db) => hasRow(db, "SELECT 1 FROM files WHERE name = 'package.projdup'") },
    { name: 'committed, operation not yet ended', holds: (db) => hasRow(db, "SELECT 1 FROM operations WHERE status IN ('QUEUED', 'RUNNING')") },
  ],
};

export const STEPS: Step[] = [
  install,
  importStep,
  rollback,
  clone,
  assembly,
  exportStep,
  sync,
  duplication,
  restoration,
  installCommit,
  importCommit,
  rollbackCommit,
  exportRename,
  cloneCommit,
  assemblyCommit,
  restorationCommit,
];
