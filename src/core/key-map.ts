import type { TypeCode } from './types.js';

/**
 * A map keyed by (type, id). The obvious `Map<string, V>` keyed by
 * `${type}\u0000${id}` builds, flattens and hashes a new string on every
 * lookup, and a plan of 100k entities does millions of lookups; here both
 * parts are looked up as they are (their hashes are cached on the strings).
 */
export class KeyMap<V> {
  readonly #byType = new Map<TypeCode, Map<string, V>>();

  /** Whether the map is empty (a count would cost a lookup per `set`). */
  get empty(): boolean {
    for (const ids of this.#byType.values()) if (ids.size > 0) return false;
    return true;
  }

  get(type: TypeCode, id: string): V | undefined {
    return this.#byType.get(type)?.get(id);
  }

  has(type: TypeCode, id: string): boolean {
    return this.#byType.get(type)?.has(id) ?? false;
  }

  set(type: TypeCode, id: string, value: V): this {
    let ids = this.#byType.get(type);
    if (ids === undefined) this.#byType.set(type, (ids = new Map<string, V>()));
    ids.set(id, value);
    return this;
  }

  *values(): Generator<V> {
    for (const ids of this.#byType.values()) yield* ids.values();
  }
}
