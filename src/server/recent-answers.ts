import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../engine/auth.js';

/**
 * The answers of status reads, kept for at most TTL_MS and only while this
 * process writes nothing (the store's WriteClock stays where it was): the
 * status calls clients poll hardest (a promotion package, an installation
 * with its translation map) are otherwise several queries and a JSON build
 * per poll, for an answer that changes rarely. A change made through this
 * process shows at once; one made by another process sharing the database
 * (or by the offload thread while its call runs) within TTL_MS, the same
 * rule as the environment list and operation polls (README, "Running
 * several processes").
 *
 * An answer is kept per caller and request (method, URL, Host and
 * X-Ferry-Environment, the principal with its roles): two callers never
 * share one, and a refusal is never kept. Polls arriving while an answer is
 * being built wait for that one build.
 */
export class RecentAnswers {
  static readonly TTL_MS = 250;
  /** Entries at most; expired ones go first, then the oldest. */
  static readonly MAX_ENTRIES = 1000;
  readonly #kept = new Map<string, Kept>();

  /** `clock` counts this process's writes (Store.writes); without one nothing is kept. */
  constructor(private readonly clock: () => number | undefined) {}

  /**
   * The answer to `request` (JSON text) built at most TTL_MS ago with no
   * write since, else `build()`'s, sent. An answer already built is sent at
   * once, without a promise (the route's handler returns nothing then);
   * else the promise settles once it is sent. A small answer is kept as
   * text (Node writes headers and body in one piece), a large one as bytes
   * (not encoded again at every poll: a translation map is 300 KB).
   */
  send(request: FastifyRequest, reply: FastifyReply, build: () => Promise<string>): Promise<FastifyReply> | undefined {
    const entry = this.#entry(request, build);
    if (entry.json !== undefined) {
      reply.type(JSON_TYPE).send(entry.json);
      return undefined;
    }
    // Settles with the reply: Fastify then waits for the response to finish (an async onSend hook would otherwise send twice).
    return entry.built.then((json) => reply.type(JSON_TYPE).send(json));
  }

  #entry(request: FastifyRequest, build: () => Promise<string>): Kept {
    const tick = this.clock();
    if (tick === undefined) return { at: 0, tick: 0, built: build() };
    const key = keyOf(request);
    const now = Date.now();
    const kept = this.#kept.get(key);
    if (kept && kept.tick === tick && now - kept.at < RecentAnswers.TTL_MS) return kept;
    const entry: Kept = { at: now, tick, built: build().then((json) => (entry.json = json.length > KEPT_AS_BYTES_OVER ? Buffer.from(json) : json)) };
    this.#kept.delete(key);
    this.#kept.set(key, entry);
    entry.built.catch(() => {
      if (this.#kept.get(key) === entry) this.#kept.delete(key);
    });
    this.prune(now);
    return entry;
  }

  private prune(now: number): void {
    // Insertion order is age order: stop at the first entry still fresh, unless there are too many.
    for (const [key, e] of this.#kept) {
      if (now - e.at < RecentAnswers.TTL_MS && this.#kept.size <= RecentAnswers.MAX_ENTRIES) break;
      this.#kept.delete(key);
    }
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Answers longer than this (in UTF-16 units) are kept as bytes. */
const KEPT_AS_BYTES_OVER = 16 * 1024;

/** An answer being built, and once built its JSON (text or bytes). */
interface Kept {
  at: number;
  tick: number;
  built: Promise<string | Buffer>;
  json?: string | Buffer;
}

function keyOf(request: FastifyRequest): string {
  const p = request.principal;
  const who = p ? whoOf(p) : '';
  const h = request.headers;
  return `${request.method} ${request.url}\u0000${h.host ?? ''}\u0000${String(h['x-ferry-environment'] ?? '')}\u0000${who}`;
}

/** The principal's part of a key: its user, admin flag and roles. The auth cache hands out one object per credential for a while, so it is built once per object. */
function whoOf(p: Principal): string {
  let who = whoKeys.get(p);
  if (who === undefined) whoKeys.set(p, (who = `${p.userId}\u0000${p.admin}\u0000${JSON.stringify(p.roles)}`));
  return who;
}
const whoKeys = new WeakMap<Principal, string>();
