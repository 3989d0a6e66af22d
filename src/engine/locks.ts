import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isMainThread, threadId } from 'node:worker_threads';
import { ConflictError, LockedError } from '../core/errors.js';
import type { EnvironmentLock, LockOwner } from '../store/store.js';
import { processRuns } from '../store/processes.js';
import { audit, type Actor, type EngineContext } from './context.js';

/**
 * The install lock of an environment, and when a lock is stale.
 *
 * An install or a rollback holds its environment's lock for as long as it
 * works (other writers get 423). The lock is taken outside the work's one
 * transaction, so other writers see it at once; if the process dies, the
 * transaction dies with it and writes nothing, but the lock row stays. So
 * every lock names its owner (host name, pid, a random instance id of the
 * process, and the process's start time where the kernel tells it) and the
 * holder refreshes a heartbeat while it works.
 *
 * A lock is STALE (its holder is gone), decided by whoever meets it:
 * - owner on this host (same host name: SQLite users always are, the file
 *   cannot be shared across machines): its pid no longer runs, or runs but
 *   is another process (another start time; or our own pid with another
 *   instance id: a container's server restarted as the same pid). A live
 *   pid on this host is trusted whatever its heartbeat: on SQLite the
 *   heartbeat cannot be written while an install's transaction holds the
 *   database's one writer lock, so a long install would look dead;
 * - owner on another host (several servers on one PostgreSQL): its
 *   heartbeat is older than LOCK_STALE_MS (2 minutes; the holder beats
 *   every LOCK_HEARTBEAT_MS, 15 s, from a pool connection of its own, and
 *   the lock row is not the environment row its transaction locks).
 * Host names must therefore be unique among the processes sharing one
 * database (they already are for operations, see ops/embedded-worker.ts).
 *
 * A stale lock is released, with an audit entry, at server start, every
 * LOCK_SWEEP_MS in a server, and by any process that meets it (a write or
 * an install that finds the environment locked). An admin can see a lock
 * (`GET /api/v1/environments/{id}/lock`, `ferry env lock`) and break it
 * (`DELETE ...`, `ferry env unlock`); a live lock only with `force`, for a
 * holder known to be hung: its transaction, if it still runs, still commits.
 */
export const LOCK_STALE_MS = 120_000;
export const LOCK_HEARTBEAT_MS = 15_000;
export const LOCK_SWEEP_MS = 30_000;

