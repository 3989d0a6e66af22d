import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Environment, Installation, Package } from '../core/types.js';
import { FerryError, NotFoundError, ValidationError } from '../core/errors.js';
import { credentialParamIn } from './redact.js';
import type { Actor, Engine } from '../engine/engine.js';
import { ForbiddenError, UnauthorizedError, hasRole, roleOn, type AuthService, type Principal, type Role } from '../engine/auth.js';
import { unknownEnvironment } from '../engine/environments.js';
import type { Requester } from '../ops/submit.js';
import type { Operation } from '../ops/types.js';
import type { StoredFile } from '../store/file-store.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null only on public routes. */
    principal: Principal | null;
    /** The environment the request concerns, once known (audit of refused changes). */
    auditEnvId: string | null;
    /** The credential that authenticated the request (a logout ends that session). */
    credential: Credential | null;
  }
  interface FastifyContextConfig {
    /** No credential needed (health, login, docs, metrics). */
    public?: boolean;
    /** Where this route looks for a credential (default: NATIVE_CREDENTIALS). API faces set it for their routes. */
    credentials?: readonly CredentialSource[];
    /**
     * This route accepts a credential in its query string (a face whose
     * document sends one there). Everywhere else `?apikey=` and the like are
     * refused (400): URLs end up in logs, proxies and browser histories.
     */
    queryCredentials?: boolean;
  }
}

/**
 * Where a credential may travel. Each API face declares the ones its document
 * (or its product's real clients) use; the native API takes the first four.
 * - `bearer`: `Authorization: Bearer <API key or session token>`;
 * - `apikey`: an API key in the `apikey` header (003);
 * - `sessionID`, `X-MSTR-AuthToken`: a session token in that header (003, 004);
 * - `{ cookie }`: a session token or API key in that cookie (`SMAX_AUTH_TOKEN` of 000).
 */
export type CredentialSource = 'bearer' | 'apikey' | 'sessionID' | 'X-MSTR-AuthToken' | { cookie: string };

export const NATIVE_CREDENTIALS: readonly CredentialSource[] = ['bearer', 'apikey', 'sessionID', 'X-MSTR-AuthToken'];

export interface Credential {
  /** What the value may be: an API key, a session token, or either. */
  kind: 'any' | 'key' | 'session';
  value: string;
}

/** A header's (first) value, trimmed; null when absent or blank. */
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() || null;

/**
 * The credential a request carries, looked for in the accepted sources in
 * their order (most specific first: a face lists `bearer` before its cookie).
 * A malformed `Authorization` header is a 401 of its own, so a client learns
 * why rather than being told its credential is unknown.
 */
export function credentialOf(headers: FastifyRequest['headers'], sources: readonly CredentialSource[] = NATIVE_CREDENTIALS): Credential | null {
  let cookies: Record<string, string | undefined> | undefined;
  for (const source of sources) {
    if (typeof source === 'object') {
      // Parsed here, only for the faces that take a cookie: no cookie parsing (or hook) on every request.
      cookies ??= typeof headers.cookie === 'string' ? fastifyCookie.parse(headers.cookie) : {};
      const value = cookies[source.cookie]?.trim();
      if (value) return { kind: 'any', value };
    } else if (source === 'bearer') {
      const authz = one(headers.authorization);
      if (!authz) continue;
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      if (!m) throw new UnauthorizedError('the Authorization header must be "Bearer <API key or session token>"');
      return { kind: 'any', value: m[1]! };
    } else if (source === 'apikey') {
      const key = one(headers.apikey);
      if (key) return { kind: 'key', value: key };
    } else {
      const session = one(headers[source.toLowerCase()]);
      if (session) return { kind: 'session', value: session };
    }
  }
  return null;
}

/**
 * The 401 message of a request without a credential, naming the sources a
 * route takes, in their order.
 *
 * @example missingCredentialMessage(['bearer', { cookie: 'SMAX_AUTH_TOKEN' }])
 * // 'missing credentials: send Authorization: Bearer <API key or session token>, or the SMAX_AUTH_TOKEN cookie (session token or API key)'
 */
export function missingCredentialMessage(sources: readonly CredentialSource[]): string {
  const words = sources.map((source) => {
    if (typeof source === 'object') return `the ${source.cookie} cookie (session token or API key)`;
    if (source === 'bearer') return 'Authorization: Bearer <API key or session token>';
    if (source === 'apikey') return 'an API key in the apikey header';
    return `a session token in the ${source} header`;
  });
  return `missing credentials: send ${words.join(', or ')}`;
}

