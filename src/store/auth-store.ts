import type { Store } from './store.js';
import { serverDb, serverReadDb } from './server-schema.js';
import type { UsersTable } from './server-schema.js';

/** A role on one environment. */
export type Role = 'admin' | 'promoter' | 'viewer';
export const ROLES: readonly Role[] = ['viewer', 'promoter', 'admin'];

export interface UserRecord {
  id: string;
  username: string;
  admin: boolean;
  roles: Record<string, Role>;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKeyRecord {
  id: string;
  userId: string;
  username: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/**
 * Users, roles, API keys and sessions: plain repository functions over the
 * store (or a transaction of it). Secrets arrive here already hashed; this
 * file never sees a password or a key.
 */
export class AuthStore {
  constructor(private readonly store: Store) {}

  private get db() {
    return serverDb(this.store);
  }

  private get rdb() {
    return serverReadDb(this.store);
  }

  async countUsers(): Promise<number> {
    const row = await this.rdb
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async createUser(u: { id: string; username: string; passwordHash: string | null; admin: boolean; roles: Record<string, Role>; at: string }): Promise<void> {
    await this.store.transaction(async (tx) => {
      const db = serverDb(tx);
      await db
        .insertInto('users')
        .values({ id: u.id, username: u.username, password_hash: u.passwordHash, admin: u.admin ? 1 : 0, created_at: u.at, updated_at: u.at })
        .execute();
      await new AuthStore(tx).replaceRoles(u.id, u.roles);
    });
  }

  async updateUser(id: string, patch: { passwordHash?: string | null; admin?: boolean; roles?: Record<string, Role>; at: string }): Promise<void> {
    await this.store.transaction(async (tx) => {
      const values: Partial<UsersTable> = { updated_at: patch.at };
      if (patch.passwordHash !== undefined) values.password_hash = patch.passwordHash;
      if (patch.admin !== undefined) values.admin = patch.admin ? 1 : 0;
      await serverDb(tx).updateTable('users').set(values).where('id', '=', id).execute();
      if (patch.roles) await new AuthStore(tx).replaceRoles(id, patch.roles);
    });
  }

  private async replaceRoles(userId: string, roles: Record<string, Role>): Promise<void> {
    await this.db.deleteFrom('user_roles').where('user_id', '=', userId).execute();
    const rows = Object.entries(roles).map(([env_id, role]) => ({ user_id: userId, env_id, role }));
    if (rows.length) await this.db.insertInto('user_roles').values(rows).execute();
  }

  async deleteUser(id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const db = serverDb(tx);
      await db.deleteFrom('user_roles').where('user_id', '=', id).execute();
      await db.deleteFrom('sessions').where('user_id', '=', id).execute();
      await db.updateTable('api_keys').set({ revoked_at: new Date().toISOString() }).where('user_id', '=', id).where('revoked_at', 'is', null).execute();
      await db.deleteFrom('users').where('id', '=', id).execute();
    });
  }

  /** Forget every role on an environment (it was deleted). */
  async deleteRolesOn(envId: string): Promise<void> {
    await this.db.deleteFrom('user_roles').where('env_id', '=', envId).execute();
  }

  async getUserByName(username: string): Promise<(UserRecord & { passwordHash: string | null }) | undefined> {
    const row = await this.rdb.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row ? this.withRoles(row) : undefined;
  }

  async getUserById(id: string): Promise<(UserRecord & { passwordHash: string | null }) | undefined> {
    const row = await this.rdb.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.withRoles(row) : undefined;
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.rdb.selectFrom('users').selectAll().orderBy('username').execute();
    const roles = await this.rdb.selectFrom('user_roles').selectAll().execute();
    return rows.map((r) => {
      const mine: Record<string, Role> = {};
      for (const x of roles) if (x.user_id === r.id) mine[x.env_id] = x.role as Role;
      const { passwordHash: _, ...rest } = toUser(r, mine);
      return rest;
    });
  }

  private async withRoles(row: UsersTable): Promise<UserRecord & { passwordHash: string | null }> {
    const roles = await this.rdb.selectFrom('user_roles').selectAll().where('user_id', '=', row.id).execute();
    const out: Record<string, Role> = {};
    for (const r of roles) out[r.env_id] = r.role as Role;
    return toUser(row, out);
  }

  // ------------------------------------------------------------ API keys

  async createKey(k: { id: string; userId: string; name: string; prefix: string; keyHash: string; at: string }): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({ id: k.id, user_id: k.userId, name: k.name, prefix: k.prefix, key_hash: k.keyHash, created_at: k.at, last_used_at: null, revoked_at: null })
      .execute();
  }

  /** The live key with this hash and its owner, or undefined. */
  async findKey(keyHash: string): Promise<{ keyId: string; userId: string } | undefined> {
    const row = await this.rdb
      .selectFrom('api_keys')
      .select(['id', 'user_id'])
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? { keyId: row.id, userId: row.user_id } : undefined;
  }

  async touchKey(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async listKeys(opts: { userId?: string } = {}): Promise<ApiKeyRecord[]> {
    let q = this.rdb
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .select([
        'api_keys.id as id',
        'api_keys.user_id as user_id',
        'users.username as username',
        'api_keys.name as name',
        'api_keys.prefix as prefix',
        'api_keys.created_at as created_at',
        'api_keys.last_used_at as last_used_at',
        'api_keys.revoked_at as revoked_at',
      ]);
    if (opts.userId) q = q.where('api_keys.user_id', '=', opts.userId);
    const rows = await q.orderBy('api_keys.created_at').orderBy('api_keys.id').execute();
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      username: r.username,
      name: r.name,
      prefix: r.prefix,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      revokedAt: r.revoked_at,
    }));
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    return (await this.listKeys()).find((k) => k.id === id);
  }

  async revokeKey(id: string, at: string): Promise<boolean> {
    const res = await this.db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  // ------------------------------------------------------------ sessions

  async createSession(s: { tokenHash: string; userId: string; at: string; expiresAt: string }): Promise<void> {
    await this.db.insertInto('sessions').values({ token_hash: s.tokenHash, user_id: s.userId, created_at: s.at, expires_at: s.expiresAt }).execute();
  }

  /** The owner of a session that has not expired at `at`. */
  async findSession(tokenHash: string, at: string): Promise<{ userId: string; expiresAt: string } | undefined> {
    const row = await this.rdb
      .selectFrom('sessions')
      .select(['user_id', 'expires_at'])
      .where('token_hash', '=', tokenHash)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return row ? { userId: row.user_id, expiresAt: row.expires_at } : undefined;
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  async deleteExpiredSessions(at: string): Promise<number> {
    const res = await this.db.deleteFrom('sessions').where('expires_at', '<=', at).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

function toUser(r: UsersTable, roles: Record<string, Role>): UserRecord & { passwordHash: string | null } {
  return {
    id: r.id,
    username: r.username,
    admin: Number(r.admin) === 1,
    roles,
    hasPassword: r.password_hash !== null,
    passwordHash: r.password_hash,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
