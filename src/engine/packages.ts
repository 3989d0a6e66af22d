import { randomUUID } from 'node:crypto';
import type { FerryObject, ObjectCollection, ObjectRef, Package, PackageEntity, PackageStatus, TypeCode } from '../core/types.js';
import { ConflictError, NotFoundError, ValidationError, type FerryError } from '../core/errors.js';
import { contentHash } from '../core/hash.js';
import { assemblePackage, explainPath, type SourceReader } from '../core/assemble.js';
import { orderForInstall } from '../core/order.js';
import { key } from '../core/plan.js';
import { changeStatus } from '../core/rules.js';
import { typeSpec, unknownType } from '../core/refs.js';
import { audit, now, splitByScope, type Actor, type EngineContext, type ProgressFn } from './context.js';
import { getEnvironment } from './environments.js';
import { ENTITY_BATCH } from './install-run.js';
import { validateObjects } from './validate-input.js';
import { breathe } from './breathe.js';

export interface PackageInput {
  sourceEnvId: string;
  name: string;
  description?: string;
  selection: ObjectRef[];
  removals?: ObjectRef[];
  createdBy?: string | null;
}

/**
 * Create a package from a selection and assemble it (003 POST /packages):
 * the package exists as ASSEMBLING at once, then becomes DRAFT with its
 * frozen entities, or ASSEMBLING_FAILED with the reason.
 */
export async function createPackage(ctx: EngineContext, input: PackageInput, actor?: Actor, onProgress?: ProgressFn): Promise<Package> {
  const pkg = await startPackage(ctx, input, actor);
  return assemble(ctx, pkg, input.selection, onProgress);
}

/**
 * The first half of createPackage: record the package as ASSEMBLING and
 * return it, so a server can answer at once and assemble in an operation.
 */
export async function startPackage(ctx: EngineContext, input: PackageInput, actor?: Actor): Promise<Package> {
  const env = await getEnvironment(ctx, input.sourceEnvId);
  if (!input.name?.trim()) throw new ValidationError('a package needs a name');
  for (const s of [...input.selection, ...(input.removals ?? [])]) {
    if (!ctx.catalog.types[s.type]) throw new ValidationError(`selection: ${unknownType(ctx.catalog, s.type)}`);
  }
  const ts = now();
  const pkg: Package = {
    id: randomUUID(),
    name: input.name.trim(),
    description: input.description ?? '',
    sourceEnvId: env.id,
    sourceEnvUid: env.uid,
    sourceUrl: ctx.publicUrl,
    sourceTier: env.tier,
    status: 'ASSEMBLING',
    version: 1,
    objectCollections: toCollections(input.selection),
    removals: input.removals ?? [],
    metadata: { installOrder: [], displayOrder: [], deferredRefs: 0 },
    entityCount: 0,
    countsByType: {},
    assemblyError: null,
    createdAt: ts,
    updatedAt: ts,
    publishedAt: null,
    retiredAt: null,
    createdBy: input.createdBy ?? actor?.actor ?? null,
  };
  await ctx.store.packages.create(pkg);
  await audit(ctx.store, actor, 'package.create', env.id, pkg.id, 'ok', { name: pkg.name, selected: input.selection.length });
  return pkg;
}

/**
 * Run (or re-run) assembly of a package from its source environment. Never
 * throws for a bad selection: the package ends ASSEMBLING_FAILED with the
 * reason (003), which is what the caller reports. Re-assembly bumps the
 * version so plans prepared from the old content are refused at install.
 */
export async function assemble(ctx: EngineContext, pkg: Package, selection: ObjectRef[], onProgress?: ProgressFn): Promise<Package> {
  try {
    onProgress?.({ phase: 'assemble', done: 0, total: selection.length });
    // A package may hold only removals: nothing to assemble then.
    const { entities } =
      selection.length === 0 && pkg.removals.length > 0 ? { entities: [] } : await assemblePackage(sourceReader(ctx, pkg.sourceEnvId), selection, ctx.catalog);
    const order = orderForInstall(entities, ctx.catalog);
    const rows: PackageEntity[] = order.ordered.map((e, ord) => ({
      type: e.type,
      id: e.id,
      name: e.name,
      fields: e.fields,
      hash: contentHash(e.name, e.fields),
      ord,
      via: e.via,
    }));
    const done: Package = {
      ...pkg,
      status: pkg.status === 'ASSEMBLING' || pkg.status === 'ASSEMBLING_FAILED' ? 'DRAFT' : pkg.status,
      version: pkg.entityCount > 0 || pkg.status !== 'ASSEMBLING' ? pkg.version + 1 : pkg.version,
      objectCollections: toCollections(selection),
      entityCount: rows.length,
      countsByType: countByType(rows),
      metadata: { installOrder: order.installOrder, displayOrder: displayOrder(selection), deferredRefs: order.deferredRefs },
      assemblyError: null,
      updatedAt: now(),
    };
    await ctx.store.transaction(async (tx) => {
      await tx.packages.deleteEntities(pkg.id);
      for (let i = 0; i < rows.length; i += ENTITY_BATCH) {
        await breathe();
        await tx.packages.insertEntities(pkg.id, rows.slice(i, i + ENTITY_BATCH));
        onProgress?.({ phase: 'assemble', done: Math.min(i + ENTITY_BATCH, rows.length), total: rows.length });
      }
      await tx.packages.update(done);
    });
    return done;
  } catch (e) {
    const failed: Package = { ...pkg, status: 'ASSEMBLING_FAILED', assemblyError: e instanceof Error ? e.message : String(e), updatedAt: now() };
    await ctx.store.packages.update(failed);
    return failed;
  }
}

