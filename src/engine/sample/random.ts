/**
 * The two sources of variation of the sample generator: a seeded PRNG for
 * content, drawn in order, and stateless hashes of indices for structure (how
 * many of what), which `sampleSelection` can replay without generating; and the
 * ids, a hash of (seed, idPrefix, type, counter).
 */
import { createHash } from 'node:crypto';
import type { TypeCode } from '../../core/types.js';

/** mulberry32: tiny, fast, identical on every platform; used for content only. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** k distinct indices below n (fewer when n < k), in draw order. */
  distinct(n: number, k: number): number[] {
    const want = Math.min(n, k);
    const out: number[] = [];
    const seen = new Set<number>();
    while (out.length < want) {
      const i = this.int(n);
      if (!seen.has(i)) {
        seen.add(i);
        out.push(i);
      }
    }
    return out;
  }
}

/** Stateless integer hash of a few numbers: structure decisions replayable from indices alone. */
export function hashInt(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export function seedNumber(seed: string): number {
  return createHash('sha256').update(`ferry-sample\u0000${seed}`).digest().readUInt32BE(0);
}

/**
 * Ids of one generated environment. Shared objects (pointed at from many
 * places) are cached; the bulk (tasks, assignments) is hashed once on emit.
 */
export class Ids {
  private readonly cache = new Map<TypeCode, string[]>();
  constructor(
    private readonly seed: string,
    private readonly prefix: string,
  ) {}
  of(type: TypeCode, n: number): string {
    if (!POOLED.has(type)) return this.hash(type, n);
    let list = this.cache.get(type);
    if (!list) this.cache.set(type, (list = []));
    return (list[n] ??= this.hash(type, n));
  }
  private hash(type: TypeCode, n: number): string {
    return createHash('sha256').update(`${this.seed}\u0000${this.prefix}\u0000${type}\u0000${n}`).digest('hex').slice(0, 32);
  }
}

const POOLED = new Set<TypeCode>([
  'GROUP',
  'ROLE',
  'TEAM',
  'CMPY',
  'CTGY',
  'PARAM',
  'PGRP',
  'HOURT',
  'SCHED',
  'MPATH',
  'MILE',
  'ARVPRC',
  'RSPL',
  'QUED',
  'UIFT',
  'UIGB',
  'UIVW',
  'PTLSEC',
  'CALEND',
  'EXTSEC',
  'PTLTAB',
  'USRGRP',
  'SECROLE',
  'PORT',
]);
