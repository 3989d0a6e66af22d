import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, FerryError, NotFoundError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { databaseError, databaseFault } from '../store/db-errors.js';
import { OperationsStore, isFinished, type Operation } from '../store/operations-store.js';
import type { NewOperation, OperationContext, OperationHandler, OperationHandlers, OperationRunner, RecoveredOutcome, RunnerEvent } from './types.js';
import { ShutdownReason, TakenOverReason } from '../engine/operations-port.js';

/** The operation was cancelled (by a user, or by the server stopping). */
export class CancelledError extends FerryError {
  constructor(message = 'operation cancelled') {
    super('CANCELLED', 409, message);
  }
}

/** The server is shutting down and takes no new operations. */
export class ShuttingDownError extends FerryError {
  constructor() {
    super('SHUTTING_DOWN', 503, 'the server is shutting down and takes no new operations; retry against another server or after the restart');
  }
}

export interface EmbeddedWorkerOptions {
  store: Store;
  handlers: OperationHandlers;
  /** Operations run at once by this process (FERRY_WORKERS); 0 makes an API-only process. */
  concurrency?: number;
  /** How often to look for work queued by other processes. */
  pollMs?: number;
  /** How often running operations prove they are alive (and learn about remote cancels). */
  heartbeatMs?: number;
  /** A running operation whose heartbeat is older than this, on another host, belongs to a dead worker. */
  staleMs?: number;
  /** Runs after which a resumable operation whose worker keeps dying is failed instead of re-queued. */
  maxAttempts?: number;
  /**
   * Run again from its start an operation whose worker died when its handler
   * reads that the work wrote nothing (an install whose one transaction never
   * committed), instead of failing it: its clean-up (the install lock) runs
   * first. On for the shared PostgreSQL delivery, where another process
   * picks it up at once; off for the embedded server, whose restart is an
   * operator's act (the user decides whether to install again).
   */
  retryUnwritten?: boolean;
  /** Host name recorded on the operations it runs. */
  server?: string;
  /** Where background errors are reported (the loop itself never throws). */
  onError?: (e: unknown, where: string) => void;
}

/** Worker instances alive in this process (tests run several servers in one process). */
const LIVE_INSTANCES = new Set<string>();

export interface Running {
  op: Operation;
  controller: AbortController;
  done: Promise<void>;
}

const now = () => new Date().toISOString();

/**
 * The embedded worker: operations run inside the server process, claimed
 * from the database with a conditional UPDATE (QUEUED -> RUNNING), so it
 * works the same on SQLite and PostgreSQL and several processes sharing a
 * PostgreSQL database never run one operation twice.
 *
 * Crash recovery: an operation left RUNNING by a worker that is gone (same
 * host: its pid no longer exists; other host: no heartbeat for `staleMs`) is
 * re-queued when its handler says it is resumable; otherwise it ends as its
 * handler reads the work really ended (an install that committed just before
 * the kill is COMPLETED with its result), else FAILED visibly; either way with
 * the handler's clean-up (e.g. releasing an install lock).
 */
/** What to do after a run of these kinds died: each is one transaction, so it wrote nothing. */
const AGAIN: Partial<Record<string, string>> = {
  install: 'an install is one transaction, so nothing was written: prepare and install again',
  'bundle.import': 'an import is one transaction, so nothing was written: import the bundle again',
};

export class EmbeddedWorker extends EventEmitter implements OperationRunner {
  readonly ops: OperationsStore;
  readonly server: string;
  readonly workerId: string;
  protected readonly handlers: OperationHandlers;
  protected readonly concurrency: number;
  private readonly pollMs: number;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly maxAttempts: number;
  private readonly retryUnwritten: boolean;
  protected readonly onError: (e: unknown, where: string) => void;
  protected readonly running = new Map<string, Running>();
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private stopping = false;
  private ticking: Promise<void> | null = null;
  private again = false;

