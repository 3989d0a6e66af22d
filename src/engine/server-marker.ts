import { readFileSync } from 'node:fs';
import { rename, rm, writeFile, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * A running server marks the data directory it holds, so that the CLI, run
 * from the same checkout, can say so instead of silently working on the same
 * `./data` beside it.
 *
 * Decision: a small file, `<dataDir>/server.json`, written when the server
 * listens (its pid, host name, address, start time) and removed when it
 * stops. Liveness is checked by pid (`kill(pid, 0)`) on the same host, so a
 * server killed without a chance to clean up leaves a marker that is simply
 * ignored (and overwritten at its next start). A file lock was the other
 * candidate; Node has no portable advisory lock, and SQLite's own lock is
 * held only during transactions, so neither says "a server is running". A
 * marker on another host (a shared directory) cannot be checked and counts as
 * live. A recycled pid can at worst cause a needless warning, never a
 * refusal: the CLI only warns, since SQLite in WAL mode lets both work on the
 * file safely. PostgreSQL (`FERRY_DATABASE_URL`) has no directory to mark.
 */
export const SERVER_MARKER_FILE = 'server.json';

export interface ServerMarker {
  pid: number;
  host: string;
  /** Where the server listens, e.g. http://127.0.0.1:8080. */
  url: string;
  startedAt: string;
}

/**
 * Write the marker for this process; returns the function that removes it
 * (only while it is still this process's: a second server on the same
 * directory may have replaced it).
 */
export async function markDataDir(dataDir: string, url: string): Promise<() => Promise<void>> {
  const path = join(dataDir, SERVER_MARKER_FILE);
  const marker: ServerMarker = { pid: process.pid, host: hostname(), url, startedAt: new Date().toISOString() };
  const tmp = `${path}.${process.pid}.tmp`;
  // Written beside it and renamed: a CLI never reads half a marker.
  await writeFile(tmp, JSON.stringify(marker) + '\n');
  await rename(tmp, path);
  return async () => {
    try {
      const now = JSON.parse(await readFile(path, 'utf8')) as Partial<ServerMarker>;
      if (now.pid === marker.pid && now.host === marker.host) await rm(path, { force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  };
}

/**
 * The server holding `dataDir` right now, or null: no marker, an unreadable
 * one, or one left by a process that is no longer running on this host.
 */
export function runningServer(dataDir: string): ServerMarker | null {
  let m: Partial<ServerMarker>;
  try {
    m = JSON.parse(readFileSync(join(dataDir, SERVER_MARKER_FILE), 'utf8')) as Partial<ServerMarker>;
  } catch {
    return null;
  }
  if (typeof m.pid !== 'number' || !Number.isInteger(m.pid) || m.pid <= 0 || typeof m.url !== 'string' || typeof m.host !== 'string') return null;
  const marker: ServerMarker = { pid: m.pid, host: m.host, url: m.url, startedAt: typeof m.startedAt === 'string' ? m.startedAt : '' };
  if (marker.host !== hostname()) return marker;
  try {
    process.kill(marker.pid, 0);
    return marker;
  } catch (e) {
    // EPERM: alive, owned by another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? marker : null;
  }
}
