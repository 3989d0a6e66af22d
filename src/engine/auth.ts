import { hash, randomBytes, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { FerryError, NotFoundError, ValidationError, ConflictError } from '../core/errors.js';
import { unknownEnvironment } from './environments.js';
import { AuthStore, ROLES, type ApiKeyRecord, type Role, type UserRecord } from '../store/auth-store.js';
import type { Actor, Engine } from './engine.js';
import { audit as writeAudit } from './context.js';

export type { Role, UserRecord, ApiKeyRecord } from '../store/auth-store.js';
export { ROLES } from '../store/auth-store.js';

/** No credential, or one that is unknown, revoked or expired. */
export class UnauthorizedError extends FerryError {
  constructor(message = 'missing or invalid credentials: send an API key (Authorization: Bearer, apikey) or a session token (sessionID)') {
    super('UNAUTHORIZED', 401, message);
  }
}

/** A known caller without the right on what it asked for. */
export class ForbiddenError extends FerryError {
  constructor(message: string) {
    super('FORBIDDEN', 403, message);
  }
}

/** Who is calling, as every face of the server sees it. */
export interface Principal {
  userId: string;
  username: string;
  /** Server admin: admin on every environment, manages users. */
  admin: boolean;
  roles: Record<string, Role>;
  credential: 'api-key' | 'session';
  keyId?: string;
}

const RANK: Record<Role, number> = { viewer: 1, promoter: 2, admin: 3 };

/** The caller's role on an environment (server admins are admin everywhere), or null. */
export function roleOn(p: Principal, envId: string): Role | null {
  if (p.admin) return 'admin';
  // Own roles only: an environment id such as `constructor` or `toString` is not Object.prototype's member.
  return Object.hasOwn(p.roles, envId) ? p.roles[envId]! : null;
}

/** Whether the caller holds `need` or a higher role on the environment. */
export function hasRole(p: Principal, envId: string, need: Role): boolean {
  const r = roleOn(p, envId);
  return r !== null && RANK[r] >= RANK[need];
}

/** A role from user input; a 400 naming `where` otherwise. */
export function parseRole(value: unknown, where: string): Role {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw new ValidationError(`${where}: unknown role ${JSON.stringify(value)} (one of ${ROLES.join(', ')})`);
}

// ---------------------------------------------------------------- secrets

/**
 * scrypt parameters (OWASP's minimum for scrypt: N=2^17 is recommended for
 * new systems with r=8, p=1; 2^15 keeps a login under ~100 ms on a small VM
 * while staying memory-hard at 32 MiB).
 */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 };
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAXMEM });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Check a password against `hashPassword` output, in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAXMEM });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** API keys and session tokens are 256-bit random: a fast hash is enough to store them (unlike passwords). */
export const sha256 = (s: string): string => hash('sha256', s, 'hex');

const KEY_PREFIX = 'fry_';
const SESSION_PREFIX = 'frs_';
const newSecret = (prefix: string) => prefix + randomBytes(32).toString('base64url');

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const MIN_PASSWORD = 8;

/** A user as the API returns it: never a password hash. */
export type PublicUser = UserRecord;

/**
 * Users, roles, API keys and login sessions: the use cases every face of the
 * server shares (the native API, the duplication dialect's `/api/auth/login`).
 * Every change is written to the audit log with who did it.
 */
export class AuthService {
  readonly users: AuthStore;
  private dummyHash: Promise<string> | undefined;
  /**
   * Principals by credential hash, for a few seconds: every request is
   * authenticated, and three queries (key, user, roles) per status poll are
   * most of its cost. Any change to users, roles, keys or sessions made
   * through this service clears it, so in one process a revoked key stops
   * working at once; another process sharing the database notices within
   * the TTL.
   */
  private readonly cache = new Map<string, { p: Principal; until: number; expiresAt?: number }>();
  private readonly touched = new Map<string, number>();
  static readonly CACHE_TTL_MS = 5000;
  private static readonly CACHE_MAX = 10_000;
  /** `last_used_at` is written at most this often per key (it is a hint, not a log). */
  private static readonly TOUCH_EVERY_MS = 60_000;

  constructor(
    private readonly engine: Engine,
    private readonly opts: { sessionTtlMs: number } = { sessionTtlMs: 8 * 3600_000 },
  ) {
    this.users = new AuthStore(engine.store);
  }

  /** Forget cached principals (roles, keys or sessions changed). */
  invalidate(): void {
    this.cache.clear();
  }

