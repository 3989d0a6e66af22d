import type { Operation } from '../store/operations-store.js';

export type { Operation, OperationStatus } from '../store/operations-store.js';

/**
 * Why a running operation's signal was aborted when its server is stopping
 * (not a user's cancel): a resumable operation runs again at the next start,
 * so its work must leave what it records as it is, not end it as cancelled.
 */
export class ShutdownReason extends Error {}

/**
 * Why an operation's signal is aborted when another server process took it
 * over (this one stalled past the stale time and was taken for dead): the
 * new runner owns everything the operation writes from now on, so a handler
 * stops without recording a cancel or a failure of its own.
 */
export class TakenOverReason extends Error {}

/** What a handler gets while it runs one operation. */
export interface OperationContext {
  readonly op: Operation;
  /** Aborted when a user cancels or the server shuts down; handlers stop at their next checkpoint. */
  readonly signal: AbortSignal;
  /**
   * Report progress (0-100, never goes back) and a short message. Throws
   * CancelledError once the signal is aborted, so every progress report is a
   * cancellation checkpoint. Cheap: the runner throttles writes.
   */
  progress(percent: number, message?: string): void;
  /** Record what the operation is working on (e.g. the installation it created), for recovery and for users. */
  setSubject(subject: string): Promise<void>;
}

/** How one kind of operation runs, and what happens when it cannot finish. */
export interface OperationHandler {
  /** Do the work; the resolved value is stored as the operation's result. */
  run(ctx: OperationContext): Promise<unknown>;
  /**
   * Whether the operation may simply run again from the start after its
   * server died (assembly, export, a dry-run import). An install is not: it
   * fails visibly and the user decides.
   */
  resumable(op: Operation): boolean;
  /**
   * What really happened to an operation whose server died while it ran,
   * when it will not run again: read from what the work itself left behind,
   * since the work may have ended (an install committed) in the moment
   * before the server could record it. Null when there is nothing to tell:
   * it is failed as a run that never finished.
   */
  recover?(op: Operation): Promise<RecoveredOutcome | null>;
  /**
   * Clean up after an operation that ends without its run recording the end
   * (cancelled while queued, or its server died, however `recover` read it):
   * e.g. release the install lock the dead run held.
   */
  abandon?(op: Operation, reason: string): Promise<void>;
}

/** How a recovered operation ends (OperationHandler.recover). */
export type RecoveredOutcome =
  { status: 'COMPLETED'; message: string; result: unknown } | { status: 'FAILED'; message: string; error: { code: string; message: string } };

export type OperationHandlers = Record<string, OperationHandler>;

/** A new operation as the API asks for it. */
export interface NewOperation {
  kind: string;
  environmentId: string | null;
  subject?: string | null;
  params: Record<string, unknown>;
  createdBy: string | null;
  address?: string | null;
  message?: string;
}

export type RunnerEvent = 'progress' | 'finished';

/**
 * The operations runner port (pg-boss `IDatabase` style: narrow, so the
 * embedded worker and a pg-boss worker are interchangeable). Operations are
 * rows in the database; a runner only decides who runs them and when.
 */
export interface OperationRunner {
  /** Persist a QUEUED operation and arrange for it to run. Refused (503) once the runner is stopping. */
  submit(input: NewOperation): Promise<Operation>;
  /**
   * Cancel: a queued operation ends CANCELLED at once; a running one is
   * asked to stop at its next checkpoint. Refused (409) once finished.
   */
  cancel(id: string): Promise<Operation>;
  /** Recover operations left by dead workers, then start taking work. */
  start(): Promise<void>;
  /**
   * Stop taking work; let running operations finish for up to `graceMs`,
   * then stop them: resumable ones go back to QUEUED (they run at the next
   * start), the others FAIL visibly. Nothing is left RUNNING by a clean stop.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
  /** False once stop() began. */
  readonly accepting: boolean;
  /** This process's worker, as operations it runs record it (`<server>:<pid>:<instance>`). */
  readonly workerId: string;
  on(event: RunnerEvent, listener: (op: Operation) => void): this;
  off(event: RunnerEvent, listener: (op: Operation) => void): this;
}
