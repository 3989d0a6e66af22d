import type { Environment, Installation, Package } from '../core/types.js';
import { ConflictError } from '../core/errors.js';
import type { Actor, Engine } from './engine.js';
import { audit } from './context.js';
import { assertUnlocked, releaseHeldBy } from './locks.js';

/**
 * The refusals `Engine.install` would raise, checked without installing, so a
 * server can answer 409/423 at once instead of queueing an operation that is
 * bound to fail. `install` checks all of them again under its lock: this is
 * a courtesy, never the guard. `allowInvalid`: all but the invalid entries
 * (a caller about to override them checks the rest first).
 */
export async function checkInstallable(
  engine: Engine,
  installationId: string,
  opts: { allowInvalid?: boolean } = {},
): Promise<{ installation: Installation; pkg: Package; target: Environment }> {
  const { installation: inst, pkg, target } = await engine.checkInstall(installationId, opts);
  if (target.version !== inst.preparedAtVersion) {
    throw new ConflictError(
      'STALE_PLAN',
      `target ${target.id} changed since the plan was prepared (version ${inst.preparedAtVersion} -> ${target.version}); prepare again`,
    );
  }
  await assertUnlocked(engine, target);
  return { installation: inst, pkg, target };
}

/**
 * End an assembly that will never run (cancelled while queued, or its
 * server died too often): the package leaves ASSEMBLING for
 * ASSEMBLING_FAILED with the reason, as a failed assembly does (003).
 */
export async function abandonAssembly(engine: Engine, packageId: string, reason: string, actor?: Actor): Promise<void> {
  const pkg = await engine.store.packages.get(packageId);
  if (!pkg || pkg.status !== 'ASSEMBLING') return;
  await engine.store.transaction(async (tx) => {
    await tx.packages.update({ ...pkg, status: 'ASSEMBLING_FAILED', assemblyError: reason, updatedAt: new Date().toISOString() });
    await audit(tx, actor, 'package.assemble', pkg.sourceEnvId, pkg.id, 'failed', { reason });
  });
}

/**
 * Release the install lock an installation left behind when its process
 * died. The install ran in one transaction that died with the process, so
 * nothing was written; only the lock (taken outside the transaction, so other
 * writers see it at once) is left. Only that installation's lock is released.
 */
export async function releaseAbandonedLock(engine: Engine, envId: string, installationId: string): Promise<boolean> {
  return releaseHeldBy(engine, envId, installationId);
}