  private remember(hash: string, p: Principal, expiresAt?: number): void {
    if (this.cache.size >= AuthService.CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { p, until: Date.now() + AuthService.CACHE_TTL_MS, expiresAt });
  }

  /**
   * Digests of credentials seen lately, by credential: every request is
   * authenticated, and hashing its credential was a twentieth of a status
   * poll. Kept in this process's memory only, as the requests carrying them
   * were; at most HASHES_MAX, forgotten all at once when full.
   */
  private readonly hashes = new Map<string, string>();
  private static readonly HASHES_MAX = 1000;
  private static readonly HASHED_ONLY_OVER = 200;
  private hashOf(value: string): string {
    // No credential Ferry hands out is this long: such a value is hashed, never kept.
    if (value.length > AuthService.HASHED_ONLY_OVER) return sha256(value);
    let h = this.hashes.get(value);
    if (h === undefined) {
      if (this.hashes.size >= AuthService.HASHES_MAX) this.hashes.clear();
      this.hashes.set(value, (h = sha256(value)));
    }
    return h;
  }

  private cached(hash: string): Principal | null {
    const hit = this.cache.get(hash);
    if (!hit) return null;
    const now = Date.now();
    if (hit.until < now || (hit.expiresAt !== undefined && hit.expiresAt <= now)) {
      this.cache.delete(hash);
      return null;
    }
    return hit.p;
  }

  private async audit(actor: Actor | undefined, action: string, subject: string | null, result: string, detail: Record<string, unknown> = {}): Promise<void> {
    this.invalidate();
    await writeAudit(this.engine.store, actor, action, null, subject, result, detail);
  }

  private async checkRoles(roles: unknown): Promise<Record<string, Role>> {
    if (roles === undefined || roles === null) return {};
    if (typeof roles !== 'object' || Array.isArray(roles))
      throw new ValidationError('roles: expected an object {"<environment id>": "admin" | "promoter" | "viewer"}');
    const out: Record<string, Role> = {};
    const all = await this.engine.listEnvironments();
    for (const [envId, role] of Object.entries(roles as Record<string, unknown>)) {
      out[envId] = parseRole(role, `roles.${envId}`);
      if (!all.some((e) => e.id === envId)) throw unknownEnvironment(`roles.${envId}`, envId, all);
    }
    return out;
  }

  async createUser(
    input: { username: string; password?: string | null; roles?: Record<string, unknown>; admin?: boolean },
    actor?: Actor,
  ): Promise<PublicUser> {
    if (!USERNAME.test(input.username ?? '')) throw new ValidationError('username: 1-64 letters, digits, _ . @ -, starting with a letter or digit');
    if (input.password !== undefined && input.password !== null && input.password.length < MIN_PASSWORD) {
      throw new ValidationError(`password: at least ${MIN_PASSWORD} characters`);
    }
    const roles = await this.checkRoles(input.roles);
    if (await this.users.getUserByName(input.username)) throw new ConflictError('USER_EXISTS', `user ${input.username} already exists`);
    // Names stay as typed and log in exactly, but no two differ only in case: the audit log and the lists must not show
    // an "Admin" that passes for admin.
    const lower = input.username.toLowerCase();
    const twin = (await this.users.listUsers()).find((u) => u.username.toLowerCase() === lower);
    if (twin)
      throw new ConflictError('USER_EXISTS', `user ${input.username} differs from the existing user ${twin.username} only in case; choose another name`);
    const id = randomUUID();
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    await this.users.createUser({ id, username: input.username, passwordHash, admin: !!input.admin, roles, at: new Date().toISOString() });
    await this.audit(actor, 'user.create', input.username, 'ok', { admin: !!input.admin, roles });
    return this.getUser(input.username);
  }

  async getUser(username: string): Promise<PublicUser> {
    const u = await this.users.getUserByName(username);
    if (!u) throw new NotFoundError('user', username);
    const { passwordHash: _, ...pub } = u;
    return pub;
  }

  async listUsers(): Promise<PublicUser[]> {
    return this.users.listUsers();
  }