/** The source environment as assembly reads it: objects by key and owned children, across its scopes. */
export function sourceReader(ctx: EngineContext, envId: string): SourceReader {
  return {
    getObjects: async (keys) => {
      const out: FerryObject[] = [];
      // No push(...list): a spread of a few hundred thousand objects overflows the stack (1M-object sources).
      for (const [scope, list] of splitByScope(ctx, envId, keys)) for (const o of await ctx.store.objects.getMany(scope, list)) out.push(o);
      return out;
    },
    getChildren: async (ownerIds, types) => {
      const out: FerryObject[] = [];
      for (const [scope, list] of splitByScope(
        ctx,
        envId,
        types.map((type) => ({ type })),
      )) {
        for (const o of await ctx.store.objects.getChildren(
          scope,
          ownerIds,
          list.map((t) => t.type),
        ))
          out.push(o);
      }
      return out;
    },
  };
}

export async function getPackage(ctx: EngineContext, id: string): Promise<Package> {
  const p = await ctx.store.packages.get(id);
  if (!p) throw new NotFoundError('package', id);
  return p;
}

/**
 * Refuse to use a package that holds no assembled content (still
 * ASSEMBLING, or ASSEMBLING_FAILED): `why` ends the message
 * (`package p1 is ASSEMBLING: nothing to export`), or writes it all from the
 * status. 409 PACKAGE_NOT_ASSEMBLED unless `refuse` builds another error
 * (dev2prod: a 400, its document has no 409).
 *
 * @example
 *   assertAssembled(pkg, 'nothing to export');
 *   assertAssembled(pkg, 'there is nothing to export yet', (m) => new ValidationError(m));
 */
export function assertAssembled(
  pkg: Package,
  why: string | ((status: 'ASSEMBLING' | 'ASSEMBLING_FAILED') => string),
  refuse: (message: string) => FerryError = (m) => new ConflictError('PACKAGE_NOT_ASSEMBLED', m),
): void {
  if (pkg.status !== 'ASSEMBLING' && pkg.status !== 'ASSEMBLING_FAILED') return;
  throw refuse(typeof why === 'string' ? `package ${pkg.id} is ${pkg.status}: ${why}` : why(pkg.status));
}

export async function listPackages(ctx: EngineContext, opts: { sourceEnvIds?: string[] } = {}): Promise<Package[]> {
  return ctx.store.packages.list(opts);
}

export async function setPackageStatus(ctx: EngineContext, id: string, status: PackageStatus, actor?: Actor): Promise<Package> {
  const pkg = await getPackage(ctx, id);
  const next = changeStatus(pkg, status, now());
  await ctx.store.transaction(async (tx) => {
    await tx.packages.update(next);
    await audit(tx, actor, 'package.status', pkg.sourceEnvId, id, 'ok', { from: pkg.status, to: status });
  });
  return next;
}

export async function updatePackageDetails(ctx: EngineContext, id: string, patch: { name?: string; description?: string }, actor?: Actor): Promise<Package> {
  const pkg = await getPackage(ctx, id);
  const next: Package = { ...pkg, name: patch.name?.trim() || pkg.name, description: patch.description ?? pkg.description, updatedAt: now() };
  await ctx.store.transaction(async (tx) => {
    await tx.packages.update(next);
    await audit(tx, actor, 'package.update', pkg.sourceEnvId, id, 'ok', { fields: Object.keys(patch) });
  });
  return next;
}

/** Replace the removals (objects to delete in the target); bumps the version. */
export async function setRemovals(ctx: EngineContext, id: string, removals: ObjectRef[], actor?: Actor): Promise<Package> {
  const pkg = await getPackage(ctx, id);
  for (const r of removals) typeSpec(ctx.catalog, r.type);
  const next: Package = { ...pkg, removals, version: pkg.version + 1, updatedAt: now() };
  await ctx.store.transaction(async (tx) => {
    await tx.packages.update(next);
    await audit(tx, actor, 'package.removals', pkg.sourceEnvId, id, 'ok', { count: removals.length });
  });
  return next;
}

/**
 * Replace the package's entities by hand (003 PUT/PATCH `packageEntities`):
 * they are re-ordered for install and the version is bumped, so plans
 * prepared from the old version are refused at install.
 */
