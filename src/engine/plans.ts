import { randomUUID } from 'node:crypto';
import { newObjectId } from '../core/ids.js';
import type { Action, Decision, Installation, PackageEntity, PlanEntry } from '../core/types.js';
import { ACTIONS } from '../core/types.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { key, positionsOf, preparePlan, summarizePlan, type MatchPolicy, type Override } from '../core/plan.js';
import { installRefusal, pushRefusal } from '../core/rules.js';
import type { Store } from '../store/store.js';
import { audit, now, type Actor, type EngineContext, type ProgressFn } from './context.js';
import { getEnvironment } from './environments.js';
import { getInstallation } from './history.js';
import { assertAssembled, getPackage } from './packages.js';
import { buildLookup } from './target-lookup.js';
import { SYNC_SOURCE_UID } from '../core/sync-pack.js';

export interface PrepareOptions {
  overrides?: Override[];
  policy?: MatchPolicy;
  /** Allow promotion to a lower tier (one-way push). */
  force?: boolean;
  /** Remember IGNORE / chosen-target overrides for later prepares into this target. */
  remember?: boolean;
  /** Keep matched objects as they are unless a user sets UPDATE (003's rule; see PrepareInput.keepExisting). */
  keepExisting?: boolean;
  userId?: string | null;
  onProgress?: ProgressFn;
}

export interface PreparedPlan {
  installation: Installation;
  entries: PlanEntry[];
  /** Why the install would be refused right now (status gate), or null. */
  installBlocker: string | null;
}

/** The id an entry's object gets if the install creates it: minted for every CREATE when the plan is stored (time-ordered). */
const mintForCreate = (e: PlanEntry): string | null => (e.action === 'CREATE' ? newObjectId() : null);
/** Sync (the `id+name` policy) keeps ids across environments (002): a CREATE gets the source id, which nothing in the target holds. */
const keepIdForCreate = (e: PlanEntry): string | null => (e.action === 'CREATE' ? e.sourceId : null);
const minter = (policy: MatchPolicy) => (policy === 'id+name' ? keepIdForCreate : mintForCreate);

/**
 * Compute the translation map of a package against a target (003
 * prepare-installation): the dry run. Stores it as a PREPARED installation
 * that `install` executes exactly, or refuses if the target moved.
 */
export async function prepare(ctx: EngineContext, packageId: string, targetEnvId: string, opts: PrepareOptions = {}, actor?: Actor): Promise<PreparedPlan> {
  const { pkg, target, entries, overrides, externals, policy } = await computePlan(ctx, packageId, targetEnvId, opts);
  const ts = now();
  const installation: Installation = {
    id: randomUUID(),
    packageId: pkg.id,
    packageVersion: pkg.version,
    targetEnvId: target.id,
    sourceEnvUid: pkg.sourceEnvUid,
    status: 'PREPARED',
    preparedAtVersion: target.version,
    force: !!opts.force,
    // The rule the plan was computed with (a sync's package is strict whoever prepares it), so a re-validation keeps it.
    policy,
    keepExisting: !!opts.keepExisting,
    userId: opts.userId ?? actor?.actor ?? null,
    summary: summarizePlan(entries),
    error: null,
    registeredAt: ts,
    updatedAt: ts,
    installedAt: null,
    rolledBackAt: null,
  };
  await ctx.store.transaction(async (tx) => {
    await tx.installations.create(installation);
    await tx.installations.setExternals(installation.id, externals);
    await tx.installations.insertEntries(installation.id, entries, minter(policy));
    if (opts.remember) await remember(tx, target.id, pkg.sourceEnvUid, overrides);
    await audit(tx, actor, 'plan.prepare', target.id, installation.id, 'ok', { packageId: pkg.id, summary: installation.summary });
  });
  return { installation, entries, installBlocker: installRefusal(pkg.status, target.tier) };
}

