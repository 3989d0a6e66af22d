import { randomBytes } from 'node:crypto';

/**
 * Ids for objects an install creates: 32 hex digits, ordered by time like
 * UUIDv7 (12 digits of milliseconds, an 8-digit counter, 12 random digits).
 * A plan mints them when it is prepared, in install order, so the install
 * appends to the objects index instead of writing at random pages all over
 * it. The random part comes from one larger buffer: a randomBytes call per
 * id costs ~2 µs.
 */
export const newObjectId = (() => {
  let pool = '';
  let at = 0;
  let lastMs = 0;
  let prefix = '';
  let counter = 0;
  return (): string => {
    const ms = Date.now();
    if (ms > lastMs) {
      lastMs = ms;
      prefix = ms.toString(16).padStart(12, '0');
      counter = 0;
    } else counter++; // the same millisecond, or the clock went back: keep counting under the last prefix
    if (at >= pool.length) {
      pool = randomBytes(6 * 2048).toString('hex');
      at = 0;
    }
    at += 12;
    return prefix + (counter >>> 0).toString(16).padStart(8, '0') + pool.slice(at - 12, at);
  };
})();
