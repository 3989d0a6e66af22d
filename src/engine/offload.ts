import { Worker } from 'node:worker_threads';
import { ConflictError, FerryError, LockedError, NotFoundError, ValidationError } from '../core/errors.js';
import type { Catalog } from '../core/types.js';
import { DatabaseFullError, DatabaseUnavailableError, TransactionConflictError } from '../store/db-errors.js';
import { PayloadTooLargeError } from '../store/file-store.js';
import { FileStoreFullError, FileStoreUnavailableError } from '../store/fs-errors.js';
import type { WriteGate } from '../store/write-gate.js';
import { ForbiddenError, UnauthorizedError } from './auth.js';
import type { ProgressFn } from './context.js';
import type { OffloadVerb } from './offload-verbs.js';

export type { OffloadVerb } from './offload-verbs.js';

/**
 * Why the long use cases run in a thread of their own (issue 9: the health
 * check took 2.4 s during a 29k-object install; at 100k, an assembly held
 * the event loop for 41 s).
 *
 * An install is ONE database transaction, and on SQLite every statement of
 * better-sqlite3 runs synchronously; assembly, prepare and rollback also
 * hash, order and plan the whole package in one go. Cutting all of that into
 * slices that yield would have meant making the pure core (assemblePackage,
 * orderForInstall, preparePlan) asynchronous and every bulk repository call
 * incremental, and a commit or a WAL checkpoint still cannot be cut. So the
 * use case runs, unchanged, in a worker thread with its own Engine: its own
 * store connections opened on the same database (SQLite file or PostgreSQL
 * pool), the same catalog. The transaction, the install lock and crash
 * recovery are exactly those of the code it runs: one transaction, all or
 * nothing; a kill takes the thread with the process. The main thread keeps
 * answering: its reads go through its own read connection (WAL), and its
 * writes wait for the process's write gate (store/write-gate.ts) as a
 * promise, where an install holds it from BEGIN to COMMIT.
 *
 * What crosses the thread boundary is plain data: arguments, the result,
 * progress events, an abort, and errors (rebuilt here as the same Ferry
 * error classes, so callers and faces map them as before).
 */
export interface OffloadConfig {
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  catalog: Catalog;
  publicUrl: string;
}

export type ToThread =
  | { type: 'run'; id: number; verb: OffloadVerb; args: unknown[]; progress: boolean }
  | { type: 'abort'; id: number }
  /** The caller's progress callback threw: abort, and fail at the next report (as the callback's throw would have, in one thread). */
  | { type: 'stop'; id: number; error: SerializedError }
  | { type: 'gate'; id: number }
  /** The next slice of the result's array `key`, from index `from`. */
  | { type: 'pull'; id: number; key: string; from: number }
  | { type: 'close' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: Parameters<ProgressFn>[0] }
  /** `big`: the result's long arrays (key -> length), left in the thread to pull a slice at a time (ENTRY_SLICE), one after the other. */
  | { type: 'done'; id: number; value: unknown; big?: Record<string, number> }
  | { type: 'slice'; id: number; key: string; items: unknown[] }
  | { type: 'failed'; id: number; error: SerializedError }
  | { type: 'gate:acquire'; id: number }
  | { type: 'gate:release'; id: number }
  | { type: 'closed' };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  status?: number;
  /** What it wraps (a few levels): callers read a driver's or the file system's code through `cause`. */
  cause?: SerializedError;
}

