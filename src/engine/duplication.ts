/**
 * Project duplication (004): the records, and starting, cancelling and
 * deleting them. A project is an environment; a record is one server's view
 * of one duplication, under the same id on both servers:
 *
 * - `local`: source and target on this server: EXPORTING -> IMPORTING -> COMPLETED;
 * - `source`: this server exports for another: EXPORTING -> EXPORT_SYNCING -> EXPORTED;
 * - `target`: this server imports from another (or from an uploaded package):
 *   IMPORT_SYNCING -> IMPORTING -> COMPLETED, CANCELLING -> CANCELLED.
 *
 * The work runs as operations (src/ops/duplication-handlers.ts calls the
 * `run*` functions of duplication-work.ts); this module keeps the records.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, FerryError, NotFoundError, ValidationError } from '../core/errors.js';
import type { DuplicationRequest, DuplicationSettings, RestorationRequest, TargetRequest } from '../core/duplication-settings.js';
import { normalizeStoredSettings } from '../core/duplication-settings.js';
import type { Environment } from '../core/types.js';
import { DuplicationStore, type DuplicationPatch, type DuplicationRow, type ProjectProperties } from '../store/duplication-store.js';
import type { FileStore } from '../store/file-store.js';
import type { OperationRunner } from './operations-port.js';
import { roleOn, type Principal } from './auth.js';
import type { Actor, Engine } from './engine.js';
import { checkProjectFree } from './duplication-package.js';
import type { RemoteRecord, SourceServer } from './duplication-remote.js';

export type { ProjectProperties } from '../store/duplication-store.js';

export const DUPLICATION_STATUSES = [
  'EXPORTING',
  'EXPORT_SYNCING',
  'EXPORTED',
  'EXPORT_FAILED',
  'IMPORT_SYNCING',
  'IMPORTING',
  'COMPLETED',
  'IMPORT_FAILED',
  'CANCELLING',
  'CANCELLED',
] as const;
export type DuplicationStatus = (typeof DUPLICATION_STATUSES)[number];
/** 004 "Cancel project duplication": only these can be cancelled. */
export const CANCELLABLE: readonly DuplicationStatus[] = ['EXPORTING', 'EXPORT_SYNCING', 'IMPORT_SYNCING', 'IMPORTING'];
/** Nothing changes a record after these. */
export const FINAL: readonly DuplicationStatus[] = ['EXPORTED', 'EXPORT_FAILED', 'COMPLETED', 'IMPORT_FAILED', 'CANCELLED'];

export interface Party {
  environment: { id: string; name: string };
  project: { id?: string; name: string };
  creator?: { id: string; name: string };
}

/** A record as the engine sees it: the row, with its body read into the document's parts. */
export interface DuplicationRecord extends Omit<DuplicationRow, 'status' | 'body'> {
  status: DuplicationStatus;
  source: Party;
  target: Party;
  settings: DuplicationSettings;
  /** Target records: the source server's base URL the package is pulled from (as FERRY_TRUSTED_SOURCES spells it). */
  pullFrom?: string;
}

/** What starting and cancelling need besides the engine: the file store and the operations runner. */
export interface DuplicationDeps {
  engine: Engine;
  files: FileStore;
  runner: OperationRunner;
}

/** The operation kinds that carry the work. */
export const DUPLICATION_OPS = { export: 'duplication.export', local: 'duplication.local', import: 'duplication.import' } as const;

/** Record ids: 32 hex digits, upper case, as the document's. */
export const newDuplicationId = (): string => randomBytes(16).toString('hex').toUpperCase();
/** Project ids are environment uids: 32 hex digits, lower case, as Ferry mints them. */
const newProjectId = (): string => randomBytes(16).toString('hex');
export const HEX32 = /^[0-9a-fA-F]{32}$/;

const store = (engine: Engine) => new DuplicationStore(engine.store);

function toRecord(r: DuplicationRow): DuplicationRecord {
  const { body, status, ...rest } = r;
  const b = body as { source: Party; target: Party; settings: unknown; pullFrom?: string };
  return {
    ...rest,
    status: status as DuplicationStatus,
    source: b.source,
    target: b.target,
    settings: normalizeStoredSettings(b.settings),
    ...(b.pullFrom ? { pullFrom: b.pullFrom } : {}),
  };
}

