/**
 * The work of each side of a duplication, run as operations
 * (src/ops/duplication-handlers.ts). Each moves its record through the
 * document's statuses with conditional updates, so a cancel that lands
 * meanwhile wins: the work notices at its next step and stops, and the
 * transaction of an import or a clone writes COMPLETED only if the record
 * is still IMPORTING (otherwise it rolls back).
 */
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError } from '../core/errors.js';
import { TIERS, type Tier } from '../core/types.js';
import { DuplicationStore } from '../store/duplication-store.js';
import type { FileStore } from '../store/file-store.js';
import type { Engine, ProgressFn } from './engine.js';
import { ShutdownReason, TakenOverReason } from './operations-port.js';
import { duplicationCancelled, readProjectPackageHeader, type ProjectTarget } from './duplication-package.js';
import { SourceServer } from './duplication-remote.js';
import { findDuplication, updateDuplication, type DuplicationRecord, type DuplicationStatus } from './duplication.js';

/** What the work needs of the operation running it (OperationContext has it). */
export interface WorkContext {
  readonly signal: AbortSignal;
  /** 0-100 for the operation; throws once the operation is cancelled (every call is a checkpoint). */
  progress(percent: number, message?: string): void;
}

export interface WorkDeps {
  engine: Engine;
  files: FileStore;
}

/** How long a target waits for its source to finish exporting. */
const WAIT_FOR_SOURCE_MS = 3600_000;
/** Failed calls in a row after which an unreachable source fails the import. */
const SOURCE_RETRIES = 10;

const cancelled = duplicationCancelled;

function isCancel(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (e instanceof FerryError && e.code === 'CANCELLED') || (e instanceof Error && e.name === 'AbortError');
}

/**
 * Progress of one phase of a record: the operation's and the record's
 * (written in order, only forward, and only while the record is still in
 * `status`, so a late write never undoes a cancel or a completion).
 */
function recorder(deps: WorkDeps, r: DuplicationRecord, ctx: WorkContext) {
  let last = r.progress;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    set(percent: number, message: string, status: DuplicationStatus): void {
      ctx.progress(percent, message);
      const p = Math.floor(percent);
      if (p <= last) return;
      last = p;
      chain = chain.then(() => updateDuplication(deps.engine, r.id, { progress: p, message }, [status])).catch(() => {});
    },
    /** A ProgressFn mapping an engine phase onto [lo, hi]. */
    phase(lo: number, hi: number, status: DuplicationStatus, verb: string): ProgressFn {
      return (p) => this.set(lo + (hi - lo) * (p.total > 0 ? Math.min(1, p.done / p.total) : 1), `${verb}: ${p.done} of ${p.total} objects`, status);
    },
    flush: () => chain,
  };
}

const ACTIVE: DuplicationStatus[] = ['EXPORTING', 'EXPORT_SYNCING', 'IMPORT_SYNCING', 'IMPORTING', 'CANCELLING'];
const CANCELLED_BY_USER = { status: 'CANCELLED', message: 'cancelled by a user; nothing was created' } as const;

/**
 * End a record that stopped: CANCELLED when it was cancelled, else `failed`
 * with the reason. Stopped by its server stopping, it stays as it is (the
 * operation runs again at the next start and carries on), unless a user's
 * cancel was waiting for it (CANCELLING).
 */
async function stopped(deps: WorkDeps, id: string, e: unknown, signal: AbortSignal, failed: DuplicationStatus): Promise<void> {
  // Another server process runs it now: the record is that run's to write.
  if (signal.aborted && signal.reason instanceof TakenOverReason) return;
  if (signal.aborted && signal.reason instanceof ShutdownReason) {
    await updateDuplication(deps.engine, id, CANCELLED_BY_USER, ['CANCELLING']);
    return;
  }
  if (isCancel(e, signal)) {
    await updateDuplication(deps.engine, id, CANCELLED_BY_USER, ACTIVE);
    return;
  }
  // Never a stack trace or a file store path in a record: the server log has the details.
  // A path in the file store is nobody's business: a package is "the package".
  const paths = new RegExp(`${deps.files.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\\s:,;]*`, 'g');
  const message = e instanceof FerryError ? e.message.replace(paths, 'the package') : 'internal error; the server log has the details';
  await updateDuplication(deps.engine, id, { status: failed, message }, ACTIVE);
}

/**
 * A run that finds its record past its work. A record still CANCELLING had
 * a user's cancel waiting for a run that stopped (its server died or
 * stopped) before it could end it: the cancel stands, and the transaction
 * that never committed created nothing.
 */
