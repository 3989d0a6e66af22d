/**
 * A set of strings kept as 52-bit fingerprints in an open-addressing table
 * (a Float64Array): 8-16 bytes per member instead of ~80 for a Set of
 * strings, so checking a 1M-entity bundle for repeated ids costs ~16 MB and
 * memory stays flat per entity (DESIGN "Storage and scale").
 *
 * Fingerprints can collide (about once in 10^4 bundles of 1M members), so
 * `add` answering true means "maybe seen before": a caller that refuses on it
 * confirms with the real strings first.
 */
export class FingerprintSet {
  // 0 marks an empty slot; fingerprints are stored + 1, so never 0.
  #slots = new Float64Array(1 << 12);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Add `s`; true when its fingerprint was already there (maybe the same string). */
  add(s: string): boolean {
    const [lo, hi] = fingerprint(s);
    const value = (hi & 0xfffff) * 0x1_0000_0000 + lo + 1;
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    return this.#insert(value, lo);
  }

  #insert(value: number, lo: number): boolean {
    const mask = this.#slots.length - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const at = this.#slots[i]!;
      if (at === 0) {
        this.#slots[i] = value;
        this.#size++;
        return false;
      }
      if (at === value) return true;
    }
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Float64Array(old.length * 2);
    this.#size = 0;
    for (const value of old) {
      // The low 32 bits of the fingerprint choose the slot, as in add().
      if (value !== 0) this.#insert(value, (value - 1) % 0x1_0000_0000);
    }
  }
}

/**
 * Two 32-bit halves of a 53-bit string hash (cyrb53, by bryc, public domain):
 * fast, well mixed, no allocation.
 */
function fingerprint(s: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}