export async function findDuplication(engine: Engine, id: string): Promise<DuplicationRecord | undefined> {
  const r = await store(engine).get(id.toUpperCase());
  return r ? toRecord(r) : undefined;
}

/** Change a record when it is in one of `from`; false when it is not (a cancel or another worker won). */
export function updateDuplication(engine: Engine, id: string, patch: DuplicationPatch, from?: readonly DuplicationStatus[]): Promise<boolean> {
  return store(engine).update(id, patch, from);
}

/**
 * Who sees a record: whoever holds a role on the environment it concerns on
 * this server (the source, or the project it created), its creator, and
 * server admins. Anyone else reads it exactly like a missing one.
 */
export function canSee(p: Principal, r: DuplicationRecord): boolean {
  if (p.admin || r.createdBy === p.username) return true;
  return [r.sourceEnvId, r.targetEnvId].some((e) => e !== null && roleOn(p, e) !== null);
}

/** Cancelling or deleting needs the admin role where the record belongs (or to have started it). */
export function canManage(p: Principal, r: DuplicationRecord): boolean {
  if (p.admin || r.createdBy === p.username) return true;
  return [r.sourceEnvId, r.targetEnvId].some((e) => e !== null && roleOn(p, e) === 'admin');
}

export async function getVisibleDuplication(engine: Engine, principal: Principal, id: string): Promise<DuplicationRecord> {
  const r = await findDuplication(engine, id);
  if (!r || !canSee(principal, r)) throw new NotFoundError('duplication', id);
  return r;
}

export async function listDuplications(
  engine: Engine,
  principal: Principal,
  page: { limit: number; offset: number },
): Promise<{ items: DuplicationRecord[]; total: number }> {
  const envIds = principal.admin ? undefined : Object.keys(principal.roles);
  const r = await store(engine).list({ ...page, ...(envIds ? { envIds, orCreatedBy: principal.username } : {}) });
  return { items: r.items.map(toRecord), total: r.total };
}

export async function projectProperties(engine: Engine, env: Environment): Promise<ProjectProperties> {
  return (await store(engine).getProjectProperties(env.uid)) ?? { description: '', defaultLocale: 0, locales: [0] };
}

/** Whether two environment ids of a request name the same server (004: equal ids, a duplication within one environment). */
export function sameServer(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().replace(/\/+$/, '').toLowerCase();
  return norm(a) === norm(b);
}

/** The project id a request asks for (kept for the new project), checked, or a new one. */
function projectIdFrom(given: string | undefined, where: string): string {
  if (given === undefined) return newProjectId();
  if (!HEX32.test(given)) throw new ValidationError(`${where} must be 32 hexadecimal digits`);
  return given.toLowerCase();
}

/** Every start, cancel and deletion is in the audit log (the import or clone that creates a project writes its own entry). */
async function audit(
  engine: Engine,
  actor: Actor,
  action: string,
  r: Pick<DuplicationRecord, 'id' | 'sourceEnvId' | 'targetEnvId' | 'role'>,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await engine.store.audit.append({
    actor: actor.actor,
    address: actor.address ?? null,
    action,
    envId: r.sourceEnvId ?? r.targetEnvId,
    subject: r.id,
    result: 'ok',
    detail: { role: r.role, ...detail },
  });
}

async function insertAndSubmit(
  deps: DuplicationDeps,
  row: Omit<DuplicationRow, 'operationId' | 'createdAt' | 'updatedAt' | 'progress' | 'message'>,
  op: { kind: string; environmentId: string | null; actor: Actor; message: string },
): Promise<DuplicationRecord> {
  const ts = new Date().toISOString();
  const ds = store(deps.engine);
  if (await ds.get(row.id)) throw new ConflictError('DUPLICATION_EXISTS', `duplication ${row.id} already exists on this server`);
  try {
    await ds.insert({ ...row, progress: 0, message: '', operationId: null, createdAt: ts, updatedAt: ts });
  } catch (e) {
    // Two PUTs of one id at once: the second finds the first's row.
    if (await ds.get(row.id)) throw new ConflictError('DUPLICATION_EXISTS', `duplication ${row.id} already exists on this server`);
    throw e;
  }
  // The answer shows the record as it starts (the document's samples: `exporting`, progress 0), whatever a fast worker does next.
  const created = (await findDuplication(deps.engine, row.id))!;
  try {
    const operation = await deps.runner.submit({
      kind: op.kind,
      environmentId: op.environmentId,
      subject: row.id,
      params: { duplicationId: row.id },
      createdBy: op.actor.actor,
      address: op.actor.address ?? null,
      message: op.message,
    });
    await ds.update(row.id, { operationId: operation.id });
    created.operationId = operation.id;
  } catch (e) {
    await ds.delete(row.id);
    throw e;
  }
  await audit(deps.engine, op.actor, 'duplication.start', created, { source: created.source.project, target: created.target.project });
  return created;
}

