import { setImmediate as nextTurn } from 'node:timers/promises';

let last = performance.now();

/**
 * Let the event loop run if this turn has lasted long enough. better-sqlite3
 * runs every statement synchronously and Kysely's promises resolve as
 * microtasks, so a long batch loop inside one transaction would otherwise
 * keep the process from answering anything (status polls, a cancel request)
 * until it ends. Called between batches; costs nothing most of the time.
 */
export async function breathe(maxBusyMs = 50): Promise<void> {
  const now = performance.now();
  if (now - last < maxBusyMs) return;
  await nextTurn();
  last = performance.now();
}