/** The kernel's start time of a process (clock ticks since boot), null where /proc does not say. */
export function processStarted(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * The instance id: one random id per process, published to its worker
 * threads (a worker thread gets a copy of its parent's environment), plus
 * the thread: `<process id>.<threadId>`. An install runs in a worker thread
 * (offload.ts) and takes the lock there, while the main thread's sweep
 * judges it: a lock of another thread of this process is live (the thread
 * ends with the process), never taken for a restarted process's.
 */
const INSTANCE_VAR = 'FERRY_PROCESS_INSTANCE';
function processInstance(): string {
  if (!isMainThread && process.env[INSTANCE_VAR]) return process.env[INSTANCE_VAR];
  const id = randomBytes(8).toString('hex');
  if (isMainThread) process.env[INSTANCE_VAR] = id;
  return id;
}
const PROCESS_INSTANCE = processInstance();

const SELF: LockOwner = { host: hostname(), pid: process.pid, instance: `${PROCESS_INSTANCE}.${threadId}`, started: processStarted(process.pid) };

/** Locks this process holds right now (`envId\u0000holder`): one of ours that is not here is left over (its release failed). */
const HELD = new Set<string>();
const heldKey = (envId: string, holder: string) => `${envId}\u0000${holder}`;

/** This process as a lock owner. */
export function processOwner(): LockOwner {
  return SELF;
}

export interface LockJudgement {
  stale: boolean;
  /** Why, in words, for the lock view, the audit and the CLI. */
  reason: string;
}

/** Whether `lock`'s holder is gone (see the decision above), seen from process `self`. */
export function judgeLock(lock: EnvironmentLock, now = Date.now(), self: LockOwner = SELF, staleMs = LOCK_STALE_MS): LockJudgement {
  const o = lock.owner;
  const who = `process ${o.pid} on ${o.host || 'an unknown host'}`;
  if (!o.host) return { stale: true, reason: 'the lock was taken before locks recorded their owner' };
  if (o.host === self.host) {
    if (o.pid === self.pid) {
      if (self === SELF && o.instance !== self.instance && o.instance.startsWith(`${PROCESS_INSTANCE}.`))
        return { stale: false, reason: `held by a worker thread of this process (${o.pid})` };
      if (o.instance !== self.instance) return { stale: true, reason: `${who} has restarted since it took the lock` };
      return self !== SELF || HELD.has(heldKey(lock.envId, lock.holder))
        ? { stale: false, reason: `held by this process (${o.pid})` }
        : { stale: true, reason: `${who} finished with it but could not release it (the database was unavailable)` };
    }
    if (!processRuns(o.pid)) return { stale: true, reason: `${who} is gone` };
    const started = o.started === null ? null : processStarted(o.pid);
    if (started !== null && started !== o.started) return { stale: true, reason: `${who} is gone (pid ${o.pid} is another process now)` };
    return { stale: false, reason: `${who} is running` };
  }
  const age = now - Date.parse(lock.heartbeatAt);
  if (!(age <= staleMs)) return { stale: true, reason: `no heartbeat from ${who} for ${Math.round(age / 1000)} s (the bound is ${staleMs / 1000} s)` };
  return { stale: false, reason: `${who} beat ${Math.max(0, Math.round(age / 1000))} s ago` };
}

/** A lock as users see it. */
export interface LockView {
  environmentId: string;
  locked: boolean;
  /** Installation holding it. */
  holder: string | null;
  purpose: 'install' | 'rollback' | null;
  owner: { host: string; pid: number; instance: string } | null;
  acquiredAt: string | null;
  heartbeatAt: string | null;
  /** Its holder is gone: any writer releases it, an admin may break it. */
  stale: boolean;
  reason: string | null;
}

function viewOf(envId: string, lock: EnvironmentLock | undefined, j?: LockJudgement): LockView {
  if (!lock)
    return { environmentId: envId, locked: false, holder: null, purpose: null, owner: null, acquiredAt: null, heartbeatAt: null, stale: false, reason: null };
  const judged = j ?? judgeLock(lock);
  return {
    environmentId: envId,
    locked: true,
    holder: lock.holder,
    purpose: lock.purpose,
    owner: { host: lock.owner.host, pid: lock.owner.pid, instance: lock.owner.instance },
    acquiredAt: lock.acquiredAt,
    heartbeatAt: lock.heartbeatAt,
    stale: judged.stale,
    reason: judged.reason,
  };
}

const ownerDetail = (l: EnvironmentLock) => ({
  holder: l.holder,
  purpose: l.purpose,
  owner: `${l.owner.host}:${l.owner.pid}:${l.owner.instance}`,
  acquiredAt: l.acquiredAt,
});

/**
 * Release `lock` if its holder is gone, with an audit entry; true when it
 * was released here. Compare-and-delete: a lock taken or refreshed since it
 * was read stays.
 */
async function releaseIfStale(ctx: EngineContext, lock: EnvironmentLock): Promise<boolean> {
  const j = judgeLock(lock);
  if (!j.stale) return false;
  return ctx.store.transaction(async (tx) => {
    if (!(await tx.locks.release(lock))) return false;
    await audit(tx, { actor: null }, 'environment.lock.release', lock.envId, lock.holder, 'ok', { ...ownerDetail(lock), reason: j.reason });
    return true;
  });
}

/** Release the environment's lock if its holder is gone; true when the environment is (now) free of locks. */
export async function freeIfStale(ctx: EngineContext, envId: string): Promise<boolean> {
  const lock = await ctx.store.locks.get(envId);
  if (!lock || (await releaseIfStale(ctx, lock))) return true;
  // Not released here: alive, or released (and maybe taken again) by another process meanwhile.
  return (await ctx.store.locks.get(envId)) === undefined;
}

/** Release every stale lock (at start, and now and then in a server); returns the released ones. */
export async function releaseStaleLocks(ctx: EngineContext): Promise<EnvironmentLock[]> {
  const out: EnvironmentLock[] = [];
  for (const lock of await ctx.store.locks.list()) if (await releaseIfStale(ctx, lock)) out.push(lock);
  return out;
}

/**
 * Run fn holding an environment's install lock (423 when another
 * installation holds it and is alive; a lock whose holder is gone is
 * released first). The lock is taken outside any transaction, so other
 * writers see it at once, refreshed while fn works, and released whatever
 * fn does.
 */
export async function withInstallLock<T>(
  ctx: EngineContext,
  envId: string,
  holder: string,
  purpose: EnvironmentLock['purpose'],
  fn: () => Promise<T>,
): Promise<T> {
  const owner = SELF;
  const take = () => {
    const at = new Date().toISOString();
    return ctx.store.locks.acquire({ envId, holder, purpose, owner, acquiredAt: at, heartbeatAt: at });
  };
  // Marked held before the row exists, so no judge in this process ever sees the row without the mark.
  HELD.add(heldKey(envId, holder));
  try {
    if (!(await take()) && !((await freeIfStale(ctx, envId)) && (await take()))) throw new LockedError(envId);
  } catch (e) {
    HELD.delete(heldKey(envId, holder));
    throw e;
  }
  const beat = setInterval(() => {
    ctx.store.locks.heartbeat(envId, holder, owner.instance, new Date().toISOString()).catch(() => {
      // The next beat tries again; a lock that misses beats for LOCK_STALE_MS is only stale to other hosts.
    });
  }, LOCK_HEARTBEAT_MS);
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    HELD.delete(heldKey(envId, holder));
    // The database may be gone (that may be why fn failed): keep trying for
    // a while before this install or rollback reports its end, so that an
    // operation seen ended has left its environment unlocked whenever the
    // database came back in time; past that, keep trying in the background.
    // Meanwhile any writer in this process sees the lock as left over, and
    // other processes once this one stops.
    await releaseLock(ctx, envId, holder, LOCK_RELEASE_WAIT_MS);
  }
}

/** How long an install or rollback that cannot release its lock (database gone) waits for it before reporting its end. */
export const LOCK_RELEASE_WAIT_MS = 30_000;

/**
 * Release `holder`'s lock, trying again with a doubling pause while the
 * database refuses: awaited for `waitMs` (pauses of 100 ms up to 2 s), then
 * handed over to timers that do not keep the process alive (1 s doubling up
 * to a minute), for as long as it takes. Settles when released or handed over.
 */
function releaseLock(ctx: EngineContext, envId: string, holder: string, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  return new Promise<void>((settle) => {
    let foreground = true;
    const attempt = (pause: number): void => {
      ctx.store.locks.release({ envId, holder, owner: SELF }).then(
        () => {
          if (foreground) settle();
        },
        () => {
          if (foreground && Date.now() + pause > until) {
            foreground = false;
            settle();
            pause = 1000;
          }
          const timer = setTimeout(() => attempt(Math.min(pause * 2, foreground ? 2000 : 60_000)), pause);
          if (!foreground) timer.unref();
        },
      );
    };
    attempt(100);
  });
}

/** The environment's install lock, judged. */
export async function getLock(ctx: EngineContext, envId: string): Promise<LockView> {
  return viewOf(envId, await ctx.store.locks.get(envId));
}

/**
 * Break an environment's install lock (an admin's act, audited). Refused
 * (409) when it is not locked, or when its holder is alive, unless `force`.
 * Returns the lock as it was.
 */
export async function breakLock(ctx: EngineContext, envId: string, opts: { force?: boolean }, actor?: Actor): Promise<LockView> {
  const lock = await ctx.store.locks.get(envId);
  if (!lock) throw new ConflictError('NOT_LOCKED', `environment ${envId} is not locked`);
  const j = judgeLock(lock);
  if (!j.stale && !opts.force)
    throw new ConflictError(
      'LOCK_HELD',
      `environment ${envId} is locked by installation ${lock.holder} (${lock.purpose}), and its holder is alive: ${j.reason}; break it with force only if that process is hung`,
    );
  const released = await ctx.store.transaction(async (tx) => {
    if (!(await tx.locks.release(lock))) return false;
    await audit(tx, actor, 'environment.unlock', envId, lock.holder, 'ok', { ...ownerDetail(lock), stale: j.stale, forced: !j.stale, reason: j.reason });
    return true;
  });
  if (!released) throw new ConflictError('LOCK_CHANGED', `the lock of environment ${envId} changed while it was being broken; look at it again`);
  return viewOf(envId, lock, j);
}

/** Drop the lock `holder` left on the environment, whoever owns it (an operation's clean-up once its process is known dead). */
export async function releaseHeldBy(ctx: EngineContext, envId: string, holder: string): Promise<boolean> {
  return ctx.store.locks.releaseHeldBy(envId, holder);
}

/** The environment must not be locked by anyone but `holder` (423); a stale lock is released on the way. */
export async function assertUnlocked(ctx: EngineContext, env: { id: string; lockedBy: string | null }, holder?: string): Promise<void> {
  if (env.lockedBy && env.lockedBy !== holder && !(await freeIfStale(ctx, env.id))) throw new LockedError(env.id);
}
