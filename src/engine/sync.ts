/**
 * Environment sync (002): export a sync pack, import one with strict
 * matching and drift, sync one environment into another. Every face goes
 * through here: the sync dialect (the product's Admin API), the native API
 * (`POST /api/v1/environments/{source}/sync/{target}`) and `ferry sync`.
 *
 * An import is a package and an installation like any other (history,
 * rollback, audit), prepared with the strict `id+name` policy: an object is
 * updated only when its id and its name both match in the destination; what
 * conflicts, and what was edited downstream since the last sync (drift), is
 * IGNOREd and reported, the rest installed in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Environment, FerryObject, Installation, ObjectRef, Package, PackageEntity, PlanEntry, Tier, TypeCode } from '../core/types.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { assemblePackage } from '../core/assemble.js';
import { orderForInstall } from '../core/order.js';
import { key, type Override } from '../core/plan.js';
import { pushRefusal } from '../core/rules.js';
import { contentHashAndFields } from '../core/hash.js';
import { buildPack, packArrayOf, SYNC_SOURCE_UID, type PackSource } from '../core/sync-pack.js';
import { SERVER_SCOPE } from '../store/store.js';
import { ForbiddenError } from './auth.js';
import { validateObjects } from './validate-input.js';
import type { Actor, Engine, ProgressFn } from './engine.js';
import { audit } from './context.js';
import { sourceReader } from './packages.js';

export { SYNC_SOURCE_UID };

/** What happened (or, in a dry run, would happen) to one object of a sync. */
export type SyncResultWord = 'created' | 'updated' | 'unchanged' | 'conflict' | 'drift';

export interface SyncResult {
  type: TypeCode;
  id: string;
  name: string;
  result: SyncResultWord;
  reason: string | null;
}

export interface SyncOutcome {
  dryRun: boolean;
  /** The installation that holds the plan (PREPARED in a dry run) or the install (COMPLETED); null when there was nothing to sync. */
  installation: Installation | null;
  packageId: string | null;
  summary: Record<SyncResultWord, number>;
  /** One per object, in the order the objects came. */
  results: SyncResult[];
}

export interface SyncOptions {
  dryRun?: boolean;
  /** Overwrite copies edited in the destination since the last sync (drift). */
  overwriteDrift?: boolean;
  /** Push to a lower tier anyway (one-way push); needs `mayForce`. */
  force?: boolean;
  /** The caller may force a push downwards: an admin on the destination (the CLI, local, may). */
  mayForce?: boolean;
  onProgress?: ProgressFn;
}

/** Where the objects come from, when known: its tier decides one-way push. */
export interface SyncOrigin {
  envId: string | null;
  name: string;
  tier: Tier;
}

const BATCH = 2000;

// ------------------------------------------------------------------ export