async function notRun(deps: WorkDeps, id: string, r: DuplicationRecord | undefined): Promise<{ duplicationId: string; status: string }> {
  if (r?.status !== 'CANCELLING') return { duplicationId: id, status: r?.status ?? 'DELETED' };
  await updateDuplication(deps.engine, id, CANCELLED_BY_USER, ['CANCELLING']);
  return { duplicationId: id, status: (await findDuplication(deps.engine, id))?.status ?? 'DELETED' };
}

/** What a package carries of its record, for a restoration elsewhere to show. */
function packageInfo(r: DuplicationRecord): Record<string, unknown> {
  return { id: r.id, source: r.source, target: r.target, settings: r.settings };
}

function propertiesOf(r: DuplicationRecord): ProjectTarget['properties'] {
  const i = r.settings.import;
  return { description: i.description, defaultLocale: i.defaultLocale, locales: i.locales };
}

/** Source side: export the package, keep it in the file store (EXPORTING -> EXPORT_SYNCING -> EXPORTED). */
export async function runExport(deps: WorkDeps, id: string, ctx: WorkContext): Promise<unknown> {
  const r = await findDuplication(deps.engine, id);
  if (!r || r.role !== 'source' || (r.status !== 'EXPORTING' && r.status !== 'EXPORT_SYNCING')) return notRun(deps, id, r);
  const rec = recorder(deps, r, ctx);
  const { id: fileId, tmp } = deps.files.reserve();
  try {
    rec.set(1, 'selecting objects', 'EXPORTING');
    const res = await deps.engine.run(
      'exportProject',
      { onProgress: rec.phase(1, 80, 'EXPORTING', 'exporting') },
      { envId: r.sourceEnvId!, packageId: r.id, rules: r.settings.export.configurationObjects, info: packageInfo(r), path: tmp },
    );
    await rec.flush();
    // EXPORT_SYNCING: the package is being made available to the target (moved into the file store and indexed).
    // A run again after its server died while storing finds the record EXPORT_SYNCING already: that is no cancel.
    if (
      !(await updateDuplication(deps.engine, id, { status: 'EXPORT_SYNCING', progress: 85, message: 'storing the package' }, ['EXPORTING', 'EXPORT_SYNCING']))
    )
      throw cancelled();
    ctx.progress(85, 'storing the package');
    // ...and the dead run may have indexed its package before it could record it: nothing else would ever remove that one.
    if (r.status === 'EXPORT_SYNCING') await removeStalePackages(deps, id);
    const file = await deps.files.commit(tmp, {
      id: fileId,
      name: `${id}.projdup`,
      kind: 'projdup',
      environmentId: null,
      packageId: null,
      createdBy: r.createdBy,
    });
    const message = `exported ${res.count} objects (${res.configurationObjects} configuration objects)`;
    if (!(await updateDuplication(deps.engine, id, { status: 'EXPORTED', progress: 100, message, fileId: file.id }, ['EXPORT_SYNCING']))) {
      await deps.files.remove(file.id);
      throw cancelled();
    }
    return { duplicationId: id, status: 'EXPORTED', objects: res.count, bytes: res.bytes };
  } catch (e) {
    await rec.flush();
    await rm(tmp, { force: true });
    await stopped(deps, id, e, ctx.signal, 'EXPORT_FAILED');
    throw e;
  }
}

/** The packages an earlier run of export `id` stored but never recorded (its server died between the two). */
async function removeStalePackages(deps: WorkDeps, id: string): Promise<void> {
  for (const f of await deps.files.list()) if (f.kind === 'projdup' && f.name === `${id}.projdup`) await deps.files.remove(f.id);
}

