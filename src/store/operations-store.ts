import type { Store } from './store.js';
import { serverDb, serverReadDb } from './server-schema.js';
import type { OperationsTable } from './server-schema.js';

export const OPERATION_STATUSES = ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/** An asynchronous job as users see it (DESIGN.md "operation"). */
export interface Operation {
  id: string;
  kind: string;
  status: OperationStatus;
  /** 0-100. */
  progress: number;
  message: string;
  environmentId: string | null;
  subject: string | null;
  params: Record<string, unknown>;
  result: unknown;
  error: { code: string; message: string } | null;
  createdBy: string | null;
  address: string | null;
  /** Host name of the server process that runs or ran it. */
  server: string | null;
  worker: string | null;
  attempts: number;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  heartbeatAt: string | null;
}

export interface OperationFilter {
  kind?: string;
  status?: OperationStatus;
  /** What it works on (a package, an installation). */
  subject?: string;
  /** Only operations on these environments, or created by `orCreatedBy`. Undefined: all. */
  envIds?: readonly string[];
  orCreatedBy?: string;
  limit?: number;
  offset?: number;
}

const FINISHED: readonly OperationStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];
/** COMPLETED, FAILED and CANCELLED are final: nothing changes an operation after them. */
export const isFinished = (s: OperationStatus): boolean => FINISHED.includes(s);

/**
 * Operation rows. Every state change is a conditional UPDATE on the current
 * status (`... WHERE status = 'QUEUED'`), so two workers (or a worker and a
 * cancel request) racing on one row cannot both win, on SQLite or PostgreSQL.
 */
/** Finished operations kept in memory per process (oldest dropped first). */
const FINISHED_CACHE = 2000;
/**
 * How long a poll may be answered from memory for an operation that is still
 * QUEUED or RUNNING. Writes through this process drop the copy at once; a
 * write by another server process sharing the database shows up within this.
 */
export const RECENT_MS = 250;

interface Cached {
  op: Operation;
  /** Its JSON as UTF-8 bytes: polled hard, sent as they are without encoding the text again. */
  json: Buffer;
}

/** The operation caches of one store, shared by every OperationsStore over it (routes and worker of one process). */
const cachesOf = new WeakMap<Store, { finished: Map<string, Cached>; recent: Map<string, Cached & { at: number }> }>();

export class OperationsStore {
  private readonly finished: Map<string, Cached>;
  private readonly recent: Map<string, Cached & { at: number }>;

  constructor(private readonly store: Store) {
    let caches = cachesOf.get(store);
    if (!caches) cachesOf.set(store, (caches = { finished: new Map(), recent: new Map() }));
    this.finished = caches.finished;
    this.recent = caches.recent;
  }

  /** Drop the in-memory copy of operations this process changes. */
  private forget(ids: Iterable<string>): void {
    for (const id of ids) this.recent.delete(id);
  }

  private get db() {
    return serverDb(this.store);
  }

  private get rdb() {
    return serverReadDb(this.store);
  }

  async insert(op: Operation): Promise<void> {
    await this.db.insertInto('operations').values(toRow(op)).execute();
  }

  async get(id: string): Promise<Operation | undefined> {
    return (await this.getWithJson(id))?.op;
  }

  /**
   * An operation and its JSON text. A finished operation never changes
   * again (COMPLETED, FAILED, CANCELLED are final on every server process),
   * so it is kept in memory: CI pipelines poll status endpoints hard, and a
   * finished operation is what most of those polls read.
   */
  async getWithJson(id: string): Promise<Cached | undefined> {
    const hit = this.finished.get(id);
    if (hit) return hit;
    const t = Date.now();
    const recent = this.recent.get(id);
    if (recent && t - recent.at < RECENT_MS) return recent;
    const row = await this.rdb.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const op = toOperation(row);
    const entry = { op, json: Buffer.from(JSON.stringify(op)) };
    if (isFinished(op.status)) {
      this.recent.delete(id);
      if (this.finished.size >= FINISHED_CACHE) this.finished.delete(this.finished.keys().next().value!);
      this.finished.set(id, entry);
    } else {
      // Polls of a QUEUED or RUNNING operation within RECENT_MS share one read.
      if (this.recent.size >= FINISHED_CACHE) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(id, { ...entry, at: t });
    }
    return entry;
  }