export interface ExportRequest {
  /** Objects to export, with what they need (the catalog's `includes`). */
  selection: ObjectRef[];
  /** Pack arrays left empty (an export option set to false). */
  omitArrays?: ReadonlySet<string>;
  /** Pack arrays whose objects travel only when selected, not when pulled in by a ref (project fragments). */
  selectedOnly?: ReadonlySet<string>;
  /** Fields left out, per pack array (connection strings, default data). */
  omitFields?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The sync pack of a selection: the selected objects and what they need, in
 * the arrays of the pack, with `source` naming the environment (its tier
 * decides one-way push at import). Nothing is written but the audit line.
 */
export async function exportPack(engine: Engine, envId: string, req: ExportRequest, actor?: Actor): Promise<Record<string, unknown>> {
  const env = await engine.getEnvironment(envId);
  const { entities } = req.selection.length > 0 ? await assemblePackage(sourceReader(engine, env.id), req.selection, engine.catalog) : { entities: [] };
  const objects: FerryObject[] = [];
  for (const e of entities) {
    const array = packArrayOf(engine.catalog.types[e.type]!);
    if (req.omitArrays?.has(array) || (req.selectedOnly?.has(array) && e.via !== null)) continue;
    const drop = req.omitFields?.[array];
    const fields = drop?.length ? Object.fromEntries(Object.entries(e.fields).filter(([f]) => !drop.includes(f))) : e.fields;
    objects.push({ type: e.type, id: e.id, name: e.name, fields });
  }
  const source: PackSource = { environment: env.id, uid: env.uid, name: env.name, tier: env.tier, server: engine.publicUrl };
  await audit(engine.store, actor, 'sync.export', env.id, null, 'ok', { selected: req.selection.length, objects: objects.length });
  return buildPack(engine.catalog, objects, source);
}

/**
 * The objects of an environment with these ids, of any type or of the given
 * ones (002's `{"ids": [...]}`); an id held by objects of several types (a
 * project and its published project) selects them all.
 */
export async function findByIds(
  engine: Engine,
  envId: string,
  ids: readonly string[],
  types?: readonly TypeCode[],
): Promise<{ found: ObjectRef[]; missing: string[] }> {
  await engine.getEnvironment(envId);
  const unique = [...new Set(ids)];
  const found: ObjectRef[] = [];
  const hit = new Set<string>();
  for (const spec of Object.values(engine.catalog.types)) {
    if (types && !types.includes(spec.code)) continue;
    const scope = spec.scope === 'server' ? SERVER_SCOPE : envId;
    for (let i = 0; i < unique.length; i += BATCH) {
      const keys = unique.slice(i, i + BATCH).map((id) => ({ type: spec.code, id }));
      for (const o of await engine.store.objects.getMany(scope, keys)) {
        found.push({ type: o.type, id: o.id });
        hit.add(o.id);
      }
    }
  }
  return { found, missing: unique.filter((id) => !hit.has(id)) };
}

/** Every object of these types in an environment (an export option asking for all users, all roles...; a whole-environment sync). */
export async function allOfTypes(engine: Engine, envId: string, types: readonly TypeCode[]): Promise<FerryObject[]> {
  const out: FerryObject[] = [];
  for (const type of types) {
    for (let offset = 0; ; offset += BATCH) {
      const page = await engine.listObjects(envId, { type, limit: BATCH, offset });
      for (const o of page.items) out.push({ type: o.type, id: o.id, name: o.name, fields: o.fields });
      if (page.items.length < BATCH) break;
    }
  }
  return out;
}

// ------------------------------------------------------------------ import

/**
 * Where a pack came from, for one-way push: an environment of this server
 * (found by its uid) with its tier as it is now, else what the pack says. A
 * pack that says nothing (written by hand, or by the product) has no origin.
 */
export async function originOfPack(engine: Engine, source: PackSource | null): Promise<SyncOrigin | null> {
  if (!source) return null;
  const local = source.uid ? (await engine.listEnvironments()).find((e) => e.uid === source.uid) : undefined;
  if (local) return { envId: local.id, name: local.name, tier: local.tier };
  // A pack from elsewhere that does not say its tier has nothing to compare.
  if (!source.tier) return null;
  return { envId: null, name: source.name || source.environment || 'the pack', tier: source.tier };
}

/**
 * Import objects into a destination (a pack's, or a source environment's):
 * one-way push first, then a package, a strict plan, and unless `dryRun`
 * one install transaction. Conflicts and drift are IGNOREd and reported;
 * objects that depend on a conflicting one that is not written are
 * reported as conflicts too.
 */
export async function importObjects(
  engine: Engine,
  targetEnvId: string,
  objects: readonly FerryObject[],
  origin: SyncOrigin | null,
  opts: SyncOptions = {},
  actor?: Actor,
): Promise<SyncOutcome> {
  const target = await engine.getEnvironment(targetEnvId);
  const valid = validateObjects(objects, engine.catalog);
  checkPush(origin, target, opts);
  if (valid.length === 0) {
    return {
      dryRun: !!opts.dryRun,
      installation: null,
      packageId: null,
      summary: { created: 0, updated: 0, unchanged: 0, conflict: 0, drift: 0 },
      results: [],
    };
  }
  const pkg = await storeSyncPackage(engine, target, valid, origin, actor);

  // The package's source uid (SYNC_SOURCE_UID) makes the engine match it strictly (id+name) and keep its ids.
  let plan = await engine.prepare(pkg.id, target.id, { force: opts.force, onProgress: opts.onProgress }, actor);
  // Why each IGNOREd entry is left alone, as it stood when it was set aside.
  const setAside = new Map<string, { result: 'conflict' | 'drift'; reason: string }>();
  for (;;) {
    const more = setAsideNow(plan.entries, setAside, !!opts.overwriteDrift);
    if (more === 0) break;
    const overrides: Override[] = [...setAside.keys()].map((k) => {
      const [type, sourceId] = k.split('\u0000') as [string, string];
      return { type, sourceId, action: 'IGNORE' };
    });
    plan = await engine.revalidate(plan.installation.id, overrides, {}, actor);
  }
  if (plan.installation.summary.invalid > 0) {
    // Every invalid entry was set aside above; one still invalid is a plan rule this loop does not know.
    const bad = plan.entries.find((e) => !e.isValid)!;
    throw new ConflictError('PLAN_INVALID', `${bad.type}:${bad.sourceId} cannot be synced: ${bad.reason ?? 'invalid'}`);
  }

  let installation = plan.installation;
  let entries = plan.entries;
  if (!opts.dryRun) {
    installation = await engine.install(installation.id, { onProgress: opts.onProgress }, actor);
    entries = await engine.getEntries(installation.id);
  }
  const results = resultsOf(valid, entries, setAside, !!opts.overwriteDrift);
  const summary: Record<SyncResultWord, number> = { created: 0, updated: 0, unchanged: 0, conflict: 0, drift: 0 };
  for (const r of results) summary[r.result]++;
  return { dryRun: !!opts.dryRun, installation, packageId: pkg.id, summary, results };
}

/**
 * Sync a source environment into a destination on the same server (`ferry
 * sync`): the whole environment, or a selection with what it needs.
 */
export async function syncEnvironments(
  engine: Engine,
  sourceEnvId: string,
  targetEnvId: string,
  selection: readonly ObjectRef[],
  opts: SyncOptions = {},
  actor?: Actor,
): Promise<SyncOutcome> {
  const source = await engine.getEnvironment(sourceEnvId);
  const target = await engine.getEnvironment(targetEnvId);
  if (source.id === target.id) throw new ValidationError('source and destination are the same environment');
  checkPush({ envId: source.id, name: source.name, tier: source.tier }, target, opts);
  let objects: FerryObject[];
  if (selection.length > 0) {
    const { entities } = await assemblePackage(sourceReader(engine, source.id), selection, engine.catalog);
    objects = entities.map(({ type, id, name, fields }) => ({ type, id, name, fields }));
  } else {
    // The whole environment: server-scoped objects are shared by both sides and never differ.
    const types = Object.values(engine.catalog.types)
      .filter((t) => t.scope !== 'server')
      .map((t) => t.code);
    objects = await allOfTypes(engine, source.id, types);
  }
  return importObjects(engine, target.id, objects, { envId: source.id, name: source.name, tier: source.tier }, opts, actor);
}

/** One-way push (002): lower to higher only, unless an admin forces it. */
function checkPush(origin: SyncOrigin | null, target: Environment, opts: SyncOptions): void {
  if (!origin || !pushRefusal(origin.tier, target.tier, false)) return;
  const what = `${origin.envId ? `environment ${origin.envId}` : `"${origin.name}"`} is ${origin.tier} and ${target.id} is ${target.tier}`;
  if (!opts.force) {
    throw new ConflictError('PUSH_ONE_WAY', `push one-way: ${what}, a lower tier; sync from lower tiers to higher ones (an admin may force it)`);
  }
  if (!opts.mayForce) throw new ForbiddenError(`forcing a sync down from ${origin.tier} to ${target.tier} needs the admin role on ${target.id}`);
}

/** The sync's package: the objects as given, in install order, ACTIVE (a sync goes anywhere one-way push allows). */
async function storeSyncPackage(
  engine: Engine,
  target: Environment,
  objects: readonly FerryObject[],
  origin: SyncOrigin | null,
  actor?: Actor,
): Promise<Package> {
  const order = orderForInstall(objects, engine.catalog);
  const ts = new Date().toISOString();
  const countsByType: Record<TypeCode, number> = {};
  for (const o of objects) countsByType[o.type] = (countsByType[o.type] ?? 0) + 1;
  const pkg: Package = {
    id: randomUUID(),
    name: `sync ${origin?.envId ?? origin?.name ?? 'pack'} -> ${target.id}`,
    description: `${objects.length} objects synced into ${target.id}`,
    // A pack from elsewhere has no environment here: the package then belongs to the destination.
    sourceEnvId: origin?.envId ?? target.id,
    sourceEnvUid: SYNC_SOURCE_UID,
    sourceUrl: engine.publicUrl,
    sourceTier: origin?.tier ?? target.tier,
    status: 'ACTIVE',
    version: 1,
    objectCollections: [],
    removals: [],
    metadata: { installOrder: order.installOrder, displayOrder: [...new Set(objects.map((o) => o.type))], deferredRefs: order.deferredRefs },
    entityCount: objects.length,
    countsByType,
    assemblyError: null,
    createdAt: ts,
    updatedAt: ts,
    publishedAt: ts,
    retiredAt: null,
    createdBy: actor?.actor ?? null,
  };
  await engine.store.transaction(async (tx) => {
    await tx.packages.create(pkg);
    for (let i = 0; i < order.ordered.length; i += BATCH) {
      const rows = order.ordered.slice(i, i + BATCH).map((o, j): PackageEntity & { fieldsJson: string } => {
        const { hash, fieldsJson } = contentHashAndFields(o.name, o.fields);
        return { type: o.type, id: o.id, name: o.name, fields: o.fields, hash, fieldsJson, ord: i + j, via: null };
      });
      await tx.packages.insertEntities(pkg.id, rows);
    }
    await audit(tx, actor, 'sync.package', target.id, pkg.id, 'ok', { objects: objects.length, source: origin?.envId ?? origin?.name ?? null });
  });
  return pkg;
}

/**
 * Set aside (IGNORE) what the plan may not write: invalid entries (a
 * conflict, or a need of one) and, unless told to overwrite, drifted
 * updates. Returns how many were added.
 */
function setAsideNow(entries: readonly PlanEntry[], setAside: Map<string, { result: 'conflict' | 'drift'; reason: string }>, overwriteDrift: boolean): number {
  let added = 0;
  for (const en of entries) {
    if (en.action === 'REMOVE') continue;
    const k = key(en.type, en.sourceId);
    if (setAside.has(k)) continue;
    if (!en.isValid) {
      // The plan words a matching conflict "conflict: ..."; the result already says it.
      setAside.set(k, { result: 'conflict', reason: (en.reason ?? 'cannot be written').replace(/^conflict: /, '') });
      added++;
    } else if (en.drift && !overwriteDrift && (en.action === 'UPDATE' || en.action === 'MERGE')) {
      setAside.set(k, {
        result: 'drift',
        reason: `edited in the destination since the last sync (changed: ${en.changes.join(', ') || 'content'}); left as it is, pass overwriteDrift to overwrite it`,
      });
      added++;
    }
  }
  return added;
}

function resultsOf(
  objects: readonly FerryObject[],
  entries: readonly PlanEntry[],
  setAside: ReadonlyMap<string, { result: 'conflict' | 'drift'; reason: string }>,
  overwriteDrift: boolean,
): SyncResult[] {
  const byKey = new Map(entries.filter((e) => e.action !== 'REMOVE').map((e) => [key(e.type, e.sourceId), e]));
  return objects.map((o) => {
    const k = key(o.type, o.id);
    const en = byKey.get(k);
    const aside = setAside.get(k);
    if (aside) return { type: o.type, id: o.id, name: o.name, result: aside.result, reason: aside.reason };
    const result: SyncResultWord = en?.action === 'CREATE' ? 'created' : en?.action === 'UPDATE' || en?.action === 'MERGE' ? 'updated' : 'unchanged';
    const overwrote = result === 'updated' && en?.drift && overwriteDrift ? 'overwrote changes made in the destination since the last sync' : null;
    const reason = [overwrote, en?.reason].filter(Boolean).join('; ') || null;
    return { type: o.type, id: o.id, name: o.name, result, reason };
  });
}
