import { sql } from 'kysely';
import type { Environment, Tier } from '../core/types.js';
import { RecentEnvironments, Repository, json, now, parse, storeError } from './repository.js';
import type { Database } from './schema.js';

/** An environment as stored, with the installation holding its install lock (null when free). */
export type StoredEnvironment = Environment & { lockedBy: string | null; trustedSigningKeys: string[] };

/** Environments and their versions (their install locks: locks.ts). */
export class EnvironmentsRepository extends Repository {
  async create(env: Environment): Promise<void> {
    try {
      await this.db
        .insertInto('environments')
        .values({
          id: env.id,
          uid: env.uid,
          name: env.name,
          tier: env.tier,
          hosts: json(env.hosts),
          version: env.version,
          parameters: json(env.parameters),
          target_owned: json(env.targetOwned),
          cloned_from: env.clonedFrom,
          created_at: env.createdAt,
          updated_at: env.updatedAt,
          trusted_signing_keys: env.trustedSigningKeys?.length ? json(env.trustedSigningKeys) : null,
        })
        .execute();
    } catch (e) {
      storeError(e);
    }
    this.environmentsChanged();
  }

  async get(id: string): Promise<StoredEnvironment | undefined> {
    const row = await this.withLock().where('environments.id', '=', id).executeTakeFirst();
    return row ? toEnvironment(row) : undefined;
  }

  async list(): Promise<StoredEnvironment[]> {
    const rows = await this.withLock().orderBy('environments.id').execute();
    return rows.map(toEnvironment);
  }

  /**
   * The environments as read at most RecentEnvironments.TTL_MS ago, frozen
   * (shared by every caller meanwhile); inside a transaction, read anew.
   */
  listRecent(): Promise<readonly Readonly<StoredEnvironment>[]> {
    const recent = this.h.recentEnvironments as RecentEnvironments<readonly Readonly<StoredEnvironment>[]> | undefined;
    if (!recent || this.db.isTransaction) return this.list();
    return recent.get(async () => Object.freeze((await this.list()).map(freezeEnvironment)));
  }

  /** Environments with the installation holding each one's install lock (locks.ts). */
  private withLock() {
    return this.read
      .selectFrom('environments')
      .leftJoin('environment_locks', 'environment_locks.env_id', 'environments.id')
      .selectAll('environments')
      .select('environment_locks.holder as locked_by');
  }

  async update(id: string, patch: Partial<Pick<Environment, 'name' | 'tier' | 'hosts' | 'parameters' | 'targetOwned' | 'trustedSigningKeys'>>): Promise<void> {
    const values: Partial<Record<string, unknown>> = { updated_at: now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.tier !== undefined) values.tier = patch.tier;
    if (patch.hosts !== undefined) values.hosts = json(patch.hosts);
    if (patch.parameters !== undefined) values.parameters = json(patch.parameters);
    if (patch.targetOwned !== undefined) values.target_owned = json(patch.targetOwned);
    if (patch.trustedSigningKeys !== undefined) values.trusted_signing_keys = patch.trustedSigningKeys.length > 0 ? json(patch.trustedSigningKeys) : null;
    await this.db.updateTable('environments').set(values).where('id', '=', id).execute();
    this.environmentsChanged();
  }

  /** Bump the version (every write does) and return the new one. */
  async bumpVersion(id: string): Promise<number> {
    await this.db
      .updateTable('environments')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: now() }))
      .where('id', '=', id)
      .execute();
    this.environmentsChanged();
    const row = await this.read.selectFrom('environments').select('version').where('id', '=', id).executeTakeFirstOrThrow();
    return row.version;
  }

  /** Bump every environment but one: a write to server-scoped objects changes what all of them see. */
  async bumpOtherVersions(exceptId: string): Promise<void> {
    await this.db
      .updateTable('environments')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', '!=', exceptId)
      .execute();
    this.environmentsChanged();
  }

  /** Row lock on the environment for the length of the transaction (PostgreSQL); SQLite's writer lock covers it. */
  async lockRow(id: string): Promise<void> {
    if (!this.caps.supportsForUpdate) return;
    await sql`select id from environments where id = ${id} for update`.execute(this.db);
  }

  /**
   * Row locks on every environment, taken in id order (PostgreSQL; SQLite's
   * one writer serialises): what a write of server-scoped objects takes
   * first, since it bumps every environment's version (bumpOtherVersions).
   * Two such writes holding their own environment's row and then waiting
   * for each other's deadlocked (40P01, one of them failed); in one order
   * for all of them, the second simply waits for the first.
   */
  async lockAllRows(): Promise<void> {
    if (!this.caps.supportsForUpdate) return;
    await sql`select id from environments order by id for update`.execute(this.db);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('environments').where('id', '=', id).execute();
    await this.db.deleteFrom('environment_locks').where('env_id', '=', id).execute();
    this.environmentsChanged();
  }
}

function toEnvironment(r: Database['environments'] & { locked_by: string | null }): StoredEnvironment {
  return {
    id: r.id,
    uid: r.uid,
    name: r.name,
    tier: r.tier as Tier,
    hosts: parse<string[]>(r.hosts),
    version: Number(r.version),
    parameters: parse<Record<string, string>>(r.parameters),
    targetOwned: parse<Record<string, string[]>>(r.target_owned),
    clonedFrom: r.cloned_from,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    trustedSigningKeys: parse<string[] | null>(r.trusted_signing_keys) ?? [],
    lockedBy: r.locked_by,
  };
}

/** An environment no caller can change (the recent list is shared). */
function freezeEnvironment(e: StoredEnvironment): Readonly<StoredEnvironment> {
  Object.freeze(e.hosts);
  Object.freeze(e.trustedSigningKeys);
  return Object.freeze(e);
}
