import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '../core/errors.js';
import { loginFailureStore } from '../store/login-failures.js';
import type { Store } from '../store/store.js';

/** Too many failed logins: try again after `retryAfter` seconds (also in the Retry-After header). */
export class TooManyLoginsError extends FerryError {
  constructor(readonly retryAfter: number) {
    super('TOO_MANY_REQUESTS', 429, `too many failed logins; try again in ${retryAfter} seconds`);
  }
}

/**
 * Password guessing is slowed down per user name and per address: after
 * `max` failed logins within `windowMs`, every login for that user, and
 * every login from that address, answers 429 until the window ends, the
 * right password included (else guessing would go on, reading 401 against
 * 429). Successful logins are not counted. Every login route of every API
 * face goes through the one throttle of the server (`app.ferry.loginThrottle`).
 *
 * Counters live in this process (@fastify/rate-limit's LRU store) on an
 * embedded server, and in the database (`login_failures`) when several
 * server processes share one (`shared`): then a guesser spreading attempts
 * over the processes behind a load balancer gets the same `max` in all.
 *
 * @example
 * await loginThrottle.check(request, reply, username);
 * try { return await auth.login(username, password, request.ip); }
 * catch (e) { await loginThrottle.failed(request, username); throw e; }
 */
export interface LoginThrottle {
  /** Refuse (429, with Retry-After) while the user or the address has `max` failures in the window. */
  check(request: FastifyRequest, reply: FastifyReply, username: string): Promise<void>;
  /** Count a failed login against the user and the address. */
  failed(request: FastifyRequest, username: string): Promise<void>;
}

/** The user name a check or a failure is about (the rate limiter's key generator only sees the request). */
const USERNAME = new WeakMap<FastifyRequest, string>();

/** Register @fastify/rate-limit (no global limit) and build the login throttle on it. `max` 0 turns it off. */
export async function registerLoginThrottle(app: FastifyInstance, opts: { max: number; windowMs: number; shared?: Store }): Promise<LoginThrottle> {
  if (opts.max <= 0) return { check: async () => {}, failed: async () => {} };
  await app.register(rateLimit, { global: false, ...(opts.shared ? { store: loginFailureStore(opts.shared) } : {}) });
  const limit = { max: opts.max, timeWindow: opts.windowMs };
  const byUser = app.createRateLimit({ ...limit, keyGenerator: (req) => `user:${USERNAME.get(req) ?? ''}` });
  const byAddress = app.createRateLimit({ ...limit, keyGenerator: (req) => `address:${req.ip}` });
  // User names compare as the store does not: case and spaces must not buy an attacker more guesses.
  const remember = (request: FastifyRequest, username: string) => USERNAME.set(request, username.trim().toLowerCase());

  return {
    async check(request, reply, username) {
      remember(request, username);
      let wait = 0;
      for (const limiter of [byUser, byAddress]) {
        const r = await limiter(request, { increment: false });
        if (!r.isAllowed && r.remaining <= 0) wait = Math.max(wait, r.ttlInSeconds, 1);
      }
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw new TooManyLoginsError(wait);
      }
    },
    async failed(request, username) {
      remember(request, username);
      await byUser(request);
      await byAddress(request);
    },
  };
}