/** Within one server: clone the project (EXPORTING -> IMPORTING -> COMPLETED), in one transaction. */
export async function runLocal(deps: WorkDeps, id: string, ctx: WorkContext): Promise<unknown> {
  const r = await findDuplication(deps.engine, id);
  if (!r || r.role !== 'local' || (r.status !== 'EXPORTING' && r.status !== 'IMPORTING')) return notRun(deps, id, r);
  const rec = recorder(deps, r, ctx);
  let phase: DuplicationStatus = 'EXPORTING';
  try {
    rec.set(10, 'reading the project', 'EXPORTING');
    const source = await deps.engine.getEnvironment(r.sourceEnvId!);
    await rec.flush();
    if (!(await updateDuplication(deps.engine, id, { status: 'IMPORTING', progress: 40, message: 'copying the project' }, ['EXPORTING', 'IMPORTING'])))
      throw cancelled();
    phase = 'IMPORTING';
    ctx.progress(40, 'copying the project');
    const target: ProjectTarget = { uid: r.target.project.id!, name: r.target.project.name, tier: source.tier, properties: propertiesOf(r) };
    const { copied } = await deps.engine.run(
      'cloneProject',
      { signal: ctx.signal },
      { sourceEnvId: source.id, target, actor: { actor: r.createdBy }, duplicationId: id },
    );
    return { duplicationId: id, status: 'COMPLETED', objects: copied };
  } catch (e) {
    await stopped(deps, id, e, ctx.signal, phase === 'EXPORTING' ? 'EXPORT_FAILED' : 'IMPORT_FAILED');
    throw e;
  }
}

/** Wait until the source has exported (IMPORT_SYNCING); false when it was cancelled there (the record is then CANCELLED too). */
async function waitForSource(deps: WorkDeps, r: DuplicationRecord, source: SourceServer, ctx: WorkContext, rec: ReturnType<typeof recorder>): Promise<boolean> {
  const started = Date.now();
  const deadline = started + WAIT_FOR_SOURCE_MS;
  let delay = 100;
  let failures = 0;
  for (;;) {
    ctx.progress(0);
    let status = 'UNREACHABLE';
    let message = '';
    try {
      ({ status, message } = await source.record(r.id, ctx.signal));
      failures = 0;
    } catch (e) {
      if (ctx.signal.aborted || !(e instanceof FerryError && e.code === 'SOURCE_UNREACHABLE') || ++failures >= SOURCE_RETRIES) throw e;
    }
    if (status === 'EXPORTED') return true;
    if (status === 'CANCELLED') {
      await updateDuplication(deps.engine, r.id, { status: 'CANCELLED', message: `cancelled on the source server ${source.url}` }, [
        'IMPORT_SYNCING',
        'CANCELLING',
      ]);
      return false;
    }
    if (status === 'EXPORT_FAILED') throw new FerryError('SOURCE_FAILED', 400, `the source server ${source.url} failed to export the project: ${message}`);
    if (status !== 'EXPORTING' && status !== 'EXPORT_SYNCING' && status !== 'UNREACHABLE') {
      throw new FerryError('SOURCE_FAILED', 400, `duplication ${r.id} is ${status} on the source server ${source.url}: there is no package to import`);
    }
    if (Date.now() > deadline) throw new FerryError('SOURCE_TIMEOUT', 400, `the source server ${source.url} did not finish exporting within an hour`);
    rec.set(Math.min(15, 1 + (Date.now() - started) / 10_000), `waiting for ${source.url} to export the project (${status})`, 'IMPORT_SYNCING');
    await sleep(delay, undefined, { signal: ctx.signal });
    delay = Math.min(2000, delay * 2);
  }
}

/**
 * Target side: get the package (pull it from the source server once it is
 * exported, or take the uploaded one), then import it as a new project in
 * one transaction (IMPORT_SYNCING -> IMPORTING -> COMPLETED).
 */