export function serializeError(e: unknown, depth = 0): SerializedError {
  if (e instanceof Error) {
    const { code, status, cause } = e as { code?: unknown; status?: unknown; cause?: unknown };
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof status === 'number' ? { status } : {}),
      ...(cause !== undefined && depth < 3 ? { cause: serializeError(cause, depth + 1) } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}

/**
 * A result's long arrays (a plan's `entries`, a sync's `results`: 10^5 of
 * them for a big package) cross in slices of this many, one message each,
 * the next asked for only after this thread has had a turn: receiving a
 * message is synchronous, and receiving 10^5 entries at once held the event
 * loop for over a second.
 */
export const ENTRY_SLICE = 2000;

/** The Ferry error classes callers tell apart with instanceof (the faces, the operations runner's database-fault check, login throttling). */
const FERRY_ERRORS: Record<string, { prototype: FerryError }> = {
  FerryError,
  ValidationError,
  NotFoundError,
  ConflictError,
  LockedError,
  ForbiddenError,
  UnauthorizedError,
  DatabaseUnavailableError,
  DatabaseFullError,
  TransactionConflictError,
  FileStoreFullError,
  FileStoreUnavailableError,
  PayloadTooLargeError,
};

/** The error a thread reported, as the class it was thrown as (a Ferry error keeps its code and status). */
export function deserializeError(s: SerializedError): Error {
  const ferry = FERRY_ERRORS[s.name];
  let e: Error;
  if (ferry || (s.code !== undefined && s.status !== undefined)) {
    e = Object.create((ferry ?? FerryError).prototype) as Error;
    Object.defineProperty(e, 'message', { value: s.message, writable: true, configurable: true });
    Object.assign(e, { code: s.code, status: s.status, name: s.name });
  } else {
    e = new Error(s.message);
    e.name = s.name;
    if (s.code !== undefined) Object.assign(e, { code: s.code });
  }
  if (s.stack) e.stack = s.stack;
  if (s.cause) Object.defineProperty(e, 'cause', { value: deserializeError(s.cause), writable: true, configurable: true });
  return e;
}

interface Job {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress?: ProgressFn;
  detach?: () => void;
  /** A result arriving in slices: the value so far, and the arrays still to come (key -> items left). */
  collect?: { value: Record<string, unknown[]>; left: [string, number][] };
  /** The caller's progress callback threw (an operation's cancel checkpoint): the call was aborted in the thread, and ends with this. */
  thrown?: { error: unknown };
}

/**
 * The main thread's side: one worker thread, started at the first call (or
 * `start()`), running any number of calls at once (it is an event loop like
 * this one). A thread that dies fails its running calls and is started
 * again at the next.
 */
export class Offload {
  readonly #config: OffloadConfig;
  readonly #gate: WriteGate | undefined;
  #worker: Worker | undefined;
  #ready: Promise<Worker> | undefined;
  #next = 1;
  readonly #jobs = new Map<number, Job>();
  /** Gate holds of the thread, by request id: released here if the thread dies holding one. */
  readonly #holds = new Map<number, () => void>();

  constructor(config: OffloadConfig, gate: WriteGate | undefined) {
    this.#config = config;
    this.#gate = gate;
  }

  /** Start the thread now (a server does at start, so the first install does not wait for it). */
  start(): Promise<void> {
    return this.#thread().then(() => undefined);
  }

  /**
   * Run `verb` in the thread; `onProgress` and `signal` are bridged. A
   * progress callback that throws (an operation's checkpoint once it is
   * cancelled) stops the call as it would in this thread: the call is
   * aborted in the thread (which stops at its next report) and fails here
   * with what the callback threw.
   */
  async run<T>(verb: OffloadVerb, args: unknown[], opts: { onProgress?: ProgressFn | undefined; signal?: AbortSignal | undefined } = {}): Promise<T> {
    const worker = await this.#thread();
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const job: Job = { resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress };
      const signal = opts.signal;
      if (signal) {
        const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ToThread);
        if (signal.aborted) queueMicrotask(onAbort);
        else signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#jobs.set(id, job);
      // A call in flight keeps the process alive, as the same call in this thread would.
      if (this.#jobs.size === 1) worker.ref();
      worker.postMessage({ type: 'run', id, verb, args, progress: !!opts.onProgress } satisfies ToThread);
    });
  }

  /**
   * How long (ms) the thread has spent working (not waiting) since it
   * started: its event-loop utilization, read without a turn of this
   * thread's loop. 0 before the thread runs.
   */
  busyMs(): number {
    return this.#worker?.performance.eventLoopUtilization().active ?? 0;
  }

  /** Stop the thread after its calls end (the caller has stopped new work first). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    // A thread still starting first says it is ready (and is unref'd then): wait for that, or for its failure to start.
    const started = await this.#ready?.then(
      () => true,
      () => false,
    );
    if (!started || this.#worker !== worker) return;
    // Held again: the process waits for the thread to close its store.
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies ToThread);
    });
  }

  #thread(): Promise<Worker> {
    if (this.#ready) return this.#ready;
    // Built, the entry is the .js beside this file. Run from the sources (tsx:
    // tests, the bench), the .ts, and a thread does not inherit tsx's module
    // hooks from `--import tsx`: register them in the thread first.
    const fromSources = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSources ? './offload-thread.ts' : './offload-thread.js', import.meta.url);
    const worker = fromSources
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, {
          eval: true,
          workerData: this.#config,
        })
      : new Worker(entry, { workerData: this.#config });
    this.#worker = worker;
    this.#ready = new Promise<Worker>((resolve, reject) => {
      worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          // Idle, the thread does not keep the process alive (close() ends it on a clean stop); starting, or running a call, it does.
          worker.unref();
          resolve(worker);
        } else this.#onMessage(worker, m);
      });
      worker.once('error', (e) => {
        reject(e);
        this.#lost(worker, e);
      });
      worker.once('exit', (code) => {
        const e = new Error(`the offload thread exited (code ${code})`);
        reject(e);
        this.#lost(worker, e);
      });
    });
    return this.#ready;
  }

  #onMessage(worker: Worker, m: FromThread): void {
    switch (m.type) {
      case 'progress': {
        const job = this.#jobs.get(m.id);
        if (!job?.onProgress || job.thrown) break;
        try {
          job.onProgress(m.progress);
        } catch (error) {
          job.thrown = { error };
          worker.postMessage({ type: 'stop', id: m.id, error: serializeError(error) } satisfies ToThread);
        }
        break;
      }
      case 'done': {
        const job = this.#jobs.get(m.id);
        if (job?.thrown) {
          this.#settle(worker, m.id, (j) => j.reject(j.thrown!.error as Error));
          break;
        }
        const left = Object.entries(m.big ?? {});
        if (left.length === 0) {
          this.#settle(worker, m.id, (j) => j.resolve(m.value));
          break;
        }
        if (job) job.collect = { value: m.value as Record<string, unknown[]>, left };
        worker.postMessage({ type: 'pull', id: m.id, key: left[0]![0], from: 0 } satisfies ToThread);
        break;
      }
      case 'slice': {
        const collect = this.#jobs.get(m.id)?.collect;
        if (!collect) break;
        const into = collect.value[m.key]!;
        for (const item of m.items) into.push(item);
        const head = collect.left[0]!;
        head[1] -= m.items.length;
        if (head[1] <= 0) collect.left.shift();
        const next = collect.left[0];
        if (!next) this.#settle(worker, m.id, (job) => job.resolve(collect.value));
        // The next slice after a turn of this loop: requests waiting meanwhile are served first.
        else setImmediate(() => worker.postMessage({ type: 'pull', id: m.id, key: next[0], from: collect.value[next[0]]!.length } satisfies ToThread));
        break;
      }
      case 'failed':
        this.#settle(worker, m.id, (job) => job.reject(job.thrown ? (job.thrown.error as Error) : deserializeError(m.error)));
        break;
      case 'gate:acquire':
        if (!this.#gate) {
          worker.postMessage({ type: 'gate', id: m.id } satisfies ToThread);
          break;
        }
        void this.#gate.acquire().then((release) => {
          if (this.#worker !== worker) return release();
          this.#holds.set(m.id, release);
          worker.postMessage({ type: 'gate', id: m.id } satisfies ToThread);
        });
        break;
      case 'gate:release':
        this.#holds.get(m.id)?.();
        this.#holds.delete(m.id);
        break;
    }
  }

  #settle(worker: Worker, id: number, fn: (job: Job) => void): void {
    const job = this.#jobs.get(id);
    this.#jobs.delete(id);
    if (this.#jobs.size === 0) worker.unref();
    if (!job) return;
    job.detach?.();
    fn(job);
  }

  #lost(worker: Worker, e: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = undefined;
    for (const release of this.#holds.values()) release();
    this.#holds.clear();
    for (const job of this.#jobs.values()) {
      job.detach?.();
      job.reject(e);
    }
    this.#jobs.clear();
  }
}
