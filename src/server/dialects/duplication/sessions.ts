import type { FastifyInstance, FastifyReply } from 'fastify';
import { ValidationError } from '../../../core/errors.js';
import { sha256, UnauthorizedError } from '../../../engine/auth.js';
import type { DialectContext } from '../types.js';
import { creatorOf } from './shapes.js';

/** The session cookie a login sets (the product's Library is a Java web app: its session cookie is JSESSIONID). */
export const SESSION_COOKIE = 'JSESSIONID';

/**
 * Versions /api/status reports. The SDK reads the first 9 characters and
 * enables project duplication (11.5.0700), cross-environment duplication,
 * backup, restore and record deletion (11.5.1200), the 11.5.0900 settings
 * (`skipAllProfileFolders`, `includeContactsAndContactGroups`) and the
 * Python application type (11.5.0600) from them.
 */
export const PRODUCT_VERSION = '11.5.1200.0000';

/** Login modes of 004's POST /api/auth/login that Ferry has: a user's password, or an API key ("API token"). */
const STANDARD = 1;
const API_TOKEN = 4096;

interface LoginBody {
  loginMode?: unknown;
  username?: unknown;
  password?: unknown;
}

function loginMode(value: unknown): number {
  if (value === undefined || value === '') return STANDARD;
  const n = typeof value === 'number' ? value : Number(value);
  if (n === STANDARD || n === API_TOKEN) return n;
  throw new ValidationError(
    `loginMode ${JSON.stringify(value)} is not supported: use 1 (standard: a Ferry user and password) or 4096 (API token: a Ferry API key as username)`,
  );
}

function sendSession(reply: FastifyReply, token: string, expiresAt: string): FastifyReply {
  return reply
    .header('X-MSTR-AuthToken', token)
    .setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', expires: new Date(expiresAt) })
    .status(204)
    .send();
}

/** Sessions and server status: what a client (the SDK's Connection) does before anything else. */
export function sessionRoutes(app: FastifyInstance, ctx: DialectContext): void {
  const { auth, config, loginThrottle } = ctx.ferry;

  app.post(
    '/api/auth/login',
    { config: { public: true }, schema: { summary: 'Log in (JSON or form): 204 with the session token in X-MSTR-AuthToken and a session cookie' } },
    async (request, reply) => {
      const body = (request.body ?? {}) as LoginBody;
      if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('the body must be a JSON object or a form');
      const mode = loginMode(body.loginMode);
      const username = typeof body.username === 'string' ? body.username : '';
      if (!username) throw new ValidationError(mode === API_TOKEN ? 'username is required: the API key, for loginMode 4096' : 'username is required');
      // Guessing is slowed down by the server's one login throttle; an API key counts under a digest of itself, never its text.
      const who = mode === API_TOKEN ? `apikey:${sha256(username).slice(0, 16)}` : username;
      await loginThrottle.check(request, reply, who);
      try {
        const s =
          mode === API_TOKEN
            ? await auth.loginWithApiKey(username, request.ip ?? null)
            : await auth.login(username, typeof body.password === 'string' ? body.password : '', request.ip ?? null);
        return sendSession(reply, s.token, s.expiresAt);
      } catch (e) {
        if (e instanceof UnauthorizedError) await loginThrottle.failed(request, who);
        throw e;
      }
    },
  );

  app.post('/api/auth/logout', { schema: { summary: 'End the session (a no-op for an API key)' } }, async (request, reply) => {
    const cred = request.credential;
    if (cred && cred.kind !== 'key' && request.principal?.credential === 'session') {
      await auth.logout(cred.value, { actor: request.principal.username, address: request.ip ?? null });
    }
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).status(204).send();
  });

  const session = (username: string, userId: string) => ({
    username,
    userId,
    userFullName: username,
    locale: 1033,
    maxSearch: 3,
    workingSet: 10,
    // Seconds: the SDK renews its session once this much time has passed since its last call.
    timeout: Math.floor(config.sessionTtlMs / 1000),
  });

  app.get('/api/sessions', { schema: { summary: 'The session: user and timeout (seconds)' } }, async (request) => {
    const p = request.principal!;
    return session(p.username, creatorOf(p).id);
  });

  app.put('/api/sessions', { schema: { summary: 'Keep the session alive: 204 while it is valid' } }, async (_request, reply) => reply.status(204).send());

  app.get('/api/sessions/userInfo', { schema: { summary: 'The logged-in user' } }, async (request) => {
    const p = request.principal!;
    const { id } = creatorOf(p);
    return { id, name: p.username, username: p.username, fullName: p.username, initials: p.username.slice(0, 2).toUpperCase(), metadataUser: true };
  });

  app.get(
    '/api/status',
    { config: { public: true }, schema: { summary: 'Server versions (what the SDK checks before it enables duplication)' } },
    async () => ({ webVersion: PRODUCT_VERSION, iServerVersion: PRODUCT_VERSION, iServerRunning: true }),
  );
}