export async function replacePackageEntities(ctx: EngineContext, id: string, input: unknown, actor?: Actor): Promise<Package> {
  const pkg = await getPackage(ctx, id);
  if (pkg.status === 'ASSEMBLING') throw new ConflictError('PACKAGE_ASSEMBLING', `package ${id} is still ASSEMBLING`);
  const objects = validateObjects(input, ctx.catalog);
  const order = orderForInstall(objects, ctx.catalog);
  const rows: PackageEntity[] = order.ordered.map((e, ord) => ({ ...e, hash: contentHash(e.name, e.fields), ord, via: null }));
  const next: Package = {
    ...pkg,
    version: pkg.version + 1,
    entityCount: rows.length,
    countsByType: countByType(rows),
    metadata: { ...pkg.metadata, installOrder: order.installOrder, deferredRefs: order.deferredRefs },
    updatedAt: now(),
  };
  await ctx.store.transaction(async (tx) => {
    await tx.packages.deleteEntities(id);
    await tx.packages.insertEntities(id, rows);
    await tx.packages.update(next);
    await audit(tx, actor, 'package.entities', pkg.sourceEnvId, id, 'ok', { count: rows.length });
  });
  return next;
}

/**
 * Delete a package. Its PREPARED installations (plans never installed) go
 * with it: they can only be installed from the package, so kept they would
 * fail later with "package not found". An install still running refuses the
 * delete (409). Installed history (COMPLETED, FAILED, ROLLED_BACK) stays.
 */
export async function deletePackage(ctx: EngineContext, id: string, actor?: Actor): Promise<void> {
  const pkg = await getPackage(ctx, id);
  await ctx.store.transaction(async (tx) => {
    const running = await tx.installations.list({ packageId: id, status: 'INSTALLING' });
    if (running.length > 0) {
      throw new ConflictError('PACKAGE_INSTALLING', `package ${id} is being installed (installation ${running[0]!.id}); delete it when the install has ended`);
    }
    const discarded = await tx.installations.deletePrepared(id);
    await tx.packages.delete(id);
    await audit(tx, actor, 'package.delete', pkg.sourceEnvId, id, 'ok', { discardedPlans: discarded });
  });
}

export async function getPackageEntities(ctx: EngineContext, id: string, opts: { type?: string } = {}): Promise<PackageEntity[]> {
  await getPackage(ctx, id);
  return ctx.store.packages.getEntities(id, opts);
}

export function iteratePackageEntities(ctx: EngineContext, id: string): AsyncGenerator<PackageEntity> {
  return ctx.store.packages.iterateEntities(id);
}

/** Why an entity is in a package: the path of refs from a selected object. */
export async function explain(ctx: EngineContext, packageId: string, type: string, id: string): Promise<string[]> {
  const cache = new Map<string, PackageEntity>();
  const load = async (t: string, i: string) => {
    const k = key(t, i);
    if (!cache.has(k)) {
      const [e] = await ctx.store.packages.getEntitiesByKey(packageId, [{ type: t, id: i }]);
      if (e) cache.set(k, e);
    }
    return cache.get(k);
  };
  let cur = await load(type, id);
  if (!cur) throw new NotFoundError('package entity', `${type}:${id}`);
  // Walk up first (async), then let the pure function render the path.
  for (let depth = 0; cur?.via && depth < 10_000; depth++) cur = await load(cur.via.type, cur.via.id);
  return explainPath(cache.get(key(type, id))!, (t, i) => cache.get(key(t, i)));
}

/** 003 `objectCollections` of a selection, one per type, each id once. */
export function toCollections(selection: readonly ObjectRef[]): ObjectCollection[] {
  const byType = new Map<string, ObjectCollection>();
  // Ids seen per type: a linear scan per id made a selection of 10^4 ids hold the event loop for half a second.
  const seen = new Map<string, Set<string>>();
  for (const s of selection) {
    const c = byType.get(s.type) ?? { objCode: s.type, entities: [] };
    let ids = seen.get(s.type);
    if (!ids) seen.set(s.type, (ids = new Set()));
    if (!ids.has(s.id)) {
      ids.add(s.id);
      c.entities.push(s.name ? { ID: s.id, name: s.name } : { ID: s.id });
    }
    byType.set(s.type, c);
  }
  return [...byType.values()];
}

/** Selection from 003 `objectCollections`. */
export function fromCollections(collections: readonly ObjectCollection[]): ObjectRef[] {
  return collections.flatMap((c) => c.entities.map((e) => ({ type: c.objCode, id: e.ID, ...(e.name ? { name: e.name } : {}) })));
}

function displayOrder(selection: readonly ObjectRef[]): TypeCode[] {
  return [...new Set(selection.map((s) => s.type))];
}

function countByType(rows: readonly { type: TypeCode }[]): Record<TypeCode, number> {
  const out: Record<TypeCode, number> = {};
  for (const r of rows) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}
