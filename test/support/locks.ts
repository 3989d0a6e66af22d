import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { processOwner } from '../../src/engine/locks.js';
import type { EnvironmentLock, LockOwner, Store } from '../../src/store/store.js';

/** Take an environment's install lock as `owner` (this process by default), as an install or rollback would. */
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
    owner: opts.owner ?? processOwner(),
    acquiredAt: at,
    heartbeatAt: opts.heartbeatAt ?? at,
  });
}

/** An owner on this host whose process has exited. */
export function deadOwner(): LockOwner {
  return { host: hostname(), pid: spawnSync(process.execPath, ['-e', '']).pid, instance: 'gone', started: null };
}
