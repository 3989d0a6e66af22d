import type { Environment, Installation, Package, TypeCode } from '../core/types.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { KeyMap } from '../core/key-map.js';
import { InstallPlanner, type InstallEntry, type InstallStep } from '../core/install-plan.js';
import { installRefusal, pushRefusal } from '../core/rules.js';
import type { Store, StoredEnvironment } from '../store/store.js';
import { audit, bumpVersions, loadTargets, lockForWrite, now, scopeOf, toRow, type Actor, type EngineContext, type ProgressFn } from './context.js';
import { withInstallLock } from './locks.js';
import { getEnvironment } from './environments.js';
import { getInstallation } from './history.js';
import { ENTITY_BATCH, InstallRun } from './install-run.js';
import { getPackage } from './packages.js';

/**
 * The exact steps an install of this plan would run (`ferry plan --json`),
 * computed from the current target without writing anything. Objects to
 * create are shown under the ids the install will give them (minted at
 * prepare); `new:<n>` only for a plan prepared before those ids existed.
 */
export async function installSteps(ctx: EngineContext, installationId: string): Promise<InstallStep[]> {
  const inst = await getInstallation(ctx, installationId);
  const target = await getEnvironment(ctx, inst.targetEnvId);
  const entries = await ctx.store.installations.getInstallEntries(inst.id);
  let n = 0;
  const steps: InstallStep[] = [];
  for await (const page of stepPages(ctx, ctx.store, inst, target, entries, (en) => en.newId ?? `new:${++n}`)) for (const s of page) steps.push(s);
  return steps;
}

/**
 * An install's steps a page at a time: the removals, each page of entities
 * in install order, then the patches that close reference cycles. Only a
 * page of entities, and the target objects it updates, is held at once.
 */
async function* stepPages(
  ctx: EngineContext,
  store: Store,
  inst: Installation,
  target: Environment,
  entries: readonly InstallEntry[],
  newId: (en: InstallEntry) => string,
): AsyncGenerator<InstallStep[]> {
  const pkg = await store.packages.get(inst.packageId);
  if (!pkg) throw new NotFoundError('package', inst.packageId);
  // Refs outside the package resolve exactly as at prepare: the target has not moved.
  const externals = await store.installations.getExternals(inst.id);
  if (!externals) throw new ConflictError('STALE_PLAN', `installation ${inst.id} was prepared by an earlier version of Ferry; prepare again`);
  const planner = new InstallPlanner({ catalog: ctx.catalog, target, entries, newId });
  const removed = entries.filter((e) => e.action === 'REMOVE' && e.targetId).map((e) => ({ type: e.type, id: e.targetId! }));
  yield planner.removals(await loadTargets(ctx, store, target.id, removed));

  // Entries and entities are both in `ord` order: the entries of a page are the next ones up to its last ord.
  let next = 0;
  for await (const page of store.packages.pageEntities(pkg.id, ENTITY_BATCH, { lean: true })) {
    const updated: { type: TypeCode; id: string }[] = [];
    const last = page[page.length - 1]!.ord;
    for (; next < entries.length && entries[next]!.ord <= last; next++) {
      const en = entries[next]!;
      if (en.targetId && (en.action === 'UPDATE' || en.action === 'MERGE')) updated.push({ type: en.type, id: en.targetId });
    }
    const facts = { targets: await loadTargets(ctx, store, target.id, updated), externals };
    yield page.map((e) => planner.step(e, facts));
  }
  yield planner.patches();
}

/**
 * The refusals that do not need the lock: the plan's state, the package
 * status gate, one-way push, a package edited since prepare, invalid
 * entries. `install` checks them first; a server checks them to answer
 * 409 before queueing an install that is bound to fail.
 */
export async function checkInstall(
  ctx: EngineContext,
  installationId: string,
  opts: { allowInvalid?: boolean } = {},
): Promise<{ installation: Installation; pkg: Package; target: StoredEnvironment }> {
  const inst = await getInstallation(ctx, installationId);
  if (inst.status !== 'PREPARED') {
    throw new ConflictError('NOT_PREPARED', `installation ${inst.id} is ${inst.status}; prepare the package again to install it`);
  }
  const pkg = await getPackage(ctx, inst.packageId);
  const target = await getEnvironment(ctx, inst.targetEnvId);
  const refusal = installRefusal(pkg.status, target.tier);
  if (refusal) throw new ConflictError('PACKAGE_STATUS', refusal);
  const push = pushRefusal(pkg.sourceTier, target.tier, inst.force);
  if (push) throw new ConflictError('PUSH_ONE_WAY', push);
  if (pkg.version !== inst.packageVersion) {
    throw new ConflictError(
      'STALE_PLAN',
      `package ${pkg.id} changed since the plan was prepared (version ${inst.packageVersion} -> ${pkg.version}); prepare again`,
    );
  }
  if (inst.summary.invalid > 0 && !opts.allowInvalid) {
    throw new ConflictError(
      'PLAN_INVALID',
      `the plan has ${inst.summary.invalid} invalid entr${inst.summary.invalid === 1 ? 'y' : 'ies'}; override them (ferry plan ... --set, or re-validate) or prepare again`,
    );
  }
  return { installation: inst, pkg, target };
}