  async list(f: OperationFilter = {}): Promise<{ items: Operation[]; total: number }> {
    let q = this.rdb.selectFrom('operations');
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.subject) q = q.where('subject', '=', f.subject);
    if (f.envIds) {
      // No sentinel value for "none": PostgreSQL refuses a NUL in text.
      const envIds = [...f.envIds];
      const by = f.orCreatedBy;
      if (envIds.length === 0 && !by) return { items: [], total: 0 };
      if (envIds.length === 0) q = q.where('created_by', '=', by!);
      else q = by ? q.where((eb) => eb.or([eb('env_id', 'in', envIds), eb('created_by', '=', by)])) : q.where('env_id', 'in', envIds);
    }
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(f.limit ?? 50)
      .offset(f.offset ?? 0)
      .execute();
    return { items: rows.map(toOperation), total: Number(total.n) };
  }

  /** Oldest queued ids first: candidates for `claim`. */
  async queued(limit: number): Promise<string[]> {
    const rows = await this.rdb.selectFrom('operations').select('id').where('status', '=', 'QUEUED').orderBy('created_at').orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  /** QUEUED -> RUNNING for this worker; false when someone else was faster. */
  async claim(id: string, worker: string, server: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('operations')
      .set((eb) => ({ status: 'RUNNING', worker, server, started_at: at, heartbeat_at: at, updated_at: at, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('status', '=', 'QUEUED')
      .executeTakeFirst();
    this.forget([id]);
    return Number(res.numUpdatedRows) === 1;
  }

  /** Progress of a running operation (ignored once it finished). */
  async progress(id: string, progress: number, message: string, at: string): Promise<void> {
    await this.db
      .updateTable('operations')
      .set({ progress, message, updated_at: at, heartbeat_at: at })
      .where('id', '=', id)
      .where('status', '=', 'RUNNING')
      .execute();
    this.forget([id]);
  }

  async setSubject(id: string, subject: string): Promise<void> {
    await this.db.updateTable('operations').set({ subject }).where('id', '=', id).execute();
    this.forget([id]);
  }

  /**
   * Heartbeat of every operation a worker runs; returns the ids whose cancel
   * was requested, and those it no longer holds (another process took it for
   * dead and recovered it: the run must stop).
   */
  async heartbeat(worker: string, ids: readonly string[], at: string): Promise<{ cancelled: string[]; lost: string[] }> {
    if (ids.length === 0) return { cancelled: [], lost: [] };
    await this.db
      .updateTable('operations')
      .set({ heartbeat_at: at })
      .where('worker', '=', worker)
      .where('status', '=', 'RUNNING')
      .where('id', 'in', [...ids])
      .execute();
    this.forget(ids);
    const rows = await this.rdb
      .selectFrom('operations')
      .select(['id', 'cancel_requested', 'worker', 'status'])
      .where('id', 'in', [...ids])
      .execute();
    return {
      cancelled: rows.filter((r) => Number(r.cancel_requested) === 1).map((r) => r.id),
      lost: rows.filter((r) => r.worker !== worker || r.status !== 'RUNNING').map((r) => r.id),
    };
  }

  /** RUNNING -> a final status (or back to QUEUED), only if `worker` still holds it. */
  async finish(
    id: string,
    worker: string,
    f: { status: OperationStatus; progress?: number; message: string; result?: unknown; error?: { code: string; message: string } | null; at: string },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable('operations')
      .set({
        status: f.status,
        message: f.message,
        ...(f.progress !== undefined ? { progress: f.progress } : {}),
        ...(f.result !== undefined ? { result: JSON.stringify(f.result) } : {}),
        ...(f.error !== undefined ? { error: f.error ? JSON.stringify(f.error) : null } : {}),
        finished_at: isFinished(f.status) ? f.at : null,
        ...(f.status === 'QUEUED' ? { worker: null, started_at: null, heartbeat_at: null, cancel_requested: 0 } : {}),
        updated_at: f.at,
      })
      .where('id', '=', id)
      .where('status', '=', 'RUNNING')
      .where('worker', '=', worker)
      .executeTakeFirst();
    this.forget([id]);
    return Number(res.numUpdatedRows) === 1;
  }

  /** Cancel a queued operation outright; false when it is no longer queued. */
  async cancelQueued(id: string, message: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('operations')
      .set({ status: 'CANCELLED', message, error: JSON.stringify({ code: 'CANCELLED', message }), cancel_requested: 1, finished_at: at, updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'QUEUED')
      .executeTakeFirst();
    this.forget([id]);
    return Number(res.numUpdatedRows) === 1;
  }

  /** Ask the worker running it to stop at its next checkpoint. */
  async requestCancel(id: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('operations')
      .set({ cancel_requested: 1, message: 'cancel requested', updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'RUNNING')
      .executeTakeFirst();
    this.forget([id]);
    return Number(res.numUpdatedRows) === 1;
  }

  async running(): Promise<Operation[]> {
    const rows = await this.rdb.selectFrom('operations').selectAll().where('status', '=', 'RUNNING').execute();
    return rows.map(toOperation);
  }

  /** Recovery of an operation whose worker died: only applies while it is still RUNNING under that worker. */
  async recover(
    id: string,
    worker: string | null,
    to: { status: 'QUEUED' | 'FAILED' | 'COMPLETED'; message: string; error?: { code: string; message: string }; result?: unknown; at: string },
  ): Promise<boolean> {
    let q = this.db
      .updateTable('operations')
      .set({
        status: to.status,
        message: to.message,
        error: to.error ? JSON.stringify(to.error) : null,
        ...(to.status === 'COMPLETED' ? { progress: 100, result: JSON.stringify(to.result ?? null) } : {}),
        finished_at: to.status === 'QUEUED' ? null : to.at,
        ...(to.status === 'QUEUED' ? { worker: null, started_at: null, heartbeat_at: null, cancel_requested: 0 } : {}),
        updated_at: to.at,
      })
      .where('id', '=', id)
      .where('status', '=', 'RUNNING');
    q = worker === null ? q.where('worker', 'is', null) : q.where('worker', '=', worker);
    const res = await q.executeTakeFirst();
    this.forget([id]);
    return Number(res.numUpdatedRows) === 1;
  }

  /** Counts by kind and status (metrics). */
  async countByKindAndStatus(): Promise<{ kind: string; status: string; n: number }[]> {
    const rows = await this.rdb
      .selectFrom('operations')
      .select(['kind', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['kind', 'status'])
      .execute();
    return rows.map((r) => ({ kind: r.kind, status: r.status, n: Number(r.n) }));
  }
}

function toRow(op: Operation): OperationsTable {
  return {
    id: op.id,
    kind: op.kind,
    status: op.status,
    progress: op.progress,
    message: op.message,
    env_id: op.environmentId,
    subject: op.subject,
    params: JSON.stringify(op.params),
    result: op.result === undefined || op.result === null ? null : JSON.stringify(op.result),
    error: op.error ? JSON.stringify(op.error) : null,
    created_by: op.createdBy,
    address: op.address,
    server: op.server,
    worker: op.worker,
    attempts: op.attempts,
    cancel_requested: op.cancelRequested ? 1 : 0,
    created_at: op.createdAt,
    started_at: op.startedAt,
    finished_at: op.finishedAt,
    updated_at: op.updatedAt,
    heartbeat_at: op.heartbeatAt,
  };
}

function toOperation(r: OperationsTable): Operation {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status as OperationStatus,
    progress: Number(r.progress),
    message: r.message,
    environmentId: r.env_id,
    subject: r.subject,
    params: JSON.parse(r.params) as Record<string, unknown>,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    error: r.error === null ? null : (JSON.parse(r.error) as { code: string; message: string }),
    createdBy: r.created_by,
    address: r.address,
    server: r.server,
    worker: r.worker,
    attempts: Number(r.attempts),
    cancelRequested: Number(r.cancel_requested) === 1,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    heartbeatAt: r.heartbeat_at,
  };
}
