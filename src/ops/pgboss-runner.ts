import PgBoss from 'pg-boss';
import type { Operation } from '../store/operations-store.js';
import { EmbeddedWorker, type EmbeddedWorkerOptions } from './embedded-worker.js';

/** The pg-boss queue Ferry's operations travel on. */
export const OPERATIONS_QUEUE = 'ferry-operations';

export interface PgBossRunnerOptions extends EmbeddedWorkerOptions {
  /** The PostgreSQL database (FERRY_DATABASE_URL). */
  connectionString: string;
  /** Schema of pg-boss's own tables (default: `<Ferry's schema>_pgboss`, `ferry_pgboss` beside `public`). */
  bossSchema: string;
  /** How often an idle worker asks pg-boss for a job (seconds, at least 0.5). Jobs sent by this process wake it at once. */
  pollingIntervalSeconds?: number;
}

/** The pg-boss schema for a Ferry schema: each Ferry installation (or test schema) in a database gets its own queue tables. */
export const bossSchemaFor = (schema: string | undefined): string => (!schema || schema === 'public' ? 'ferry_pgboss' : `${schema}_pgboss`);

/**
 * Operations delivered by pg-boss (PostgreSQL): several server processes,
 * on one or more machines, share the work. The operation row stays the
 * truth of its status, exactly as with the embedded worker (they are the
 * same class: only delivery differs); a pg-boss job only says "operation X
 * is QUEUED". Whichever process fetches the job claims the row with the same
 * conditional UPDATE (QUEUED -> RUNNING), so a job delivered twice (a
 * retry, a re-send) runs the operation at most once at a time.
 *
 * A process that dies mid-run: every live process's recovery sees the
 * operation's worker gone (same host: its pid is gone; another host: no
 * heartbeat for `staleMs`) and re-queues it with a new job, so another
 * process runs it from its start: resumable work at once, an install when
 * its one transaction never committed (retryUnwritten; its lock released
 * first), up to `maxAttempts`; after that, or when the work did commit, it
 * ends visibly (FAILED, or COMPLETED with the result read back).
 */
export class PgBossRunner extends EmbeddedWorker {
  private readonly boss: PgBoss;
  private readonly pollingIntervalSeconds: number;
  private workIds: string[] = [];
  private bossStarted = false;

  constructor(opts: PgBossRunnerOptions) {
    super({ retryUnwritten: true, ...opts });
    this.pollingIntervalSeconds = Math.max(0.5, opts.pollingIntervalSeconds ?? 1);
    this.boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: opts.bossSchema,
      // Its own small pool: job fetches and sends are short statements.
      max: 3,
      application_name: `ferry-pgboss ${this.workerId}`,
      // Finished jobs say nothing the operation row does not: archived after an hour, deleted after a day.
      archiveCompletedAfterSeconds: 3600,
      deleteAfterDays: 1,
    });
    this.boss.on('error', (e) => this.onError(e, 'pg-boss'));
  }

  protected override async startDelivery(): Promise<void> {
    await this.boss.start();
    this.bossStarted = true;
    await this.createQueue();
    // Each work() is one operation at a time: `concurrency` of them run at once (0: an API-only process).
    for (let i = 0; i < this.concurrency; i++) {
      this.workIds.push(
        await this.boss.work<{ operationId: string }>(OPERATIONS_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.pollingIntervalSeconds }, (jobs) =>
          this.runJobs(jobs),
        ),
      );
    }
    // Operations left QUEUED with no job (a send that failed, a database copied from SQLite): sent again; a duplicate is harmless.
    for (const id of await this.ops.queued(1000)) await this.send(id);
  }

  /**
   * Several processes starting at once on a new database all create the
   * queue: one wins; another may fail (seen: PostgreSQL's "deadlock
   * detected" while the winner has not committed yet, so the queue is not
   * visible either). Then try again, a few times, before giving up.
   */
  private async createQueue(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.boss.createQueue(OPERATIONS_QUEUE);
        return;
      } catch (e) {
        if (await this.boss.getQueue(OPERATIONS_QUEUE)) return;
        if (attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  /** The table is never polled: pg-boss delivers. */
  protected override kick(): void {}

  protected override async deliver(op: Operation): Promise<void> {
    await this.send(op.id);
  }

  protected override get requeuedWhere(): string {
    return 'on another server process, or at the next start';
  }

  protected override async stopDelivery(): Promise<void> {
    // No new jobs; running operations are drained by the caller, then pg-boss stops.
    for (const id of this.workIds) await this.boss.offWork({ id });
    this.workIds = [];
  }

  override async stop(opts: { graceMs?: number } = {}): Promise<void> {
    await super.stop(opts);
    if (this.bossStarted) {
      this.bossStarted = false;
      await this.boss.stop({ graceful: false, wait: true, close: true }).catch((e: unknown) => this.onError(e, 'pg-boss stop'));
    }
  }

  private async send(operationId: string): Promise<void> {
    // retryLimit: the claim itself may fail (a database blip); the operation's own retries are counted on its row.
    await this.boss.send(OPERATIONS_QUEUE, { operationId }, { retryLimit: 3, retryDelay: 1 });
    // Wake an idle worker of this process now, rather than at its next poll.
    for (const id of this.workIds) this.boss.notifyWorker(id);
  }

  private async runJobs(jobs: PgBoss.Job<{ operationId: string }>[]): Promise<void> {
    for (const job of jobs) {
      const id = job.data.operationId;
      if (!this.accepting) throw new Error('this server is stopping'); // the job goes back for another process
      if (!(await this.ops.claim(id, this.workerId, this.server, new Date().toISOString()))) continue; // already run, running, or cancelled
      const op = await this.ops.get(id);
      if (op) await this.launch(op).done;
    }
  }
}