/** Resolve a credential to a principal, or throw 401. */
export async function authenticate(auth: AuthService, cred: Credential | null): Promise<Principal> {
  if (!cred) throw new UnauthorizedError();
  let p: Principal | null = null;
  if (cred.kind !== 'session') p = await auth.authenticateKey(cred.value);
  if (!p && cred.kind !== 'key') p = await auth.authenticateSession(cred.value);
  if (!p) throw new UnauthorizedError('unknown, revoked or expired credential');
  return p;
}

/** A credential sent in a URL: refused before it is even checked. */
export class CredentialsInQueryError extends FerryError {
  constructor(name: string) {
    super(
      'CREDENTIALS_IN_QUERY',
      400,
      `a credential in the URL (query parameter ${name}) is refused: URLs are written to logs; send credentials in a header (Authorization: Bearer <API key or session token>, apikey or sessionID)`,
    );
  }
}

/**
 * Authenticate every request in `onRequest`, before the body is even read,
 * so an anonymous caller learns nothing but 401. Routes opt out with
 * `config: { public: true }`; the OpenAPI pages and unknown routes (a JSON
 * 404) are public too.
 */
export function registerAuth(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('auditEnvId', null);
  app.decorateRequest('credential', null);
  // A callback hook: a credential checked a moment ago (the service's cache) costs no promise; others wait for the store.
  app.addHook('onRequest', (request, _reply, done) => {
    let credential: Credential | null;
    try {
      // Read once: Fastify builds routeOptions anew at every access.
      const config = request.routeOptions.config;
      if (config?.queryCredentials !== true) {
        const name = credentialParamIn(request.query);
        if (name) throw new CredentialsInQueryError(name);
      }
      if (request.is404 || config?.public || request.url === '/docs' || request.url.startsWith('/docs/')) return done();
      const faceSources = config?.credentials;
      credential = request.credential = credentialOf(request.headers, faceSources ?? NATIVE_CREDENTIALS);
      // A face's 401 names where its own clients send credentials, and nothing it does not take.
      if (!credential && faceSources) throw new UnauthorizedError(missingCredentialMessage(faceSources));
    } catch (e) {
      return done(e as Error);
    }
    const known = credential && auth.recentPrincipal(credential.value, credential.kind);
    if (known) {
      request.principal = known;
      return done();
    }
    authenticate(auth, credential).then((p) => {
      request.principal = p;
      done();
    }, done);
  });
}

/**
 * What the caller may see and do. Rules:
 * - server admins: everything;
 * - an environment is visible to users holding any role on it; anything
 *   of an environment the caller cannot see answers exactly like something
 *   that does not exist (404, same message), so ids and names leak nothing;
 * - `viewer` reads, `promoter` also creates packages from the environment and
 *   prepares, installs, imports and rolls back into it, `admin` also writes
 *   objects directly and changes the environment's settings;
 * - a visible thing without the needed role is a 403 naming the role.
 */
export class Access {
  constructor(
    private readonly engine: Engine,
    readonly principal: Principal,
    readonly address: string | null,
    /** Told which environment the request turned out to concern (the audit of refused changes records it). */
    private readonly concerns: (envId: string) => void = () => {},
  ) {}

  get actor(): Actor {
    return { actor: this.principal.username, address: this.address };
  }

  /** The caller as an operation it queues records it. */
  get requester(): Requester {
    return { createdBy: this.principal.username, address: this.address };
  }

  get isAdmin(): boolean {
    return this.principal.admin;
  }

  /** Environments the caller can see; undefined means all (server admin). */
  visibleEnvIds(): string[] | undefined {
    return this.principal.admin ? undefined : Object.keys(this.principal.roles);
  }

  can(envId: string, need: Role): boolean {
    return hasRole(this.principal, envId, need);
  }

  private forbid(envId: string, need: Role, what: string): never {
    const role = roleOn(this.principal, envId);
    throw new ForbiddenError(`${what} needs the ${need} role on environment ${envId}; you are ${role ?? 'without a role'} there`);
  }

  requireServerAdmin(what: string): void {
    if (!this.principal.admin) throw new ForbiddenError(`${what} needs a server admin`);
  }

