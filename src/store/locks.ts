import { Repository } from './repository.js';
import type { Database } from './schema.js';

/** Who owns a lock: one process, told apart from a later one that got the same pid. */
export interface LockOwner {
  host: string;
  pid: number;
  /** Random per process instance. */
  instance: string;
  /** The process's start as the kernel counts it, null where unknown. */
  started: string | null;
}

/** An environment's install lock as stored. */
export interface EnvironmentLock {
  envId: string;
  /** Installation holding it. */
  holder: string;
  purpose: 'install' | 'rollback';
  owner: LockOwner;
  acquiredAt: string;
  heartbeatAt: string;
}

/**
 * The install locks (one row per locked environment). Taking one is an
 * insert that the primary key refuses when another holds it; every change
 * after that names the exact lock it means (holder and owner instance), so
 * a process never releases or refreshes a lock another took since.
 */
export class EnvironmentLocksRepository extends Repository {
  /** Take the lock; false when another installation holds it. */
  async acquire(lock: EnvironmentLock): Promise<boolean> {
    const res = await this.db
      .insertInto('environment_locks')
      .values({
        env_id: lock.envId,
        holder: lock.holder,
        purpose: lock.purpose,
        owner_host: lock.owner.host,
        owner_pid: lock.owner.pid,
        owner_instance: lock.owner.instance,
        owner_started: lock.owner.started,
        acquired_at: lock.acquiredAt,
        heartbeat_at: lock.heartbeatAt,
      })
      .onConflict((oc) => oc.column('env_id').doNothing())
      .executeTakeFirst();
    this.environmentsChanged();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async get(envId: string): Promise<EnvironmentLock | undefined> {
    const row = await this.read.selectFrom('environment_locks').selectAll().where('env_id', '=', envId).executeTakeFirst();
    return row ? toLock(row) : undefined;
  }

  async list(): Promise<EnvironmentLock[]> {
    const rows = await this.read.selectFrom('environment_locks').selectAll().orderBy('env_id').execute();
    return rows.map(toLock);
  }

  /** The holder proves it is alive. False when the lock is no longer its own (broken by an admin). */
  async heartbeat(envId: string, holder: string, instance: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('environment_locks')
      .set({ heartbeat_at: at })
      .where('env_id', '=', envId)
      .where('holder', '=', holder)
      .where('owner_instance', '=', instance)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Release `lock` if it is still exactly that lock (same holder, owner and heartbeat); true when it was. */
  async release(lock: Pick<EnvironmentLock, 'envId' | 'holder'> & { owner: Pick<LockOwner, 'instance'>; heartbeatAt?: string }): Promise<boolean> {
    let q = this.db
      .deleteFrom('environment_locks')
      .where('env_id', '=', lock.envId)
      .where('holder', '=', lock.holder)
      .where('owner_instance', '=', lock.owner.instance);
    if (lock.heartbeatAt !== undefined) q = q.where('heartbeat_at', '=', lock.heartbeatAt);
    const res = await q.executeTakeFirst();
    this.environmentsChanged();
    return Number(res.numDeletedRows) === 1;
  }

  /** Release whatever lock `holder` has on the environment, whoever owns it (an operation's clean-up after its process died). */
  async releaseHeldBy(envId: string, holder: string): Promise<boolean> {
    const res = await this.db.deleteFrom('environment_locks').where('env_id', '=', envId).where('holder', '=', holder).executeTakeFirst();
    this.environmentsChanged();
    return Number(res.numDeletedRows) === 1;
  }

  /** With the environment: a deleted environment keeps no lock. */
  async deleteFor(envId: string): Promise<void> {
    await this.db.deleteFrom('environment_locks').where('env_id', '=', envId).execute();
    this.environmentsChanged();
  }
}

function toLock(r: Database['environment_locks']): EnvironmentLock {
  return {
    envId: r.env_id,
    holder: r.holder,
    purpose: r.purpose === 'rollback' ? 'rollback' : 'install',
    owner: { host: r.owner_host, pid: Number(r.owner_pid), instance: r.owner_instance, started: r.owner_started },
    acquiredAt: r.acquired_at,
    heartbeatAt: r.heartbeat_at,
  };
}