  async updateUser(
    username: string,
    patch: { password?: string | null; roles?: Record<string, unknown>; admin?: boolean },
    actor?: Actor,
  ): Promise<PublicUser> {
    const u = await this.getUser(username);
    if (patch.password !== undefined && patch.password !== null && patch.password.length < MIN_PASSWORD) {
      throw new ValidationError(`password: at least ${MIN_PASSWORD} characters`);
    }
    const roles = patch.roles !== undefined ? await this.checkRoles(patch.roles) : undefined;
    if (patch.admin === false && u.admin && (await this.listUsers()).filter((x) => x.admin).length === 1) {
      throw new ConflictError('LAST_ADMIN', `${username} is the last server admin; make another user admin first`);
    }
    await this.users.updateUser(u.id, {
      passwordHash: patch.password === undefined ? undefined : patch.password === null ? null : await hashPassword(patch.password),
      admin: patch.admin,
      roles,
      at: new Date().toISOString(),
    });
    await this.audit(actor, 'user.update', username, 'ok', {
      fields: Object.keys(patch)
        .filter((k) => k !== 'password')
        .concat(patch.password !== undefined ? ['password'] : []),
    });
    return this.getUser(username);
  }

  async deleteUser(username: string, actor?: Actor): Promise<void> {
    const u = await this.getUser(username);
    if (u.admin && (await this.listUsers()).filter((x) => x.admin).length === 1) {
      throw new ConflictError('LAST_ADMIN', `${username} is the last server admin and cannot be deleted`);
    }
    await this.users.deleteUser(u.id);
    await this.audit(actor, 'user.delete', username, 'ok');
  }

  // ------------------------------------------------------------ API keys

  /** Create a key; the key itself is in the answer and nowhere else, ever. */
  async createApiKey(input: { username: string; name: string; key?: string }, actor?: Actor): Promise<ApiKeyRecord & { key: string }> {
    const u = await this.getUser(input.username);
    const name = input.name?.trim();
    if (!name) throw new ValidationError('name: a key needs a name (what uses it, e.g. "ci")');
    const key = input.key ?? newSecret(KEY_PREFIX);
    const id = randomUUID();
    const prefix = key.slice(0, Math.min(12, Math.max(4, key.length - 8)));
    try {
      await this.users.createKey({ id, userId: u.id, name, prefix, keyHash: sha256(key), at: new Date().toISOString() });
    } catch (e) {
      if (await this.users.findKey(sha256(key))) throw new ConflictError('KEY_EXISTS', 'that key is already in use');
      throw e;
    }
    await this.audit(actor, 'apikey.create', input.username, 'ok', { keyId: id, name });
    const rec = (await this.users.getKey(id))!;
    return { ...rec, key };
  }

  async listApiKeys(opts: { username?: string } = {}): Promise<ApiKeyRecord[]> {
    if (opts.username) {
      const u = await this.getUser(opts.username);
      return this.users.listKeys({ userId: u.id });
    }
    return this.users.listKeys();
  }

  async getApiKey(id: string): Promise<ApiKeyRecord> {
    const k = await this.users.getKey(id);
    if (!k) throw new NotFoundError('API key', id);
    return k;
  }

  async revokeApiKey(id: string, actor?: Actor): Promise<ApiKeyRecord> {
    const k = await this.getApiKey(id);
    if (k.revokedAt) throw new ConflictError('KEY_REVOKED', `API key ${id} is already revoked`);
    await this.users.revokeKey(id, new Date().toISOString());
    await this.audit(actor, 'apikey.revoke', k.username, 'ok', { keyId: id, name: k.name });
    return this.getApiKey(id);
  }

  // ------------------------------------------------------------ sessions

  /**
   * Log in with a user name and password: a session token that expires.
   * Unknown users take as long as wrong passwords (a dummy hash is checked),
   * and both get the same answer, so the endpoint does not reveal who exists.
   */
  async login(username: string, password: string, address: string | null): Promise<{ token: string; expiresAt: string; user: PublicUser }> {
    const u = typeof username === 'string' ? await this.users.getUserByName(username) : undefined;
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const stored = u?.passwordHash ?? (await this.dummyHash);
    const ok = (await verifyPassword(String(password ?? ''), stored)) && !!u?.passwordHash;
    if (!ok || !u) {
      await this.audit(
        { actor: typeof username === 'string' ? username : null, address },
        'auth.login',
        typeof username === 'string' ? username : null,
        'failed',
      );
      throw new UnauthorizedError('wrong user name or password');
    }
    const token = newSecret(SESSION_PREFIX);
    const at = new Date();
    const expiresAt = new Date(at.getTime() + this.opts.sessionTtlMs).toISOString();
    await this.users.createSession({ tokenHash: sha256(token), userId: u.id, at: at.toISOString(), expiresAt });
    await this.users.deleteExpiredSessions(at.toISOString());
    await this.audit({ actor: u.username, address }, 'auth.login', u.username, 'ok', { expiresAt });
    const { passwordHash: _, ...pub } = u;
    return { token, expiresAt, user: pub };
  }