  constructor(opts: EmbeddedWorkerOptions) {
    super();
    this.ops = new OperationsStore(opts.store);
    this.handlers = opts.handlers;
    this.concurrency = opts.concurrency ?? 2;
    this.pollMs = opts.pollMs ?? 1000;
    this.staleMs = opts.staleMs ?? 30_000;
    // Several beats within the stale time: a beat delayed by a busy event loop is not a death.
    this.heartbeatMs = opts.heartbeatMs ?? Math.min(5000, Math.max(250, Math.floor(this.staleMs / 4)));
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.retryUnwritten = opts.retryUnwritten ?? false;
    this.server = opts.server ?? hostname();
    this.workerId = `${this.server}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.onError = opts.onError ?? (() => {});
  }

  get accepting(): boolean {
    return this.started && !this.stopping;
  }

  override on(event: RunnerEvent, listener: (op: Operation) => void): this {
    return super.on(event, listener);
  }

  override off(event: RunnerEvent, listener: (op: Operation) => void): this {
    return super.off(event, listener);
  }

  async start(): Promise<void> {
    if (this.started) return;
    LIVE_INSTANCES.add(this.workerId);
    this.started = true;
    await this.recoverDead();
    this.every(this.heartbeatMs, () => this.heartbeat(), 'heartbeat');
    this.every(Math.max(1000, Math.floor(this.staleMs / 2)), () => this.recoverDead(), 'recovery');
    await this.startDelivery();
  }

  /** Run fn every `ms` until stop (errors reported, never thrown). */
  protected every(ms: number, fn: () => Promise<unknown>, where: string): void {
    const t = setInterval(() => void fn().catch((e) => this.onError(e, where)), ms);
    t.unref();
    this.timers.push(t);
  }

  /** Start taking queued operations: the embedded delivery polls the operations table (and is woken by `deliver`). */
  protected async startDelivery(): Promise<void> {
    this.every(this.pollMs, () => this.tick(), 'poll');
    this.kick();
  }

  /** An operation is QUEUED (new, or again after its worker died): see that some worker runs it. */
  protected async deliver(_op: Operation): Promise<void> {
    this.kick();
  }

  /** Stop taking queued operations (before running ones are drained). */
  protected async stopDelivery(): Promise<void> {}

  async submit(input: NewOperation): Promise<Operation> {
    if (!this.accepting) throw new ShuttingDownError();
    const at = now();
    const op: Operation = {
      id: randomUUID(),
      kind: input.kind,
      status: 'QUEUED',
      progress: 0,
      message: input.message ?? 'queued',
      environmentId: input.environmentId,
      subject: input.subject ?? null,
      params: input.params,
      result: null,
      error: null,
      createdBy: input.createdBy,
      address: input.address ?? null,
      server: null,
      worker: null,
      attempts: 0,
      cancelRequested: false,
      createdAt: at,
      startedAt: null,
      finishedAt: null,
      updatedAt: at,
      heartbeatAt: null,
    };
    if (!this.handlers[op.kind]) throw new FerryError('UNKNOWN_OPERATION', 500, `no handler for operations of kind ${op.kind}`);
    await this.ops.insert(op);
    await this.deliver(op);
    return op;
  }

  async get(id: string): Promise<Operation> {
    const op = await this.ops.get(id);
    if (!op) throw new NotFoundError('operation', id);
    return op;
  }

  async cancel(id: string): Promise<Operation> {
    // Abort a local run first, before any await: its next checkpoint must see
    // it even if that comes before the database answers (on SQLite the
    // running install holds the one writer connection until it ends).
    this.running.get(id)?.controller.abort(new CancelledError('cancelled by a user'));
    const op = await this.get(id);
    if (isFinished(op.status)) throw new ConflictError('OPERATION_FINISHED', `operation ${id} is already ${op.status}`);
    if (op.status === 'QUEUED') {
      if (await this.ops.cancelQueued(id, 'cancelled before it started', now())) {
        const cancelled = await this.get(id);
        await this.handlers[op.kind]?.abandon?.(cancelled, 'cancelled before it started').catch((e) => this.onError(e, 'abandon'));
        this.emit('finished', cancelled);
        return cancelled;
      }
    } else {
      await this.ops.requestCancel(id, now());
    }
    const current = await this.get(id);
    if (isFinished(current.status) && current.status !== 'CANCELLED') {
      throw new ConflictError('OPERATION_FINISHED', `operation ${id} is already ${current.status}`);
    }
    return current;
  }

  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.stopDelivery().catch((e) => this.onError(e, 'stop'));
    await this.ticking?.catch(() => {});
    const grace = opts.graceMs ?? 20_000;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), grace)));
      const outcome = await Promise.race([all().then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        for (const r of this.running.values()) r.controller.abort(new ShutdownReason('server stopping'));
        // Handlers stop at their next checkpoint; an install rolls back its transaction.
        await all();
      }
    }
    LIVE_INSTANCES.delete(this.workerId);
  }

  /** Wake the claim loop now (coalesced). */
  protected kick(): void {
    if (!this.accepting || this.concurrency <= 0) return;
    setImmediate(() => void this.tick().catch((e) => this.onError(e, 'tick')));
  }

  private tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        while (this.accepting && this.running.size < this.concurrency) {
          const ids = await this.ops.queued(this.concurrency - this.running.size + 4);
          let claimed = 0;
          for (const id of ids) {
            if (!this.accepting || this.running.size >= this.concurrency) break;
            if (await this.ops.claim(id, this.workerId, this.server, now())) {
              claimed++;
              this.launch((await this.ops.get(id))!);
            }
          }
          if (claimed === 0) break;
        }
      } while (this.again && this.accepting);
    })().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Run an operation this worker claimed; `running` holds it until it ends. */
  protected launch(op: Operation): Running {
    const controller = new AbortController();
    const handler = this.handlers[op.kind]!;
    let last = op.progress;
    let lastWrite = 0;
    let lastMessage = '';
    let writes: Promise<unknown> = Promise.resolve();
    const write = (p: number, m: string) => {
      writes = writes.then(() => this.ops.progress(op.id, p, m, now())).catch((e) => this.onError(e, 'progress'));
    };
    const ctx: OperationContext = {
      op,
      signal: controller.signal,
      progress: (percent, message) => {
        if (controller.signal.aborted) throw toCancelled(controller.signal.reason);
        const p = Math.max(last, Math.min(100, Math.floor(percent)));
        const m = message ?? lastMessage;
        const t = Date.now();
        // Throttled: a 100k-object install reports thousands of times.
        if (p !== last || m !== lastMessage) {
          const significant = m !== lastMessage || p === 100 || t - lastWrite > 250;
          last = p;
          lastMessage = m;
          if (significant) {
            lastWrite = t;
            write(p, m);
            this.emit('progress', { ...op, status: 'RUNNING', progress: p, message: m });
          }
        }
      },
      setSubject: async (subject) => {
        op.subject = subject;
        await this.ops.setSubject(op.id, subject);
      },
    };
    write(0, 'running');
    const done = (async () => {
      let result: unknown;
      let failure: unknown;
      try {
        result = await handler.run(ctx);
      } catch (e) {
        failure = e;
      }
      await writes;
      const at = now();
      const reason: unknown = controller.signal.reason;
      // Recording the end waits for the database when it is gone (stopped,
      // unreachable): the outcome is known here, and a later recovery could
      // only guess it.
      const finish = (outcome: Parameters<OperationsStore['finish']>[2]) => this.untilDatabase(() => this.ops.finish(op.id, this.workerId, outcome));
      if (failure === undefined) {
        await finish({ status: 'COMPLETED', progress: 100, message: 'completed', result: result ?? null, error: null, at });
      } else if (controller.signal.aborted && reason instanceof ShutdownReason) {
        if (handler.resumable(op)) {
          await finish({
            status: 'QUEUED',
            progress: 0,
            message: `the server (${this.server}) stopped while this ran; it runs again ${this.requeuedWhere}`,
            at,
          });
          await this.deliver(op);
        } else {
          const message = `the server (${this.server}) stopped while this ran: ${errorOf(failure).message}`;
          await finish({ status: 'FAILED', message, error: { code: 'SERVER_STOPPED', message }, at });
        }
      } else if (controller.signal.aborted) {
        const e = errorOf(failure);
        await finish({ status: 'CANCELLED', message: e.message, error: { code: 'CANCELLED', message: e.message }, at });
      } else {
        const e = errorOf(failure);
        // The database went away while this ran: once it is back, read what
        // really happened (an install may have committed just before).
        const read = databaseFault(failure) && handler.recover ? await this.untilDatabase(() => handler.recover!(op)) : null;
        await finish(read ? { ...read, at } : { status: 'FAILED', message: e.message, error: e, at });
        if (!(failure instanceof FerryError) || failure.status >= 500) this.onError(failure, `operation ${op.kind} ${op.id}`);
      }
    })()
      .catch((e) => this.onError(e, 'finish'))
      .finally(async () => {
        this.running.delete(op.id);
        const final = await this.ops.get(op.id).catch(() => undefined);
        if (final) this.emit('finished', final);
        this.kick();
      });
    const run = { op, controller, done };
    this.running.set(op.id, run);
    return run;
  }

  /**
   * Run fn, again and again while the database is unavailable (backing off
   * up to 10 s), until it works or this worker stops; any other error is
   * thrown at once.
   */
  private async untilDatabase<T>(fn: () => Promise<T>): Promise<T> {
    for (let wait = 250; ; wait = Math.min(wait * 2, 10_000)) {
      try {
        return await fn();
      } catch (e) {
        if (!databaseFault(e) || this.stopping) throw e;
        this.onError(e, 'waiting for the database');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.running.keys()];
    const { cancelled, lost } = await this.ops.heartbeat(this.workerId, ids, now());
    // A cancel requested through another server process reaches us here.
    for (const id of cancelled) this.running.get(id)?.controller.abort(new CancelledError('cancelled by a user'));
    // Taken for dead (this process stalled past staleMs) and recovered elsewhere: stop, so two runs never race (an install rolls back).
    for (const id of lost) this.running.get(id)?.controller.abort(new TakenOverReason('another server process took this operation over'));
  }

  /** Where an operation re-queued by a stopping server runs, for its message. */
  protected get requeuedWhere(): string {
    return 'at the next start';
  }

  /** Whether the worker that claimed `op` is gone. */
  private isDead(op: Operation): boolean {
    if (!op.worker) return true;
    if (op.worker === this.workerId) return !this.running.has(op.id) && !this.ticking;
    const [host, pidText] = op.worker.split(':');
    const pid = Number(pidText);
    const stale = !op.heartbeatAt || Date.now() - Date.parse(op.heartbeatAt) > this.staleMs;
    if (host !== this.server) return stale;
    if (pid === process.pid) return !LIVE_INSTANCES.has(op.worker);
    try {
      process.kill(pid, 0);
      // The pid exists: alive, unless it stopped beating long ago (the pid was reused).
      return stale;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }

  /** The end of a run that died and left nothing telling otherwise. */
  private diedWhileRunning(op: Operation, handler: OperationHandler | undefined, who: string): RecoveredOutcome {
    const message = handler?.resumable(op)
      ? `the server (${who}) stopped while this ran, ${op.attempts} times; not retried again`
      : `the server (${who}) stopped while this ran; ${AGAIN[op.kind] ?? 'run it again'}`;
    return { status: 'FAILED', message, error: { code: 'SERVER_STOPPED', message } };
  }

  /**
   * Re-queue, fail or (when the handler finds the work was done) complete
   * operations whose worker died. Never throws.
   */
  async recoverDead(): Promise<Operation[]> {
    const recovered: Operation[] = [];
    let running: Operation[];
    try {
      running = await this.ops.running();
    } catch (e) {
      this.onError(e, 'recovery');
      return recovered;
    }
    for (const op of running) {
      if (this.running.has(op.id) || !this.isDead(op)) continue;
      try {
        const handler = this.handlers[op.kind];
        const who = op.server ?? 'unknown';
        const at = now();
        const requeue = async (message: string) => {
          if (await this.ops.recover(op.id, op.worker, { status: 'QUEUED', message, at })) {
            const again = (await this.ops.get(op.id))!;
            recovered.push(again);
            await this.deliver(again);
          }
        };
        if (handler?.resumable(op) && op.attempts < this.maxAttempts) {
          await requeue(`re-queued: the server (${who}) stopped while this ran (attempt ${op.attempts} of ${this.maxAttempts})`);
        } else {
          // The run may have done its work and died before saying so: ask what it left.
          const found = (await handler?.recover?.(op)) ?? null;
          if (found === null && handler?.recover && this.retryUnwritten && op.attempts < this.maxAttempts) {
            // Nothing was written (the install's transaction never committed): clean up after the dead run, then run it again.
            const message = `re-queued: the server (${who}) stopped while this ran, before anything was written (attempt ${op.attempts} of ${this.maxAttempts})`;
            await handler.abandon?.(op, message);
            await requeue(message);
            continue;
          }
          const outcome = found ?? this.diedWhileRunning(op, handler, who);
          if (await this.ops.recover(op.id, op.worker, { ...outcome, at })) {
            const ended = (await this.ops.get(op.id))!;
            await handler?.abandon?.(ended, outcome.message);
            recovered.push(ended);
            this.emit('finished', ended);
          }
        }
      } catch (e) {
        this.onError(e, `recovery of ${op.id}`);
      }
    }
    return recovered;
  }
}

function toCancelled(reason: unknown): Error {
  if (reason instanceof CancelledError) return reason;
  if (reason instanceof ShutdownReason) return new CancelledError('the server is stopping');
  if (reason instanceof TakenOverReason) return new CancelledError(reason.message);
  return new CancelledError();
}

function errorOf(e: unknown): { code: string; message: string } {
  const db = databaseError(e);
  if (db) return { code: db.code, message: db.message };
  if (e instanceof FerryError) return { code: e.code, message: e.message };
  // Never a stack trace, nor the raw message (a Node error names server paths)
  // in a user-visible record; the log has both.
  return { code: 'INTERNAL', message: 'internal error; the server log has the details' };
}