export async function runImport(deps: WorkDeps, id: string, ctx: WorkContext): Promise<unknown> {
  const r = await findDuplication(deps.engine, id);
  if (r?.role === 'target' && r.status === 'COMPLETED' && r.fileId) {
    // Run again after a stop between the import's commit and the package's removal: finish that.
    await dropPackage(deps, id, r.fileId);
    return { duplicationId: id, status: r.status };
  }
  if (!r || r.role !== 'target' || (r.status !== 'IMPORT_SYNCING' && r.status !== 'IMPORTING')) return notRun(deps, id, r);
  const rec = recorder(deps, r, ctx);
  let fileId = r.fileId;
  try {
    if (!fileId) {
      const source = SourceServer.trusted(r.pullFrom ?? r.source.environment.id);
      if (!(await waitForSource(deps, r, source, ctx, rec))) return { duplicationId: id, status: 'CANCELLED' };
      rec.set(16, `downloading the package from ${source.url}`, 'IMPORT_SYNCING');
      const file = await deps.files.upload(await source.package(r.id, ctx.signal), Number.MAX_SAFE_INTEGER, { name: `${id}.projdup`, createdBy: r.createdBy });
      fileId = file.id;
      await rec.flush();
      await updateDuplication(deps.engine, id, { fileId }, ['IMPORT_SYNCING']);
    }
    const summary = await deps.files.withLocalFile(fileId, async (path) => {
      const header = await readProjectPackageHeader(deps.engine, path);
      await rec.flush();
      if (!(await updateDuplication(deps.engine, id, { status: 'IMPORTING', progress: 25, message: 'verifying the package' }, ['IMPORT_SYNCING', 'IMPORTING'])))
        throw cancelled();
      ctx.progress(25, 'verifying the package');
      const tier = (TIERS as readonly string[]).includes(header.source.tier) ? (header.source.tier as Tier) : 'development';
      const target: ProjectTarget = { uid: r.target.project.id!, name: r.target.project.name, tier, properties: propertiesOf(r) };
      const imp = r.settings.import;
      const verify = rec.phase(25, 40, 'IMPORTING', 'verifying');
      const load = rec.phase(40, 99, 'IMPORTING', 'importing');
      const rules = {
        conflictRules: imp.configurationObjects.conflictRules,
        matchUsersByLogin: imp.configurationObjects.matchUsersByLogin,
        typesMatchByName: imp.typesMatchByName ?? [],
      };
      return deps.engine.run(
        'importProject',
        { signal: ctx.signal, onProgress: (p) => (p.phase === 'verify' ? verify(p) : load(p)) },
        { path, target, rules, actor: { actor: r.createdBy }, duplicationId: id },
      );
    });
    // The project holds everything now; the package was only the way there.
    await dropPackage(deps, id, fileId);
    return { duplicationId: id, status: 'COMPLETED', ...summary };
  } catch (e) {
    await rec.flush();
    await stopped(deps, id, e, ctx.signal, 'IMPORT_FAILED');
    throw e;
  }
}

/** Remove a completed import's package, then forget it in the record. */
async function dropPackage(deps: WorkDeps, id: string, fileId: string): Promise<void> {
  await deps.files.remove(fileId);
  await updateDuplication(deps.engine, id, { fileId: null }, ['COMPLETED']);
}

/** An operation that will not run (cancelled while queued, or its server died for good): end its record. */
export async function abandonDuplication(deps: WorkDeps, id: string, opStatus: string, reason: string): Promise<void> {
  const r = await findDuplication(deps.engine, id);
  if (!r) return;
  if (opStatus === 'CANCELLED') {
    await updateDuplication(deps.engine, id, { status: 'CANCELLED', message: 'cancelled before it started' }, ACTIVE);
    return;
  }
  const failed: DuplicationStatus = r.status === 'EXPORTING' || r.status === 'EXPORT_SYNCING' ? 'EXPORT_FAILED' : 'IMPORT_FAILED';
  await updateDuplication(deps.engine, id, { status: failed, message: reason }, ACTIVE);
}

/** The kind a restoration's uploaded package is stored as (the start sweep tells one no record took by it). */
export const RESTORATION_UPLOAD = 'projdup-upload';

/**
 * What a server killed while starting a duplication left: a record written
 * before its operation was (nothing will ever run it), and a restoration's
 * upload stored before its record was (nothing names it). Records created
 * before `before` end failed with the true reason, their package removed;
 * such uploads are removed. Run at start (and now and then where several
 * processes share the database, with `before` far enough back that no live
 * process is still between the two writes).
 */
export async function endUnqueuedDuplications(deps: WorkDeps, before: string): Promise<{ records: string[]; files: string[] }> {
  const ds = new DuplicationStore(deps.engine.store);
  const records: string[] = [];
  for (const r of await ds.unqueued(ACTIVE, before)) {
    const status = r.status as DuplicationStatus;
    const failed: DuplicationStatus = status === 'EXPORTING' || status === 'EXPORT_SYNCING' ? 'EXPORT_FAILED' : 'IMPORT_FAILED';
    const message = 'the server stopped before this duplication could be queued; nothing was done: start it again';
    const end = status === 'CANCELLING' ? CANCELLED_BY_USER : { status: failed, message };
    if (!(await updateDuplication(deps.engine, r.id, { ...end, fileId: null }, [status]))) continue;
    if (r.fileId) await deps.files.remove(r.fileId);
    records.push(r.id);
  }
  const kept = await ds.fileIds();
  const files: string[] = [];
  for (const f of await deps.files.list()) {
    if (f.kind !== RESTORATION_UPLOAD || kept.has(f.id) || f.createdAt >= before) continue;
    await deps.files.remove(f.id);
    files.push(f.id);
  }
  return { records, files };
}