  /**
   * Log in with an API key instead of a password (004's login mode 4096, an
   * "API token"): a session of the key's user, so a client that speaks only
   * session tokens can use a key.
   */
  async loginWithApiKey(key: string, address: string | null): Promise<{ token: string; expiresAt: string; principal: Principal }> {
    const p = typeof key === 'string' && key ? await this.authenticateKey(key) : null;
    if (!p) {
      await this.audit({ actor: null, address }, 'auth.login', null, 'failed', { with: 'api-key' });
      throw new UnauthorizedError('unknown, revoked or expired API key');
    }
    const token = newSecret(SESSION_PREFIX);
    const at = new Date();
    const expiresAt = new Date(at.getTime() + this.opts.sessionTtlMs).toISOString();
    await this.users.createSession({ tokenHash: sha256(token), userId: p.userId, at: at.toISOString(), expiresAt });
    await this.audit({ actor: p.username, address }, 'auth.login', p.username, 'ok', { expiresAt, with: 'api-key' });
    return { token, expiresAt, principal: { ...p, credential: 'session' } };
  }

  async logout(token: string, actor?: Actor): Promise<void> {
    await this.users.deleteSession(sha256(token));
    this.invalidate();
    await this.audit(actor, 'auth.logout', actor?.actor ?? null, 'ok');
  }

  /**
   * The principal behind a credential checked a moment ago (CACHE_TTL_MS),
   * without a wait; undefined when it must be looked up (authenticateKey,
   * authenticateSession). `kind` as the credential's source allows.
   */
  recentPrincipal(value: string, kind: 'any' | 'key' | 'session'): Principal | undefined {
    const hit = this.cached(this.hashOf(value));
    if (!hit || (kind === 'key' && hit.credential !== 'api-key') || (kind === 'session' && hit.credential !== 'session')) return undefined;
    return hit;
  }

  /** The principal behind an API key, or null. */
  async authenticateKey(key: string): Promise<Principal | null> {
    const hash = this.hashOf(key);
    const hit = this.cached(hash);
    if (hit?.credential === 'api-key') return hit;
    const found = await this.users.findKey(hash);
    if (!found) return null;
    const u = await this.users.getUserById(found.userId);
    if (!u) return null;
    const now = Date.now();
    if ((this.touched.get(found.keyId) ?? 0) + AuthService.TOUCH_EVERY_MS < now) {
      this.touched.set(found.keyId, now);
      // Best effort: a failed "last used" stamp must not fail the request.
      this.users.touchKey(found.keyId, new Date(now).toISOString()).catch(() => {});
    }
    const p: Principal = { userId: u.id, username: u.username, admin: u.admin, roles: u.roles, credential: 'api-key', keyId: found.keyId };
    this.remember(hash, p);
    return p;
  }

  /** The principal behind a live session token, or null. */
  async authenticateSession(token: string): Promise<Principal | null> {
    const hash = this.hashOf(token);
    const hit = this.cached(hash);
    if (hit?.credential === 'session') return hit;
    const s = await this.users.findSession(hash, new Date().toISOString());
    if (!s) return null;
    const u = await this.users.getUserById(s.userId);
    if (!u) return null;
    const p: Principal = { userId: u.id, username: u.username, admin: u.admin, roles: u.roles, credential: 'session' };
    // Never cached past the session's own expiry.
    this.remember(hash, p, Date.parse(s.expiresAt));
    return p;
  }

  /**
   * First start: when there is no user yet, create the server admin `admin`
   * with `apiKey` (FERRY_ADMIN_API_KEY) or a generated key, returned so the
   * caller can print it once. Later starts change nothing.
   */
  async ensureFirstAdmin(
    opts: { apiKey?: string; password?: string; username?: string } = {},
  ): Promise<{ created: false } | { created: true; username: string; key: string; generated: boolean }> {
    if ((await this.users.countUsers()) > 0) return { created: false };
    const username = opts.username ?? 'admin';
    const actor = { actor: 'system', address: null };
    try {
      await this.createUser({ username, password: opts.password ?? null, admin: true }, actor);
    } catch (e) {
      // Several server processes started at once on one new database: one of them creates the admin.
      if ((await this.users.countUsers()) > 0) return { created: false };
      throw e;
    }
    const k = await this.createApiKey({ username, name: 'first admin key', key: opts.apiKey || undefined }, actor);
    return { created: true, username, key: k.key, generated: !opts.apiKey };
  }
}