  /**
   * A visible environment, with at least `need` on it. `recent`: as read at
   * most 250 ms ago (engine.recentEnvironments), for status reads only.
   */
  async env(
    envId: string,
    need: Role = 'viewer',
    what = 'this',
    opts: { recent?: boolean } = {},
  ): Promise<Readonly<Environment & { lockedBy: string | null }>> {
    this.concerns(envId);
    if (!roleOn(this.principal, envId)) throw new NotFoundError('environment', envId);
    const env = opts.recent ? await this.engine.recentEnvironment(envId) : await this.engine.getEnvironment(envId);
    if (!this.can(envId, need)) this.forbid(envId, need, what);
    return env;
  }

  /**
   * An environment a request body names in `field`, with at least `need` on
   * it. One the caller cannot see, or that does not exist, is a 400 naming
   * the field and the closest ids they can see (not a 404: the URL was
   * right, the body was not).
   */
  async envIn(
    field: string,
    envId: string,
    need: Role,
    what: string,
    opts: { recent?: boolean } = {},
  ): Promise<Readonly<Environment & { lockedBy: string | null }>> {
    this.concerns(envId);
    if (
      !roleOn(this.principal, envId) ||
      !(opts.recent ? await this.engine.recentEnvironments() : await this.engine.listEnvironments()).some((e) => e.id === envId)
    )
      throw unknownEnvironment(field, envId, await this.visibleEnvironments());
    return this.env(envId, need, what, opts);
  }

  /** The environments this caller holds a role on (a server admin: all of them). */
  async visibleEnvironments(): Promise<Environment[]> {
    return (await this.engine.listEnvironments()).filter((e) => roleOn(this.principal, e.id));
  }

  /**
   * A visible package. Readable by users who can see its source environment,
   * or an environment it was prepared or installed into (so a production
   * viewer can inspect what went in); changed only with `need` on the source.
   */
  async package(id: string, need: Role | null = null, what = 'this'): Promise<Package> {
    const pkg = await this.engine.store.packages.get(id);
    if (!pkg) throw new NotFoundError('package', id);
    const src = roleOn(this.principal, pkg.sourceEnvId);
    // Only a visible package names its environment in the audit of a refusal: the caller reads their own entries.
    if (src) {
      this.concerns(pkg.sourceEnvId);
      if (need && !this.can(pkg.sourceEnvId, need)) this.forbid(pkg.sourceEnvId, need, what);
      return pkg;
    }
    const targets = this.visibleEnvIds() ?? [];
    const seen = targets.length > 0 && (await this.engine.listInstallations({ packageId: id, targetEnvIds: targets })).length > 0;
    if (!seen) throw new NotFoundError('package', id);
    if (need) this.forbid(pkg.sourceEnvId, need, what);
    return pkg;
  }

  /** A visible installation (its target environment is visible), with `need` on the target. */
  async installation(id: string, need: Role = 'viewer', what = 'this'): Promise<Installation> {
    const inst = await this.engine.store.installations.get(id);
    if (!inst || !roleOn(this.principal, inst.targetEnvId)) throw new NotFoundError('installation', id);
    this.concerns(inst.targetEnvId);
    if (!this.can(inst.targetEnvId, need)) this.forbid(inst.targetEnvId, need, what);
    return inst;
  }

  /** Operations are visible on their environment, and always to whoever started them. */
  operation(op: Operation | undefined, id: string, need: Role = 'viewer'): Operation {
    if (!op) throw new NotFoundError('operation', id);
    const mine = op.createdBy === this.principal.username;
    const env = op.environmentId;
    if (!mine && !(env && roleOn(this.principal, env)) && !this.principal.admin) throw new NotFoundError('operation', id);
    if (env) this.concerns(env);
    if (!mine && need !== 'viewer' && !(env && this.can(env, need))) this.forbid(env ?? '(none)', need, 'this');
    return op;
  }

  /** Files are visible to viewers of their environment and to whoever uploaded them. */
  file(f: StoredFile | undefined, id: string): StoredFile {
    if (!f) throw new NotFoundError('file', id);
    const mine = f.createdBy === this.principal.username;
    if (mine || this.principal.admin || (f.environmentId && roleOn(this.principal, f.environmentId))) return f;
    throw new NotFoundError('file', id);
  }

  /** Uploads and imports need the promoter role somewhere. */
  requirePromoterSomewhere(what: string): void {
    if (this.principal.admin) return;
    if (!Object.values(this.principal.roles).some((r) => r === 'promoter' || r === 'admin')) {
      throw new ForbiddenError(`${what} needs the promoter role on at least one environment`);
    }
  }
}

/** Parse `since`/`until` style timestamps in queries. */
export function isoTime(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ValidationError(`querystring.${name} must be an ISO-8601 time`);
  return new Date(t).toISOString();
}