/**
 * POST /api/projectDuplications on the source server: a record and the
 * operation that runs it. Within one server (`local`) the new project's
 * name and id are checked now (409), since this server creates it.
 */
export async function startSourceDuplication(
  deps: DuplicationDeps,
  input: { request: DuplicationRequest; sourceEnv: Environment; creator: { id: string; name: string }; actor: Actor; local: boolean },
): Promise<DuplicationRecord> {
  const { request, sourceEnv, creator, local } = input;
  const targetId = projectIdFrom(request.target.project.id, 'target.project.id');
  if (local) await checkProjectFree(deps.engine.store, request.target.project.name, targetId);
  const id = newDuplicationId();
  return insertAndSubmit(
    deps,
    {
      id,
      role: local ? 'local' : 'source',
      status: 'EXPORTING',
      body: {
        source: { environment: request.source.environment, project: { id: sourceEnv.uid, name: sourceEnv.name }, creator },
        target: { environment: request.target.environment, project: { id: targetId, name: request.target.project.name.trim() }, creator },
        settings: request.settings,
      },
      sourceEnvId: sourceEnv.id,
      targetEnvId: null,
      fileId: null,
      createdBy: input.actor.actor,
    },
    {
      kind: local ? DUPLICATION_OPS.local : DUPLICATION_OPS.export,
      environmentId: sourceEnv.id,
      actor: input.actor,
      message: `duplication ${id} of project ${sourceEnv.name} queued`,
    },
  );
}

/** The parts of a party the target can read from the source's record. */
function partyFrom(value: unknown): Party | undefined {
  const v = value as { environment?: { id?: unknown; name?: unknown }; project?: { id?: unknown; name?: unknown }; creator?: { id?: unknown; name?: unknown } };
  if (!v || typeof v !== 'object' || !v.environment || !v.project) return undefined;
  const str = (x: unknown) => (typeof x === 'string' ? x : '');
  const party: Party = {
    environment: { id: str(v.environment.id), name: str(v.environment.name) },
    project: { name: str(v.project.name), ...(typeof v.project.id === 'string' ? { id: v.project.id } : {}) },
  };
  if (v.creator) party.creator = { id: str(v.creator.id), name: str(v.creator.name) };
  return party;
}

/**
 * PUT /api/projectDuplications/{id} on the target server: a target record
 * that pulls the package from the source server once it is exported. What
 * the body leaves out (the project's name and id, the settings when they
 * are `{}`) comes from the source's record.
 */
export async function startTargetDuplication(
  deps: DuplicationDeps,
  input: { id: string; request: TargetRequest; source: SourceServer; remote: RemoteRecord; creator: { id: string; name: string }; actor: Actor },
): Promise<DuplicationRecord> {
  const { request, remote } = input;
  if (!['EXPORTING', 'EXPORT_SYNCING', 'EXPORTED'].includes(remote.status)) {
    throw new ValidationError(
      `duplication ${input.id} is ${remote.status} on the source server ${input.source.url}; only a duplication exporting for another server (EXPORTING, EXPORT_SYNCING, EXPORTED) can be imported`,
    );
  }
  const remoteSource = partyFrom(remote.source);
  const remoteTarget = partyFrom(remote.target);
  const name = request.target.project?.name ?? remoteTarget?.project.name;
  if (!name) throw new ValidationError('target.project.name is required (the source record names no target project)');
  const targetId = projectIdFrom(request.target.project?.id ?? remoteTarget?.project.id, 'target.project.id');
  await checkProjectFree(deps.engine.store, name, targetId);
  const settings = request.settings ?? normalizeStoredSettings(remote.settings);
  const environment = {
    id: request.target.environment?.id ?? remoteTarget?.environment.id ?? '',
    name: request.target.environment?.name ?? remoteTarget?.environment.name ?? '',
  };
  return insertAndSubmit(
    deps,
    {
      id: input.id.toUpperCase(),
      role: 'target',
      status: 'IMPORT_SYNCING',
      body: {
        source: remoteSource ?? { environment: { id: input.source.url, name: request.source.environment.name ?? input.source.url }, project: { name: '' } },
        target: { environment, project: { id: targetId, name: name.trim() }, creator: input.creator },
        settings,
        pullFrom: input.source.url,
      },
      sourceEnvId: null,
      targetEnvId: null,
      fileId: null,
      createdBy: input.actor.actor,
    },
    { kind: DUPLICATION_OPS.import, environmentId: null, actor: input.actor, message: `duplication ${input.id} from ${input.source.url} queued` },
  );
}

