import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { EnvironmentLock, LockOwner, Store } from '../../src/store/store.js';

/** A holder alive on another host: its heartbeat (now) is fresh for LOCK_STALE_MS. */
export const LIVE_ELSEWHERE: LockOwner = { host: 'another-host.test', pid: 4242, instance: 'alive', started: null };

/** Take an environment's install lock as `owner` (by default a live holder on another host), as an install or rollback would. */
export async function holdLock(
  store: Store,
  envId: string,
  holder: string,
  opts: { owner?: LockOwner; purpose?: EnvironmentLock['purpose']; heartbeatAt?: string } = {},
): Promise<boolean> {
  const at = new Date().toISOString();
  return store.locks.acquire({
    envId,
    holder,
    purpose: opts.purpose ?? 'install',
    owner: opts.owner ?? LIVE_ELSEWHERE,
    acquiredAt: at,
    heartbeatAt: opts.heartbeatAt ?? at,
  });
}

/** An owner on this host whose process has exited. */
export function deadOwner(): LockOwner {
  return { host: hostname(), pid: spawnSync(process.execPath, ['-e', '']).pid, instance: 'gone', started: null };
}