/** The plan of a package against a target, computed and not stored. */
async function computePlan(ctx: EngineContext, packageId: string, targetEnvId: string, opts: PrepareOptions) {
  const pkg = await getPackage(ctx, packageId);
  const target = await getEnvironment(ctx, targetEnvId);
  // In the words an install refusal uses ("package is still ASSEMBLING").
  assertAssembled(pkg, (status) => installRefusal(status, target.tier)!);
  const push = pushRefusal(pkg.sourceTier, target.tier, !!opts.force);
  if (push) throw new ConflictError('PUSH_ONE_WAY', push);
  const overrides = normalizeOverrides(opts.overrides ?? []);

  const entities: PackageEntity[] = [];
  for await (const page of ctx.store.packages.pageEntities(pkg.id, 5000, { lean: true })) {
    for (const e of page) entities.push(e);
    opts.onProgress?.({ phase: 'load', done: entities.length, total: pkg.entityCount });
  }
  const decisions = await ctx.store.decisions.get(target.id, pkg.sourceEnvUid);
  const choices = [...decisions, ...overrides.map((o) => ({ type: o.type, targetId: o.targetId ?? null }))];
  const positions = positionsOf(entities);
  const lookup = await buildLookup(ctx, target, pkg, entities, positions, choices, opts.onProgress);
  // A sync's package is matched by sync's strict rule whoever prepares or re-validates it.
  const policy: MatchPolicy = opts.policy ?? (pkg.sourceEnvUid === SYNC_SOURCE_UID ? 'id+name' : 'default');
  const entries = preparePlan({
    catalog: ctx.catalog,
    target,
    policy,
    keepExisting: opts.keepExisting,
    entities,
    removals: pkg.removals,
    lookup,
    decisions,
    overrides,
    positions,
  });
  opts.onProgress?.({ phase: 'prepare', done: entities.length, total: entities.length });
  return { pkg, target, entries, overrides, externals: lookup.externals, policy };
}

/**
 * Apply user overrides to a prepared plan and validate it again with the
 * same rules as a fresh prepare (a parent IGNOREd with live children is
 * invalid, and so on). The plan is recomputed against the target as it is
 * now, under the same installation id, so clients keep polling one id.
 */
export async function revalidate(
  ctx: EngineContext,
  installationId: string,
  overrides: Override[],
  opts: { remember?: boolean } = {},
  actor?: Actor,
): Promise<PreparedPlan> {
  const inst = await getInstallation(ctx, installationId);
  if (inst.status !== 'PREPARED') throw new ConflictError('NOT_PREPARED', `installation ${inst.id} is ${inst.status}; only a PREPARED plan can be changed`);
  const previous = await ctx.store.installations.getEntries(inst.id);
  for (const o of overrides) {
    if (!previous.some((e) => e.type === o.type.toUpperCase() && e.sourceId === o.sourceId && e.action !== 'REMOVE')) {
      throw new ValidationError(`${o.type}:${o.sourceId} is not in this plan`);
    }
  }
  // Earlier overrides of this plan are kept; new ones win.
  const merged = new Map<string, Override>();
  for (const e of previous) {
    if (e.action === 'REMOVE' || (e.action === e.autoAction && e.match !== 'user')) continue;
    merged.set(key(e.type, e.sourceId), { type: e.type, sourceId: e.sourceId, action: e.action, targetId: e.match === 'user' ? e.targetId : null });
  }
  const given = normalizeOverrides(overrides);
  for (const o of given) merged.set(key(o.type, o.sourceId), o);
  const { pkg, target, entries, externals, policy } = await computePlan(ctx, inst.packageId, inst.targetEnvId, {
    overrides: [...merged.values()],
    force: inst.force,
    policy: inst.policy,
    keepExisting: inst.keepExisting,
  });
  const updated: Installation = {
    ...inst,
    packageVersion: pkg.version,
    preparedAtVersion: target.version,
    summary: summarizePlan(entries),
    updatedAt: now(),
  };
  await ctx.store.transaction(async (tx) => {
    await tx.installations.replaceEntries(inst.id, entries, minter(policy));
    await tx.installations.setExternals(inst.id, externals);
    await tx.installations.update(updated);
    if (opts.remember) await remember(tx, target.id, pkg.sourceEnvUid, given);
    await audit(tx, actor, 'plan.revalidate', target.id, inst.id, 'ok', { overrides: overrides.length, summary: updated.summary });
  });
  return { installation: updated, entries, installBlocker: installRefusal(pkg.status, target.tier) };
}

/** Keep the IGNOREs and chosen targets of a plan for the next prepare of any package from that source into this target. */
async function remember(tx: Store, envId: string, sourceUid: string, overrides: Override[]): Promise<void> {
  const keep: Decision[] = overrides
    .filter((o) => o.action === 'IGNORE' || o.targetId)
    .map((o) => ({ sourceUid, type: o.type, sourceId: o.sourceId, action: o.action, targetId: o.targetId ?? null }));
  if (keep.length) await tx.decisions.upsert(envId, keep);
}

function normalizeOverrides(overrides: readonly Override[]): Override[] {
  return overrides.map((o) => {
    const action = String(o.action).toUpperCase() as Action;
    if (!ACTIONS.includes(action) || action === 'REMOVE') {
      throw new ValidationError(`bad action "${o.action}" for ${o.type}:${o.sourceId} (one of CREATE, UPDATE, USEEXISTING, MERGE, IGNORE)`);
    }
    return { type: o.type.toUpperCase(), sourceId: o.sourceId, action, targetId: o.targetId ?? null };
  });
}
