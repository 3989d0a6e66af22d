import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'kysely';
import type { Store } from './store.js';
import { serverDb, serverReadDb } from './server-schema.js';

/** One counter as @fastify/rate-limit reads it: failures in the window and milliseconds until it ends. */
export interface RateState {
  current: number;
  ttl: number;
}

type Callback = (err: Error | null, res?: RateState) => void;

/**
 * Failed-login counters in the database (table `login_failures`), so every
 * server process sharing it counts the same failures: a @fastify/rate-limit
 * store (`incr`, `read`, `child`, the shape of its LocalStore). A counter
 * is one row per key (`user:<name>`, `address:<ip>`), raised with one
 * atomic upsert, so two processes counting at once never lose a failure;
 * its window restarts once it has ended. Ended windows are deleted now and
 * then by the counting itself.
 */
export function loginFailureStore(store: Store): FastifyRateLimitStoreCtor {
  const db = () => serverDb(store);
  let writes = 0;

  async function incr(key: string, timeWindow: number): Promise<RateState> {
    const now = Date.now();
    const ends = now + timeWindow;
    const row = await db()
      .insertInto('login_failures')
      .values({ key, count: 1, expires_at: ends })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          count: sql<number>`case when login_failures.expires_at <= ${now} then 1 else login_failures.count + 1 end`,
          expires_at: sql<number>`case when login_failures.expires_at <= ${now} then ${ends} else login_failures.expires_at end`,
        }),
      )
      .returning(['count', 'expires_at'])
      .executeTakeFirstOrThrow();
    if (++writes % 100 === 0) await db().deleteFrom('login_failures').where('expires_at', '<=', now).execute();
    return { current: Number(row.count), ttl: Math.max(0, Number(row.expires_at) - now) };
  }

  async function read(key: string): Promise<RateState> {
    const now = Date.now();
    const row = await serverReadDb(store)
      .selectFrom('login_failures')
      .select(['count', 'expires_at'])
      .where('key', '=', key)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row ? { current: Number(row.count), ttl: Number(row.expires_at) - now } : { current: 0, ttl: 0 };
  }

  return class DatabaseRateStore {
    incr(key: string, cb: Callback, timeWindow: number): void {
      incr(key, timeWindow).then((r) => cb(null, r), cb);
    }

    read(key: string, cb: Callback): void {
      read(key).then((r) => cb(null, r), cb);
    }

    child(): DatabaseRateStore {
      return new DatabaseRateStore();
    }
  };
}
