/**
 * Bounds on the shape of user data, checked at every entrance (engine input
 * validation, bundle lines, request bodies) so that nothing past them ever
 * reaches code that walks values recursively: hashing (canonical JSON),
 * planning, merging and export would overflow the stack on a value nested a
 * few thousand levels deep, long after the value was accepted and stored.
 */

/**
 * How deep an object's `fields` may nest: `fields` itself is level 1, an
 * object or array inside it level 2, and so on. Real configuration objects
 * use a handful of levels.
 */
export const MAX_FIELD_DEPTH = 64;

/**
 * How deep a whole request body may nest: fields at their limit inside the
 * deepest envelope an API face wraps them in (a list, an object, a map by
 * type...), with room to spare. The engine's check on fields names the real
 * limit; this one only keeps everything else (selections carry free-form
 * properties too) from reaching recursive code.
 */
export const MAX_BODY_DEPTH = MAX_FIELD_DEPTH + 32;

/**
 * The path (keys and indexes) to the first object or array nested deeper
 * than `max` levels, the value itself being level 1; null when it fits.
 * Recursive, but never more than `max + 1` frames deep whatever the input.
 *
 * @example
 * tooDeep({ a: { b: {} } }, 2) // ['a', 'b']
 */
export function tooDeep(value: unknown, max: number): (string | number)[] | null {
  return walk(value, max);
}

function walk(value: unknown, left: number): (string | number)[] | null {
  if (value === null || typeof value !== 'object') return null;
  if (left <= 0) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v === null || typeof v !== 'object') continue;
      const path = walk(v, left - 1);
      if (path) return [i, ...path];
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === null || typeof v !== 'object') continue;
    const path = walk(v, left - 1);
    if (path) return [key, ...path];
  }
  return null;
}

/** `fields.a.b[3].c...`: a path for a message, cut after a few steps. */
export function describePath(root: string, path: readonly (string | number)[], steps = 4): string {
  const shown = path.slice(0, steps).map((p) => (typeof p === 'number' ? `[${p}]` : `.${p.length > 40 ? `${p.slice(0, 40)}...` : p}`));
  return root + shown.join('') + (path.length > steps ? '...' : '');
}

/** The refusal of fields nested too deep, worded once for every entrance. */
export function fieldsTooDeep(fields: unknown): string | null {
  const path = tooDeep(fields, MAX_FIELD_DEPTH);
  if (!path) return null;
  return `fields are nested deeper than ${MAX_FIELD_DEPTH} levels (at ${describePath('fields', path)}); Ferry accepts at most ${MAX_FIELD_DEPTH}`;
}

/**
 * A byte count as a person reads a limit: `32 MiB`, `1 GiB`, `1.5 KiB`, `900 bytes`.
 *
 * @example
 * formatBytes(32 * 1024 * 1024) // '32 MiB'
 */
export function formatBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} bytes`;
  let v = n;
  let unit = 'bytes';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1).replace(/\.0$/, '')} ${unit}`;
}
