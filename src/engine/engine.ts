import { randomBytes, randomUUID } from 'node:crypto';
import { newObjectId } from '../core/ids.js';
import type {
  Action,
  Catalog,
  Decision,
  Environment,
  FerryObject,
  Installation,
  ObjectCollection,
  ObjectRef,
  Package,
  PackageEntity,
  PackageStatus,
  PlanEntry,
  StoredObject,
  Tier,
  TypeCode,
} from '../core/types.js';
import { ACTIONS } from '../core/types.js';
import { KeyMap } from '../core/key-map.js';
import { groupBy } from '../core/group.js';
import { ConflictError, LockedError, NotFoundError, ValidationError } from '../core/errors.js';
import { contentHash, contentHashAndFields } from '../core/hash.js';
import { assemblePackage, explainPath, type SourceReader } from '../core/assemble.js';
import { orderForInstall } from '../core/order.js';
import { externalRefKeys, key, positionsOf, preparePlan, summarizePlan, type MatchPolicy, type Override, type TargetLookup } from '../core/plan.js';
import { InstallPlanner, type InstallEntry, type InstallStep } from '../core/install-plan.js';
import { ENTITY_BATCH, InstallRun } from './install-run.js';
import { changeStatus, installRefusal, pushRefusal, parseTier } from '../core/rules.js';
import { naturalKeyOf, ownerIdOf, refsOf, typeSpec } from '../core/refs.js';
import { childTypesOf } from '../core/catalog.js';
import { Store, SERVER_SCOPE, groupByType, type ObjectRow, type RestorePointRow } from '../store/store.js';
import { ENV_ID, validateObjects } from './validate-input.js';
import { breathe } from './breathe.js';

/** Who asks, for the audit log. */
export interface Actor {
  actor: string | null;
  address?: string | null;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
}
export type ProgressFn = (p: Progress) => void;

export interface EngineOptions {
  store: Store;
  catalog: Catalog;
  /** Public base URL of this server (bundle headers, package `source`). */
  publicUrl: string;
}

export interface PrepareOptions {
  overrides?: Override[];
  policy?: MatchPolicy;
  /** Allow promotion to a lower tier (one-way push). */
  force?: boolean;
  /** Remember IGNORE / chosen-target overrides for later prepares into this target. */
  remember?: boolean;
  userId?: string | null;
  onProgress?: ProgressFn;
}

export interface PreparedPlan {
  installation: Installation;
  entries: PlanEntry[];
  /** Why the install would be refused right now (status gate), or null. */
  installBlocker: string | null;
}

const now = () => new Date().toISOString();
/** The id an entry's object gets if the install creates it: minted for every CREATE when the plan is stored (time-ordered). */
const mintForCreate = (e: PlanEntry): string | null => (e.action === 'CREATE' ? newObjectId() : null);

/**
 * The use cases. The CLI, the native API and every dialect go through here;
 * this is the only layer that talks to both the store and the core.
 */