/**
 * Execute a prepared plan: all of it in ONE transaction, or nothing.
 * Refused (409) when the plan has invalid entries, the package status
 * forbids the target tier, the package or the target moved since prepare.
 */
export async function install(
  ctx: EngineContext,
  installationId: string,
  opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {},
  actor?: Actor,
): Promise<Installation> {
  const { installation: inst, pkg, target } = await checkInstall(ctx, installationId);
  return withInstallLock(ctx, target.id, inst.id, 'install', async () => {
    let active: InstallRun | undefined;
    try {
      const result = await ctx.store.transaction(async (tx) => {
        // The entries first (a read; the install lock keeps them as they are): their types say which rows to lock.
        const entries = await tx.installations.getInstallEntries(inst.id);
        await lockForWrite(
          ctx,
          tx,
          target.id,
          entries.map((e) => e.type),
        );
        const current = (await tx.environments.get(target.id))!;
        if (current.version !== inst.preparedAtVersion) {
          throw new ConflictError(
            'STALE_PLAN',
            `target ${target.id} changed since the plan was prepared (version ${inst.preparedAtVersion} -> ${current.version}); prepare again`,
          );
        }
        const run = (active = new InstallRun({
          tx,
          envId: target.id,
          installation: inst,
          toRow: (o) => toRow(ctx, target.id, o),
          scopeOf: (type) => scopeOf(ctx, target.id, type),
          total: entries.length,
          onProgress: opts.onProgress,
          signal: opts.signal,
        }));
        const newId = (en: InstallEntry) => {
          if (!en.newId) throw new ConflictError('STALE_PLAN', `installation ${inst.id} was prepared by an earlier version of Ferry; prepare again`);
          return en.newId;
        };
        for await (const steps of stepPages(ctx, tx, inst, current, entries, newId)) await run.run(steps);
        await run.finish();
        // Every entry has the outcome of its action (OUTCOMES, read so by
        // store.installations.getEntries once the installation is
        // COMPLETED); only removals whose target was already gone differ,
        // and are written.
        if (run.skipped.length > 0) {
          const removals = new KeyMap<InstallEntry>();
          for (const en of entries) if (en.action === 'REMOVE') removals.set(en.type, en.sourceId, en);
          await tx.installations.setEntryOutcomes(
            inst.id,
            run.skipped.map((k) => ({
              type: k.type,
              sourceId: k.sourceId,
              installationStatus: 'SKIPPED',
              targetId: removals.get(k.type, k.sourceId)?.targetId ?? null,
              statusReason: k.reason,
            })),
          );
        }
        await bumpVersions(ctx, tx, target.id, run.writtenTypes);
        const ts = now();
        const done: Installation = { ...inst, status: 'COMPLETED', installedAt: ts, updatedAt: ts };
        await tx.installations.update(done);
        await audit(tx, actor, 'install', target.id, inst.id, 'ok', { packageId: pkg.id, summary: inst.summary });
        return done;
      });
      return result;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // The transaction is gone; record the failure on its own so the user sees it.
      if (!(e instanceof ConflictError && e.code === 'STALE_PLAN')) {
        await ctx.store.transaction(async (tx) => {
          const failed: Installation = { ...inst, status: 'FAILED', error: message, updatedAt: now() };
          await tx.installations.update(failed);
          // A cancellation is nobody's fault: no object is marked FAILED for it.
          const cancelled = e instanceof ConflictError && e.code === 'CANCELLED';
          const failedStep = active?.current;
          if (failedStep && !cancelled) {
            await tx.installations.setEntryStatuses(inst.id, [
              { type: failedStep.type, sourceId: failedStep.sourceId, status: 'FAILED', reason: message, targetId: null },
            ]);
          }
          await audit(tx, actor, 'install', target.id, inst.id, 'failed', { error: message });
        });
      }
      throw e;
    }
  });
}
