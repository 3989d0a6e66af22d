import assert from 'node:assert/strict';
import { FerryError } from '../../src/core/errors.js';

/** `409 STALE_PLAN`: an engine error as its status and code, anything else as text. */
export const code = (e: unknown): string => (e instanceof FerryError ? `${e.status} ${e.code}` : String(e));

/** Assert that `p` rejects with a FerryError of `expected` (`'409 STALE_PLAN'`), its message matching `message`. */
export async function rejectsWith(p: Promise<unknown>, expected: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal(code(e), expected, (e as Error).message);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}