export class Engine {
  readonly store: Store;
  readonly catalog: Catalog;
  readonly publicUrl: string;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.catalog = options.catalog;
    this.publicUrl = options.publicUrl;
  }

  /** The store environment an object of `type` lives in, seen from environment envId. */
  private scopeOf(envId: string, type: TypeCode): string {
    return typeSpec(this.catalog, type).scope === 'server' ? SERVER_SCOPE : envId;
  }

  private splitByScope<T extends { type: TypeCode }>(envId: string, items: readonly T[]): Map<string, T[]> {
    return groupBy(items, (it) => this.scopeOf(envId, it.type));
  }

  private async audit(
    actor: Actor | undefined,
    action: string,
    envId: string | null,
    subject: string | null,
    result: string,
    detail: Record<string, unknown> = {},
    store: Store = this.store,
  ): Promise<void> {
    await store.audit.append({ actor: actor?.actor ?? null, address: actor?.address ?? null, action, envId, subject, result, detail });
  }

  // ------------------------------------------------------------ environments

  /** Create an environment, optionally as a clone of another (same ids, 002 "start from a clone"). */
  async createEnvironment(
    input: {
      id: string;
      name: string;
      tier: string;
      hosts?: string[];
      cloneFrom?: string | null;
      parameters?: Record<string, string>;
      targetOwned?: Record<string, string[]>;
    },
    actor?: Actor,
  ): Promise<Environment> {
    if (!ENV_ID.test(input.id))
      throw new ValidationError(`bad environment id "${input.id}": letters, digits, _ . - (up to 64), starting with a letter or digit`);
    if (input.id === SERVER_SCOPE) throw new ValidationError('environment id * is reserved');
    if (!input.name?.trim()) throw new ValidationError('an environment needs a name');
    const tier = parseTier(input.tier);
    const ts = now();
    const env: Environment = {
      id: input.id,
      uid: randomBytes(16).toString('hex'),
      name: input.name.trim(),
      tier,
      hosts: (input.hosts ?? []).map((h) => h.toLowerCase()),
      version: 1,
      parameters: input.parameters ?? {},
      targetOwned: input.targetOwned ?? {},
      clonedFrom: input.cloneFrom ?? null,
      createdAt: ts,
      updatedAt: ts,
    };
    await this.store.transaction(async (tx) => {
      if (await tx.environments.get(env.id)) throw new ConflictError('ENVIRONMENT_EXISTS', `environment ${env.id} already exists`);
      const all = await tx.environments.list();
      for (const h of env.hosts) {
        const other = all.find((e) => e.hosts.includes(h));
        if (other) throw new ConflictError('HOST_TAKEN', `host ${h} already selects environment ${other.id}`);
      }
      if (input.cloneFrom) {
        const src = await tx.environments.get(input.cloneFrom);
        if (!src) throw new NotFoundError('environment', input.cloneFrom);
        await tx.environments.create(env);
        await tx.objects.copy(src.id, env.id);
        // Parameters and target-owned fields belong to each environment; a
        // clone starts with the source's as a convenience.
        if (!input.parameters) env.parameters = src.parameters;
        if (!input.targetOwned) env.targetOwned = src.targetOwned;
        await tx.environments.update(env.id, { parameters: env.parameters, targetOwned: env.targetOwned });
      } else {
        await tx.environments.create(env);
      }
      await this.audit(actor, 'environment.create', env.id, env.id, 'ok', { tier, cloneFrom: input.cloneFrom ?? null }, tx);
    });
    return await this.getEnvironment(env.id);
  }

  async getEnvironment(id: string): Promise<Environment & { lockedBy: string | null }> {
    const env = await this.store.environments.get(id);
    if (!env) throw new NotFoundError('environment', id);
    return env;
  }

  async listEnvironments(): Promise<(Environment & { lockedBy: string | null })[]> {
    return this.store.environments.list();
  }

  async updateEnvironment(
    id: string,
    patch: { name?: string; tier?: string; hosts?: string[]; parameters?: Record<string, string>; targetOwned?: Record<string, string[]> },
    actor?: Actor,
  ): Promise<Environment> {
    const env = await this.assertWritable(id);
    const tier: Tier | undefined = patch.tier !== undefined ? parseTier(patch.tier) : undefined;
    await this.store.transaction(async (tx) => {
      await tx.environments.update(env.id, { ...patch, tier });
      await tx.environments.bumpVersion(env.id);
      await this.audit(actor, 'environment.update', env.id, env.id, 'ok', { fields: Object.keys(patch) }, tx);
    });
    return this.getEnvironment(id);
  }

  /** Delete an environment that holds no objects and no installation history. */
  async deleteEnvironment(id: string, actor?: Actor): Promise<void> {
    const env = await this.getEnvironment(id);
    if ((await this.store.objects.count(env.id)) > 0) throw new ConflictError('ENVIRONMENT_NOT_EMPTY', `environment ${id} still holds objects`);
    await this.store.transaction(async (tx) => {
      await tx.environments.delete(id);
      await this.audit(actor, 'environment.delete', id, id, 'ok', {}, tx);
    });
  }

  // ------------------------------------------------------------ objects

  private toRow(envId: string, o: FerryObject): ObjectRow {
    const spec = typeSpec(this.catalog, o.type);
    const { hash, fieldsJson } = contentHashAndFields(o.name, o.fields);
    return {
      envId: this.scopeOf(envId, o.type),
      type: o.type,
      id: o.id,
      name: o.name,
      fields: o.fields,
      fieldsJson,
      hash,
      nkey: naturalKeyOf(spec, o),
      ownerId: ownerIdOf(spec, o),
    };
  }

  /**
   * Every write bumps the version of the environment it went through; a
   * write that touched server-scoped objects (users, groups, roles) changes
   * what every environment sees, so plans prepared against any of them are
   * stale too.
   */
  private async bumpVersions(tx: Store, envId: string, types: Iterable<TypeCode>): Promise<number> {
    const version = await tx.environments.bumpVersion(envId);
    for (const t of new Set(types)) {
      if (this.catalog.types[t]?.scope === 'server') {
        await tx.environments.bumpOtherVersions(envId);
        break;
      }
    }
    return version;
  }

  private async assertWritable(envId: string, holder?: string): Promise<Environment> {
    const env = await this.getEnvironment(envId);
    if (env.lockedBy && env.lockedBy !== holder) throw new LockedError(envId);
    return env;
  }

  /** Upsert objects into an environment (one transaction, one version bump). */
  async loadObjects(envId: string, input: unknown, actor?: Actor): Promise<{ written: number; version: number }> {
    await this.assertWritable(envId);
    const objects = validateObjects(input, this.catalog);
    let version = 0;
    await this.store.transaction(async (tx) => {
      await tx.objects.upsert(objects.map((o) => this.toRow(envId, o)));
      version = await this.bumpVersions(
        tx,
        envId,
        objects.map((o) => o.type),
      );
      await this.audit(actor, 'objects.load', envId, null, 'ok', { count: objects.length }, tx);
    });
    return { written: objects.length, version };
  }

  async listObjects(envId: string, opts: { type?: string; limit?: number; offset?: number } = {}): Promise<{ items: StoredObject[]; total: number }> {
    await this.getEnvironment(envId);
    if (opts.type && !this.catalog.types[opts.type]) throw new ValidationError(`unknown type ${opts.type}`);
    const scopes = opts.type ? [this.scopeOf(envId, opts.type)] : [envId, SERVER_SCOPE];
    return this.store.objects.list(scopes, opts);
  }

  async getObject(envId: string, type: string, id: string): Promise<StoredObject> {
    await this.getEnvironment(envId);
    if (!this.catalog.types[type]) throw new NotFoundError('object', `${type}:${id}`);
    const o = await this.store.objects.get(this.scopeOf(envId, type), type, id);
    if (!o) throw new NotFoundError('object', `${type}:${id}`);
    return o;
  }

  async putObject(envId: string, obj: unknown, actor?: Actor): Promise<StoredObject> {
    const [o] = validateObjects([obj], this.catalog);
    await this.loadObjects(envId, [o], actor);
    return this.getObject(envId, o!.type, o!.id);
  }

  async deleteObject(envId: string, type: string, id: string, actor?: Actor): Promise<void> {
    await this.assertWritable(envId);
    await this.getObject(envId, type, id);
    await this.store.transaction(async (tx) => {
      await tx.objects.delete(this.scopeOf(envId, type), [{ type, id }]);
      await this.bumpVersions(tx, envId, [type]);
      await this.audit(actor, 'objects.delete', envId, `${type}:${id}`, 'ok', {}, tx);
    });
  }

  private sourceReader(envId: string): SourceReader {
    return {
      getObjects: async (keys) => {
        const out: FerryObject[] = [];
        // No push(...list): a spread of a few hundred thousand objects overflows the stack (1M-object sources).
        for (const [scope, list] of this.splitByScope(envId, keys)) for (const o of await this.store.objects.getMany(scope, list)) out.push(o);
        return out;
      },
      getChildren: async (ownerIds, types) => {
        const out: FerryObject[] = [];
        for (const [scope, list] of this.splitByScope(
          envId,
          types.map((type) => ({ type })),
        )) {
          for (const o of await this.store.objects.getChildren(
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

  // ------------------------------------------------------------ packages

  /**
   * Create a package from a selection and assemble it (003 POST /packages):
   * the package exists as ASSEMBLING at once, then becomes DRAFT with its
   * frozen entities, or ASSEMBLING_FAILED with the reason.
   */
  async createPackage(
    input: { sourceEnvId: string; name: string; description?: string; selection: ObjectRef[]; removals?: ObjectRef[]; createdBy?: string | null },
    actor?: Actor,
    onProgress?: ProgressFn,
  ): Promise<Package> {
    const pkg = await this.startPackage(input, actor);
    return this.assemble(pkg, input.selection, onProgress);
  }

  /**
   * The first half of createPackage: record the package as ASSEMBLING and
   * return it, so a server can answer at once and assemble in an operation.
   */
  async startPackage(
    input: { sourceEnvId: string; name: string; description?: string; selection: ObjectRef[]; removals?: ObjectRef[]; createdBy?: string | null },
    actor?: Actor,
  ): Promise<Package> {
    const env = await this.getEnvironment(input.sourceEnvId);
    if (!input.name?.trim()) throw new ValidationError('a package needs a name');
    for (const s of [...input.selection, ...(input.removals ?? [])]) {
      if (!this.catalog.types[s.type]) throw new ValidationError(`unknown type ${s.type} in the selection`);
    }
    const ts = now();
    const pkg: Package = {
      id: randomUUID(),
      name: input.name.trim(),
      description: input.description ?? '',
      sourceEnvId: env.id,
      sourceEnvUid: env.uid,
      sourceUrl: this.publicUrl,
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
    await this.store.packages.create(pkg);
    await this.audit(actor, 'package.create', env.id, pkg.id, 'ok', { name: pkg.name, selected: input.selection.length });
    return pkg;
  }

  /**
   * Run (or re-run) assembly of a package from its source environment. Never
   * throws for a bad selection: the package ends ASSEMBLING_FAILED with the
   * reason (003), which is what the caller reports. Re-assembly bumps the
   * version so plans prepared from the old content are refused at install.
   */
  async assemble(pkg: Package, selection: ObjectRef[], onProgress?: ProgressFn): Promise<Package> {
    try {
      onProgress?.({ phase: 'assemble', done: 0, total: selection.length });
      // A package may hold only removals: nothing to assemble then.
      const { entities } =
        selection.length === 0 && pkg.removals.length > 0
          ? { entities: [] }
          : await assemblePackage(this.sourceReader(pkg.sourceEnvId), selection, this.catalog);
      const order = orderForInstall(entities, this.catalog);
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
      await this.store.transaction(async (tx) => {
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
      await this.store.packages.update(failed);
      return failed;
    }
  }

  async getPackage(id: string): Promise<Package> {
    const p = await this.store.packages.get(id);
    if (!p) throw new NotFoundError('package', id);
    return p;
  }

  async listPackages(opts: { sourceEnvIds?: string[] } = {}): Promise<Package[]> {
    return this.store.packages.list(opts);
  }

  async setPackageStatus(id: string, status: PackageStatus, actor?: Actor): Promise<Package> {
    const pkg = await this.getPackage(id);
    const next = changeStatus(pkg, status, now());
    await this.store.transaction(async (tx) => {
      await tx.packages.update(next);
      await this.audit(actor, 'package.status', pkg.sourceEnvId, id, 'ok', { from: pkg.status, to: status }, tx);
    });
    return next;
  }

  async updatePackageDetails(id: string, patch: { name?: string; description?: string }, actor?: Actor): Promise<Package> {
    const pkg = await this.getPackage(id);
    const next: Package = { ...pkg, name: patch.name?.trim() || pkg.name, description: patch.description ?? pkg.description, updatedAt: now() };
    await this.store.transaction(async (tx) => {
      await tx.packages.update(next);
      await this.audit(actor, 'package.update', pkg.sourceEnvId, id, 'ok', { fields: Object.keys(patch) }, tx);
    });
    return next;
  }

  /** Replace the removals (objects to delete in the target); bumps the version. */
  async setRemovals(id: string, removals: ObjectRef[], actor?: Actor): Promise<Package> {
    const pkg = await this.getPackage(id);
    for (const r of removals) typeSpec(this.catalog, r.type);
    const next: Package = { ...pkg, removals, version: pkg.version + 1, updatedAt: now() };
    await this.store.transaction(async (tx) => {
      await tx.packages.update(next);
      await this.audit(actor, 'package.removals', pkg.sourceEnvId, id, 'ok', { count: removals.length }, tx);
    });
    return next;
  }

  /**
   * Replace the package's entities by hand (003 PUT/PATCH `packageEntities`):
   * they are re-ordered for install and the version is bumped, so plans
   * prepared from the old version are refused at install.
   */
  async replacePackageEntities(id: string, input: unknown, actor?: Actor): Promise<Package> {
    const pkg = await this.getPackage(id);
    if (pkg.status === 'ASSEMBLING') throw new ConflictError('PACKAGE_ASSEMBLING', `package ${id} is still ASSEMBLING`);
    const objects = validateObjects(input, this.catalog);
    const order = orderForInstall(objects, this.catalog);
    const rows: PackageEntity[] = order.ordered.map((e, ord) => ({ ...e, hash: contentHash(e.name, e.fields), ord, via: null }));
    const next: Package = {
      ...pkg,
      version: pkg.version + 1,
      entityCount: rows.length,
      countsByType: countByType(rows),
      metadata: { ...pkg.metadata, installOrder: order.installOrder, deferredRefs: order.deferredRefs },
      updatedAt: now(),
    };
    await this.store.transaction(async (tx) => {
      await tx.packages.deleteEntities(id);
      await tx.packages.insertEntities(id, rows);
      await tx.packages.update(next);
      await this.audit(actor, 'package.entities', pkg.sourceEnvId, id, 'ok', { count: rows.length }, tx);
    });
    return next;
  }

  async deletePackage(id: string, actor?: Actor): Promise<void> {
    const pkg = await this.getPackage(id);
    await this.store.transaction(async (tx) => {
      await tx.packages.delete(id);
      await this.audit(actor, 'package.delete', pkg.sourceEnvId, id, 'ok', {}, tx);
    });
  }

  async getPackageEntities(id: string, opts: { type?: string } = {}): Promise<PackageEntity[]> {
    await this.getPackage(id);
    return this.store.packages.getEntities(id, opts);
  }

  iteratePackageEntities(id: string): AsyncGenerator<PackageEntity> {
    return this.store.packages.iterateEntities(id);
  }

  /** Why an entity is in a package: the path of refs from a selected object. */
  async explain(packageId: string, type: string, id: string): Promise<string[]> {
    const cache = new Map<string, PackageEntity>();
    const load = async (t: string, i: string) => {
      const k = key(t, i);
      if (!cache.has(k)) {
        const [e] = await this.store.packages.getEntitiesByKey(packageId, [{ type: t, id: i }]);
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

  // ------------------------------------------------------------ prepare

  /**
   * Compute the translation map of a package against a target (003
   * prepare-installation): the dry run. Stores it as a PREPARED installation
   * that `install` executes exactly, or refuses if the target moved.
   */
  async prepare(packageId: string, targetEnvId: string, opts: PrepareOptions = {}, actor?: Actor): Promise<PreparedPlan> {
    const { pkg, target, entries, overrides, externals } = await this.computePlan(packageId, targetEnvId, opts);
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
      userId: opts.userId ?? actor?.actor ?? null,
      summary: summarizePlan(entries),
      error: null,
      registeredAt: ts,
      updatedAt: ts,
      installedAt: null,
      rolledBackAt: null,
    };
    await this.store.transaction(async (tx) => {
      await tx.installations.create(installation);
      await tx.installations.setExternals(installation.id, externals);
      await tx.installations.insertEntries(installation.id, entries, mintForCreate);
      if (opts.remember) await this.remember(tx, target.id, pkg.sourceEnvUid, overrides);
      await this.audit(actor, 'plan.prepare', target.id, installation.id, 'ok', { packageId: pkg.id, summary: installation.summary }, tx);
    });
    return { installation, entries, installBlocker: installRefusal(pkg.status, target.tier) };
  }

  /** The plan of a package against a target, computed and not stored. */
  private async computePlan(packageId: string, targetEnvId: string, opts: PrepareOptions) {
    const pkg = await this.getPackage(packageId);
    const target = await this.getEnvironment(targetEnvId);
    if (pkg.status === 'ASSEMBLING' || pkg.status === 'ASSEMBLING_FAILED') {
      throw new ConflictError('PACKAGE_NOT_ASSEMBLED', installRefusal(pkg.status, target.tier)!);
    }
    const push = pushRefusal(pkg.sourceTier, target.tier, !!opts.force);
    if (push) throw new ConflictError('PUSH_ONE_WAY', push);
    const overrides = normalizeOverrides(opts.overrides ?? []);

    const entities: PackageEntity[] = [];
    for await (const page of this.store.packages.pageEntities(pkg.id, 5000, { lean: true })) {
      for (const e of page) entities.push(e);
      opts.onProgress?.({ phase: 'load', done: entities.length, total: pkg.entityCount });
    }
    const decisions = await this.store.decisions.get(target.id, pkg.sourceEnvUid);
    const choices = [...decisions, ...overrides.map((o) => ({ type: o.type, targetId: o.targetId ?? null }))];
    const positions = positionsOf(entities);
    const lookup = await this.buildLookup(target, pkg, entities, positions, choices, opts.onProgress);
    const entries = preparePlan({
      catalog: this.catalog,
      target,
      policy: opts.policy ?? 'default',
      entities,
      removals: pkg.removals,
      lookup,
      decisions,
      overrides,
      positions,
    });
    opts.onProgress?.({ phase: 'prepare', done: entities.length, total: entities.length });
    return { pkg, target, entries, overrides, externals: lookup.externals };
  }

  /**
   * Apply user overrides to a prepared plan and validate it again with the
   * same rules as a fresh prepare (a parent IGNOREd with live children is
   * invalid, and so on). The plan is recomputed against the target as it is
   * now, under the same installation id, so clients keep polling one id.
   */
  async revalidate(installationId: string, overrides: Override[], opts: { remember?: boolean } = {}, actor?: Actor): Promise<PreparedPlan> {
    const inst = await this.getInstallation(installationId);
    if (inst.status !== 'PREPARED') throw new ConflictError('NOT_PREPARED', `installation ${inst.id} is ${inst.status}; only a PREPARED plan can be changed`);
    const previous = await this.store.installations.getEntries(inst.id);
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
    const { pkg, target, entries, externals } = await this.computePlan(inst.packageId, inst.targetEnvId, {
      overrides: [...merged.values()],
      force: inst.force,
    });
    const updated: Installation = {
      ...inst,
      packageVersion: pkg.version,
      preparedAtVersion: target.version,
      summary: summarizePlan(entries),
      updatedAt: now(),
    };
    await this.store.transaction(async (tx) => {
      await tx.installations.replaceEntries(inst.id, entries, mintForCreate);
      await tx.installations.setExternals(inst.id, externals);
      await tx.installations.update(updated);
      if (opts.remember) await this.remember(tx, target.id, pkg.sourceEnvUid, given);
      await this.audit(actor, 'plan.revalidate', target.id, inst.id, 'ok', { overrides: overrides.length, summary: updated.summary }, tx);
    });
    return { installation: updated, entries, installBlocker: installRefusal(pkg.status, target.tier) };
  }

  private async remember(tx: Store, envId: string, sourceUid: string, overrides: Override[]): Promise<void> {
    const keep: Decision[] = overrides
      .filter((o) => o.action === 'IGNORE' || o.targetId)
      .map((o) => ({ sourceUid, type: o.type, sourceId: o.sourceId, action: o.action, targetId: o.targetId ?? null }));
    if (keep.length) await tx.decisions.upsert(envId, keep);
  }

  /** Every target fact the plan needs, in batched queries. */
  private async buildLookup(
    target: Environment,
    pkg: Package,
    entities: readonly PackageEntity[],
    positions: KeyMap<number>,
    choices: readonly { type: TypeCode; targetId: string | null }[],
    onProgress?: ProgressFn,
  ): Promise<TargetLookup> {
    const lookup: TargetLookup = { byId: new Map(), idMap: new Map(), targets: new Map(), byKey: new Map(), externals: new Map() };
    const externals = externalRefKeys(this.catalog, entities, positions);
    // Package entities are matched by joins in the database (they are stored
    // there); removals and external refs, few, by key.
    const others = [...pkg.removals.map((r) => ({ type: r.type, id: r.id })), ...externals];
    const total = entities.length + others.length;

    // Same id in the target (rule 1), for entities, removals and external refs.
    const entityKeys = entities.map((e) => ({ type: e.type, id: e.id }));
    for (const [scope, list] of this.splitByScope(target.id, entityKeys)) {
      for (const o of await this.store.objects.getLikePackage(scope, pkg.id, list)) lookup.byId.set(key(o.type, o.id), o);
    }
    onProgress?.({ phase: 'match', done: entities.length, total });
    for (let i = 0; i < others.length; i += 5000) {
      for (const [k, o] of await this.loadTargets(this.store, target.id, others.slice(i, i + 5000))) lookup.byId.set(k, o);
      onProgress?.({ phase: 'match', done: entities.length + Math.min(i + 5000, others.length), total });
    }

    // ID map (rule 2), and the target objects it points at.
    const rows = [
      ...(await this.store.idMap.getForPackage(target.id, pkg.sourceEnvUid, pkg.id, entityKeys)),
      ...(await this.store.idMap.get(target.id, pkg.sourceEnvUid, others)),
    ];
    for (const r of rows) lookup.idMap.set(key(r.type, r.sourceId), r);
    const targetKeys = [
      ...rows.map((r) => ({ type: r.type, id: r.targetId })),
      ...choices.filter((c) => c.targetId).map((c) => ({ type: c.type, id: c.targetId! })),
    ];
    lookup.targets = await this.loadTargets(this.store, target.id, targetKeys);

    // External refs: the same id in the target, else what the ID map says (if it still exists).
    for (const x of externals) {
      const k = key(x.type, x.id);
      if (lookup.byId.has(k)) lookup.externals.set(k, x.id);
      else {
        const r = lookup.idMap.get(k);
        if (r && lookup.targets.has(key(r.type, r.targetId))) lookup.externals.set(k, r.targetId);
      }
    }

    // Owned children of objects a removal would delete (orphan check).
    const removalTargets: { type: TypeCode; id: string }[] = [];
    for (const r of pkg.removals) {
      const k = key(r.type, r.id);
      const obj = lookup.byId.get(k) ?? (lookup.idMap.get(k) ? lookup.targets.get(key(r.type, lookup.idMap.get(k)!.targetId)) : undefined);
      if (obj) removalTargets.push({ type: obj.type, id: obj.id });
    }
    if (removalTargets.length > 0) {
      const owned = (lookup.ownedChildren = new Map<string, { type: TypeCode; id: string }[]>());
      for (const [scope, list] of this.splitByScope(target.id, removalTargets)) {
        for (const [type, ids] of groupByType(list)) {
          // Children of these types name an owner of `type` in their owner ref.
          const childTypes = childTypesOf(this.catalog, type).map((c) => c.type);
          if (childTypes.length === 0) continue;
          const wanted = new Set(ids);
          for (const kid of await this.store.objects.getChildren(scope, ids, childTypes)) {
            const ownerId = ownerIdOf(typeSpec(this.catalog, kid.type), kid);
            if (ownerId === null || !wanted.has(ownerId)) continue;
            const ok = key(type, ownerId);
            const list = owned.get(ok);
            if (list) list.push({ type: kid.type, id: kid.id });
            else owned.set(ok, [{ type: kid.type, id: kid.id }]);
          }
        }
      }
    }

    // Target objects that point at what a removal deletes through a plain
    // ref (the dangling-ref check). No index holds refs: the types that can
    // point at a removed type are searched for the ids in their fields.
    if (removalTargets.length > 0) {
      const referrers = (lookup.referrers = new Map<string, { type: TypeCode; id: string; field: string }[]>());
      const removed = groupByType(removalTargets);
      const wanted = new Set(removalTargets.map((t) => key(t.type, t.id)));
      for (const spec of Object.values(this.catalog.types)) {
        const ids = new Set<string>();
        for (const ref of Object.values(spec.refs)) if (!ref.owner) for (const id of removed.get(ref.type) ?? []) ids.add(id);
        if (ids.size === 0) continue;
        for (const o of await this.store.objects.findMentioning(this.scopeOf(target.id, spec.code), spec.code, [...ids])) {
          for (const ref of refsOf(spec, o)) {
            const k = key(ref.type, ref.id);
            if (ref.spec.owner || !wanted.has(k)) continue;
            const list = referrers.get(k);
            if (list) list.push({ type: o.type, id: o.id, field: ref.field });
            else referrers.set(k, [{ type: o.type, id: o.id, field: ref.field }]);
          }
        }
      }
    }

    // Natural keys (rule 3), only for entities not matched by id or ID map.
    const byType = new Map<TypeCode, string[]>();
    for (const e of entities) {
      const k = key(e.type, e.id);
      if (lookup.byId.has(k)) continue;
      const r = lookup.idMap.get(k);
      if (r && lookup.targets.has(key(e.type, r.targetId))) continue;
      const nk = naturalKeyOf(typeSpec(this.catalog, e.type), e);
      if (nk === null) continue;
      const list = byType.get(e.type) ?? [];
      list.push(nk);
      byType.set(e.type, list);
    }
    for (const [type, nkeys] of byType) {
      for (const o of await this.store.objects.findByNaturalKey(this.scopeOf(target.id, type), type, [...new Set(nkeys)])) {
        const k = key(type, o.nkey);
        const list = lookup.byKey.get(k) ?? [];
        list.push(o);
        lookup.byKey.set(k, list);
      }
    }
    return lookup;
  }

  // ------------------------------------------------------------ install

  async getInstallation(id: string): Promise<Installation> {
    const i = await this.store.installations.get(id);
    if (!i) throw new NotFoundError('installation', id);
    return i;
  }

  async getEntries(installationId: string): Promise<PlanEntry[]> {
    await this.getInstallation(installationId);
    return this.store.installations.getEntries(installationId);
  }

  async listInstallations(opts: { packageId?: string; targetEnvIds?: string[] } = {}): Promise<Installation[]> {
    return this.store.installations.list(opts);
  }

  /**
   * The exact steps an install of this plan would run (`ferry plan --json`),
   * computed from the current target without writing anything. Objects to
   * create are shown under the ids the install will give them (minted at
   * prepare); `new:<n>` only for a plan prepared before those ids existed.
   */
  async installSteps(installationId: string): Promise<InstallStep[]> {
    const inst = await this.getInstallation(installationId);
    const target = await this.getEnvironment(inst.targetEnvId);
    const entries = await this.store.installations.getInstallEntries(inst.id);
    let n = 0;
    const steps: InstallStep[] = [];
    for await (const page of this.stepPages(this.store, inst, target, entries, (en) => en.newId ?? `new:${++n}`)) for (const s of page) steps.push(s);
    return steps;
  }

  /**
   * An install's steps a page at a time: the removals, each page of entities
   * in install order, then the patches that close reference cycles. Only a
   * page of entities, and the target objects it updates, is held at once.
   */
  private async *stepPages(
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
    const planner = new InstallPlanner({ catalog: this.catalog, target, entries, newId });
    const removed = entries.filter((e) => e.action === 'REMOVE' && e.targetId).map((e) => ({ type: e.type, id: e.targetId! }));
    yield planner.removals(await this.loadTargets(store, target.id, removed));

    // Entries and entities are both in `ord` order: the entries of a page are the next ones up to its last ord.
    let next = 0;
    for await (const page of store.packages.pageEntities(pkg.id, ENTITY_BATCH, { lean: true })) {
      const updated: { type: TypeCode; id: string }[] = [];
      const last = page[page.length - 1]!.ord;
      for (; next < entries.length && entries[next]!.ord <= last; next++) {
        const en = entries[next]!;
        if (en.targetId && (en.action === 'UPDATE' || en.action === 'MERGE')) updated.push({ type: en.type, id: en.targetId });
      }
      const facts = { targets: await this.loadTargets(store, target.id, updated), externals };
      yield page.map((e) => planner.step(e, facts));
    }
    yield planner.patches();
  }

  /** key(type, id) -> the target object, for those of `keys` that exist. */
  private async loadTargets(store: Store, envId: string, keys: readonly { type: TypeCode; id: string }[]): Promise<Map<string, StoredObject>> {
    const out = new Map<string, StoredObject>();
    for (const [scope, list] of this.splitByScope(envId, keys)) {
      for (const o of await store.objects.getMany(scope, list)) out.set(key(o.type, o.id), o);
    }
    return out;
  }

  /**
   * The refusals that do not need the lock: the plan's state, the package
   * status gate, one-way push, a package edited since prepare, invalid
   * entries. `install` checks them first; a server checks them to answer
   * 409 before queueing an install that is bound to fail.
   */
  async checkInstall(installationId: string): Promise<{ installation: Installation; pkg: Package; target: Environment & { lockedBy: string | null } }> {
    const inst = await this.getInstallation(installationId);
    if (inst.status !== 'PREPARED') {
      throw new ConflictError('NOT_PREPARED', `installation ${inst.id} is ${inst.status}; prepare the package again to install it`);
    }
    const pkg = await this.getPackage(inst.packageId);
    const target = await this.getEnvironment(inst.targetEnvId);
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
    if (inst.summary.invalid > 0) {
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
  async install(installationId: string, opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {}, actor?: Actor): Promise<Installation> {
    const { installation: inst, pkg, target } = await this.checkInstall(installationId);
    if (!(await this.store.environments.lock(target.id, inst.id))) throw new LockedError(target.id);
    let active: InstallRun | undefined;
    try {
      const result = await this.store.transaction(async (tx) => {
        await tx.environments.lockRow(target.id);
        const current = (await tx.environments.get(target.id))!;
        if (current.version !== inst.preparedAtVersion) {
          throw new ConflictError(
            'STALE_PLAN',
            `target ${target.id} changed since the plan was prepared (version ${inst.preparedAtVersion} -> ${current.version}); prepare again`,
          );
        }
        const entries = await tx.installations.getInstallEntries(inst.id);
        const run = (active = new InstallRun({
          tx,
          envId: target.id,
          installation: inst,
          toRow: (o) => this.toRow(target.id, o),
          scopeOf: (type) => this.scopeOf(target.id, type),
          total: entries.length,
          onProgress: opts.onProgress,
          signal: opts.signal,
        }));
        const newId = (en: InstallEntry) => {
          if (!en.newId) throw new ConflictError('STALE_PLAN', `installation ${inst.id} was prepared by an earlier version of Ferry; prepare again`);
          return en.newId;
        };
        for await (const steps of this.stepPages(tx, inst, current, entries, newId)) await run.run(steps);
        await run.finish();
        // Every entry has the outcome of its action (OUTCOMES, read so by
        // Store.getEntries once the installation is COMPLETED); only removals
        // whose target was already gone differ, and are written.
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
        await this.bumpVersions(tx, target.id, run.writtenTypes);
        const ts = now();
        const done: Installation = { ...inst, status: 'COMPLETED', installedAt: ts, updatedAt: ts };
        await tx.installations.update(done);
        await this.audit(actor, 'install', target.id, inst.id, 'ok', { packageId: pkg.id, summary: inst.summary }, tx);
        return done;
      });
      return result;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // The transaction is gone; record the failure on its own so the user sees it.
      if (!(e instanceof ConflictError && e.code === 'STALE_PLAN')) {
        await this.store.transaction(async (tx) => {
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
          await this.audit(actor, 'install', target.id, inst.id, 'failed', { error: message }, tx);
        });
      }
      throw e;
    } finally {
      await this.store.environments.unlock(target.id, inst.id);
    }
  }

  // ------------------------------------------------------------ rollback

  /**
   * Undo a completed installation from its restore point, in one
   * transaction. Refused (409) when any object it touched has changed since,
   * so a rollback never throws away later work.
   */
  async rollback(installationId: string, actor?: Actor): Promise<Installation> {
    const inst = await this.getInstallation(installationId);
    if (inst.status !== 'COMPLETED')
      throw new ConflictError('NOT_COMPLETED', `installation ${inst.id} is ${inst.status}; only a COMPLETED installation can be rolled back`);
    const target = await this.getEnvironment(inst.targetEnvId);
    if (!(await this.store.environments.lock(target.id, inst.id))) throw new LockedError(target.id);
    try {
      return await this.store.transaction(async (tx) => {
        await tx.environments.lockRow(target.id);
        const points = await tx.restorePoints.get(inst.id);
        const changed: string[] = [];
        // Only hashes are compared: read without the objects' fields.
        const current = new Map<string, string>();
        for (const [scope, list] of groupBy(points, (p) => p.envId)) {
          for (const o of await tx.objects.getHashes(
            scope,
            list.map((p) => ({ type: p.type, id: p.targetId })),
          ))
            current.set(`${scope}\u0000${key(o.type, o.id)}`, o.hash);
        }
        for (const p of points) {
          const now = current.get(`${p.envId}\u0000${key(p.type, p.targetId)}`);
          const ok = p.afterHash === null ? now === undefined : now === p.afterHash;
          if (!ok) changed.push(`${p.type}:${p.targetId}`);
        }
        if (changed.length > 0) {
          throw new ConflictError(
            'CHANGED_SINCE_INSTALL',
            `cannot roll back installation ${inst.id}: ${changed.length} object${changed.length > 1 ? 's' : ''} changed since it ran (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''})`,
          );
        }
        // Walk back: the earliest point of an object holds what was there before the install.
        const first = new Map<string, RestorePointRow>();
        for (const p of points) {
          const k = `${p.envId}\u0000${key(p.type, p.targetId)}`;
          if (!first.has(k)) first.set(k, p);
        }
        const created = [...first.values()].filter((p) => p.before === null);
        const restores = [...first.values()].filter((p) => p.before !== null).map((p): ObjectRow => ({ ...this.toRow(target.id, p.before!), envId: p.envId }));
        for (const [scope, list] of groupBy(created, (p) => p.envId))
          await tx.objects.delete(
            scope,
            list.map((p) => ({ type: p.type, id: p.targetId })),
          );
        await tx.objects.upsert(restores);

        // The ID map: rows that point at objects the rollback deleted go; rows
        // for restored objects keep their mapping with the restored hash.
        const mine = await tx.idMap.getForInstallation(target.id, inst.id);
        const deleted = new Set(created.map((p) => key(p.type, p.targetId)));
        const restoredHash = new Map(restores.map((r) => [key(r.type, r.id), r.hash]));
        const drop = mine.filter((r) => deleted.has(key(r.type, r.targetId)));
        const keep = mine.filter((r) => !deleted.has(key(r.type, r.targetId)) && restoredHash.has(key(r.type, r.targetId)));
        await tx.idMap.delete(
          target.id,
          inst.sourceEnvUid,
          drop.map((r) => ({ type: r.type, id: r.sourceId })),
        );
        await tx.idMap.upsert(
          target.id,
          inst.id,
          keep.map((r) => ({ ...r, hash: restoredHash.get(key(r.type, r.targetId))! })),
        );

        await this.bumpVersions(
          tx,
          target.id,
          points.map((p) => p.type),
        );
        const ts = new Date().toISOString();
        const done: Installation = { ...inst, status: 'ROLLED_BACK', rolledBackAt: ts, updatedAt: ts };
        await tx.installations.update(done);
        await this.audit(actor, 'rollback', target.id, inst.id, 'ok', { restored: restores.length, deleted: deleted.size }, tx);
        return done;
      });
    } finally {
      await this.store.environments.unlock(target.id, inst.id);
    }
  }

  /** Installations into an environment, newest first. */
  async history(envId: string): Promise<Installation[]> {
    await this.getEnvironment(envId);
    return (await this.store.installations.list({ targetEnvIds: [envId] })).reverse();
  }
}

function toCollections(selection: readonly ObjectRef[]): ObjectCollection[] {
  const byType = new Map<string, ObjectCollection>();
  for (const s of selection) {
    const c = byType.get(s.type) ?? { objCode: s.type, entities: [] };
    if (!c.entities.some((e) => e.ID === s.id)) c.entities.push(s.name ? { ID: s.id, name: s.name } : { ID: s.id });
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

function normalizeOverrides(overrides: readonly Override[]): Override[] {
  return overrides.map((o) => {
    const action = String(o.action).toUpperCase() as Action;
    if (!ACTIONS.includes(action) || action === 'REMOVE') {
      throw new ValidationError(`bad action "${o.action}" for ${o.type}:${o.sourceId} (one of CREATE, UPDATE, USEEXISTING, MERGE, IGNORE)`);
    }
    return { type: o.type.toUpperCase(), sourceId: o.sourceId, action, targetId: o.targetId ?? null };
  });
}