/**
 * POST /api/projectDuplications/restoration: a target record for an
 * uploaded package (already in the file store, its header checked).
 */
export async function startRestoration(
  deps: DuplicationDeps,
  input: { fileId: string; info: Record<string, unknown>; metadata: RestorationRequest; creator: { id: string; name: string }; actor: Actor },
): Promise<DuplicationRecord> {
  const { metadata } = input;
  const targetId = projectIdFrom(metadata.target.project.id, 'metadata.target.project.id');
  await checkProjectFree(deps.engine.store, metadata.target.project.name, targetId);
  const source = partyFrom(input.info.source) ?? { environment: { id: '', name: '' }, project: { name: '' } };
  const exported = normalizeStoredSettings(input.info.settings);
  const id = newDuplicationId();
  return insertAndSubmit(
    deps,
    {
      id,
      role: 'target',
      status: 'IMPORT_SYNCING',
      body: {
        source,
        target: { environment: metadata.target.environment, project: { id: targetId, name: metadata.target.project.name.trim() }, creator: input.creator },
        settings: { export: exported.export, import: metadata.settings.import },
      },
      sourceEnvId: null,
      targetEnvId: null,
      fileId: input.fileId,
      createdBy: input.actor.actor,
    },
    { kind: DUPLICATION_OPS.import, environmentId: null, actor: input.actor, message: `restoration ${id} of project ${source.project.name} queued` },
  );
}

/**
 * Cancel (004: only EXPORTING, EXPORT_SYNCING, IMPORT_SYNCING, IMPORTING).
 * The operation is told first: on SQLite a running import holds the one
 * writer connection, and the runner aborts a local run before it awaits
 * anything. An export ends CANCELLED at once (it wrote nothing anyone
 * reads); an import shows CANCELLING until its transaction has rolled back.
 */
export async function cancelDuplication(deps: DuplicationDeps, r: DuplicationRecord, actor: Actor): Promise<DuplicationRecord> {
  const refuse = (status: string) =>
    new ValidationError(`duplication ${r.id} is ${status}; only a duplication that is EXPORTING, EXPORT_SYNCING, IMPORT_SYNCING or IMPORTING can be cancelled`);
  if (!CANCELLABLE.includes(r.status)) throw refuse(r.status);
  if (r.operationId) {
    try {
      await deps.runner.cancel(r.operationId);
    } catch (e) {
      // Finished already: the record says how it ended.
      if (!(e instanceof FerryError && (e.code === 'OPERATION_FINISHED' || e.status === 404))) throw e;
    }
  }
  const next: DuplicationStatus = r.status === 'EXPORTING' || r.status === 'EXPORT_SYNCING' ? 'CANCELLED' : 'CANCELLING';
  await updateDuplication(deps.engine, r.id, { status: next, message: next === 'CANCELLED' ? 'cancelled by a user' : 'cancel requested' }, CANCELLABLE);
  const now = (await findDuplication(deps.engine, r.id))!;
  if (now.status !== 'CANCELLED' && now.status !== 'CANCELLING') throw refuse(now.status);
  await audit(deps.engine, actor, 'duplication.cancel', now, { from: r.status });
  return now;
}

/** Delete a finished record, and the package it kept. A running one must be cancelled first. */
export async function deleteDuplication(deps: DuplicationDeps, r: DuplicationRecord, actor: Actor): Promise<void> {
  if (!FINAL.includes(r.status)) {
    throw new ValidationError(`duplication ${r.id} is ${r.status}; cancel it (or let it finish) before deleting its record`);
  }
  await store(deps.engine).delete(r.id);
  if (r.fileId) await deps.files.remove(r.fileId);
  await audit(deps.engine, actor, 'duplication.delete', r, { status: r.status });
}
