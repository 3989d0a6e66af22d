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
  readonly #kept = new Map<string, { at: number; tick: number; text: Promise<Buffer> }>();

  /** `clock` counts this process's writes (Store.writes); without one nothing is kept. */
  constructor(private readonly clock: () => number | undefined) {}

  /**
   * The answer to `request` built at most TTL_MS ago with no write since,
   * else `build()`'s; as bytes, which the socket takes without encoding
   * them again at every poll.
   */
  get(request: FastifyRequest, build: () => Promise<string>): Promise<Buffer> {
    const tick = this.clock();
    if (tick === undefined) return build().then((text) => Buffer.from(text));
    const key = keyOf(request);
    const now = Date.now();
    const kept = this.#kept.get(key);
    if (kept && kept.tick === tick && now - kept.at < RecentAnswers.TTL_MS) return kept.text;
    const entry = { at: now, tick, text: build().then((text) => Buffer.from(text)) };
    this.#kept.delete(key);
    this.#kept.set(key, entry);
    entry.text.catch(() => {
      if (this.#kept.get(key) === entry) this.#kept.delete(key);
    });
    this.prune(now);
    return entry.text;
  }

  /** `get`'s answer sent as the JSON it is (built by `build` as JSON text). */
  async send(request: FastifyRequest, reply: FastifyReply, build: () => Promise<string>): Promise<FastifyReply> {
    const json = await this.get(request, build);
    return reply.type('application/json; charset=utf-8').send(json);
  }

  private prune(now: number): void {
    // Insertion order is age order: stop at the first entry still fresh, unless there are too many.
    for (const [key, e] of this.#kept) {
      if (now - e.at < RecentAnswers.TTL_MS && this.#kept.size <= RecentAnswers.MAX_ENTRIES) break;
      this.#kept.delete(key);
    }
  }
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
