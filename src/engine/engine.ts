import type { Catalog, Environment, Installation, ObjectRef, Package, PackageEntity, PackageStatus, PlanEntry, StoredObject } from '../core/types.js';
import { NotFoundError } from '../core/errors.js';
import { withTypeTable } from '../core/type-table.js';
import type { Override } from '../core/plan.js';
import type { InstallStep } from '../core/install-plan.js';
import type { Store, StoredEnvironment } from '../store/store.js';
import type { Actor, EngineContext, ProgressFn } from './context.js';
import * as environments from './environments.js';
import * as objects from './objects.js';
import * as packages from './packages.js';
import * as plans from './plans.js';
import * as installs from './installs.js';
import * as history from './history.js';
import * as locks from './locks.js';
import type { Offload } from './offload.js';
import { runVerb, type OffloadIo, type OffloadVerb, type VerbArgs, type VerbResult } from './offload-verbs.js';
import { loadSigningKey, type ServerSigningKey } from './signing-key.js';

export type { Actor, EngineContext, Progress, ProgressFn } from './context.js';
export type { EnvironmentInput, EnvironmentPatch } from './environments.js';
export type { PackageInput } from './packages.js';
export type { LockView } from './locks.js';
export type { PrepareOptions, PreparedPlan } from './plans.js';
export type { ServerSigningKey } from './signing-key.js';
export { fromCollections, toCollections } from './packages.js';

export interface EngineOptions {
  store: Store;
  catalog: Catalog;
  /** Public base URL of this server (bundle headers, package `source`). */
  publicUrl: string;
  /**
   * Run the long use cases (offload-verbs.ts: assembly, prepare, install,
   * rollback, bundle import, export and verify, sync, clone, project
   * duplication) in a worker thread (offload.ts says why): a server does;
   * the CLI and tests in process run them here.
   */
  offload?: Offload;
}

/**
 * The use cases. The CLI, the native API and every dialect go through here;
 * this is the only layer that talks to both the store and the core.
 *
 * A thin facade: each method is the verb of the same name in the module of
 * its noun (environments, objects, packages, plans, installs, rollback,
 * history under src/engine/), documented there, called with this engine as
 * its context.
 */
export class Engine implements EngineContext {
  readonly store: Store;
  readonly catalog: Catalog;
  readonly publicUrl: string;
  /** Where the long use cases run, when not in this thread. */
  readonly offload: Offload | undefined;

  constructor(options: EngineOptions) {
    this.store = options.store;
    // A catalog that crossed into a worker thread lost its prototype-free type table.
    this.catalog = withTypeTable(options.catalog);
    this.publicUrl = options.publicUrl;
    this.offload = options.offload;
  }

  /**
   * Run one of the long use cases of offload-verbs.ts: in the offload
   * thread when this engine has one, else here. Every face reaches them
   * through this one path.
   *
   * @example
   * const r = await engine.run('exportPackage', { onProgress }, pkg.id, { file: tmp }, actor);
   */
  run<V extends OffloadVerb>(verb: V, io: OffloadIo, ...args: VerbArgs<V>): Promise<VerbResult<V>> {
    if (!this.offload) return runVerb(this, verb, io, args);
    // The thread wrote through a connection of its own: what this process keeps of recent reads is stale.
    return this.offload.run<VerbResult<V>>(verb, args, io).finally(() => this.store.changedElsewhere());
  }

  // ------------------------------------------------------------ environments

  /** A clone (`cloneFrom`) copies its source in one transaction: a long use case. */
  createEnvironment(input: environments.EnvironmentInput, actor?: Actor, onProgress?: ProgressFn): Promise<Environment> {
    if (input.cloneFrom) return this.run('createEnvironment', { onProgress }, input, actor);
    return environments.createEnvironment(this, input, actor, onProgress);
  }

  getEnvironment(id: string): Promise<StoredEnvironment> {
    return environments.getEnvironment(this, id);
  }

  listEnvironments(): Promise<StoredEnvironment[]> {
    return environments.listEnvironments(this);
  }

  /**
   * The environments as read at most 250 ms ago, frozen, for status reads
   * (which environment a Host names, hosts, the install lock): a change made
   * through this process shows at once, one made by another process sharing
   * the database within the 250 ms. Never the basis of a write.
   */
  recentEnvironments(): Promise<readonly Readonly<StoredEnvironment>[]> {
    return this.store.environments.listRecent();
  }

  /** One environment of recentEnvironments; 404 when there is none. */
  async recentEnvironment(id: string): Promise<Readonly<StoredEnvironment>> {
    const env = (await this.recentEnvironments()).find((e) => e.id === id);
    if (!env) throw new NotFoundError('environment', id);
    return env;
  }

  updateEnvironment(id: string, patch: environments.EnvironmentPatch, actor?: Actor): Promise<Environment> {
    return environments.updateEnvironment(this, id, patch, actor);
  }

  deleteEnvironment(id: string, actor?: Actor): Promise<void> {
    return environments.deleteEnvironment(this, id, actor);
  }

  /** The environment's install lock: who holds it, and whether its holder is gone (locks.ts). */
  async getLock(envId: string): Promise<locks.LockView> {
    const env = await environments.getEnvironment(this, envId);
    return locks.getLock(this, env.id);
  }

  /** Break the environment's install lock: a stale one, or a live one with `force` (audited). */
  async breakLock(envId: string, opts: { force?: boolean } = {}, actor?: Actor): Promise<locks.LockView> {
    const env = await environments.getEnvironment(this, envId);
    return locks.breakLock(this, env.id, opts, actor);
  }

  // ------------------------------------------------------------ objects

  loadObjects(envId: string, input: unknown, actor?: Actor): Promise<{ written: number; version: number }> {
    return objects.loadObjects(this, envId, input, actor);
  }

  listObjects(envId: string, opts?: { type?: string; limit?: number; offset?: number }): Promise<{ items: StoredObject[]; total: number }> {
    return objects.listObjects(this, envId, opts);
  }

  getObject(envId: string, type: string, id: string): Promise<StoredObject> {
    return objects.getObject(this, envId, type, id);
  }

  putObject(envId: string, obj: unknown, actor?: Actor): Promise<StoredObject> {
    return objects.putObject(this, envId, obj, actor);
  }

  deleteObject(envId: string, type: string, id: string, actor?: Actor): Promise<void> {
    return objects.deleteObject(this, envId, type, id, actor);
  }

  // ------------------------------------------------------------ packages

  createPackage(input: packages.PackageInput, actor?: Actor, onProgress?: ProgressFn): Promise<Package> {
    return packages.createPackage(this, input, actor, onProgress);
  }

  startPackage(input: packages.PackageInput, actor?: Actor): Promise<Package> {
    return packages.startPackage(this, input, actor);
  }

  assemble(pkg: Package, selection: ObjectRef[], onProgress?: ProgressFn): Promise<Package> {
    return this.run('assemble', { onProgress }, pkg, selection);
  }

  getPackage(id: string): Promise<Package> {
    return packages.getPackage(this, id);
  }

  listPackages(opts?: { sourceEnvIds?: string[] }): Promise<Package[]> {
    return packages.listPackages(this, opts);
  }

  setPackageStatus(id: string, status: PackageStatus, actor?: Actor): Promise<Package> {
    return packages.setPackageStatus(this, id, status, actor);
  }

  updatePackageDetails(id: string, patch: { name?: string; description?: string }, actor?: Actor): Promise<Package> {
    return packages.updatePackageDetails(this, id, patch, actor);
  }

  setRemovals(id: string, removals: ObjectRef[], actor?: Actor): Promise<Package> {
    return packages.setRemovals(this, id, removals, actor);
  }

  replacePackageEntities(id: string, input: unknown, actor?: Actor): Promise<Package> {
    return packages.replacePackageEntities(this, id, input, actor);
  }

  deletePackage(id: string, actor?: Actor): Promise<void> {
    return packages.deletePackage(this, id, actor);
  }

  getPackageEntities(id: string, opts?: { type?: string }): Promise<PackageEntity[]> {
    return packages.getPackageEntities(this, id, opts);
  }

  iteratePackageEntities(id: string): AsyncGenerator<PackageEntity> {
    return packages.iteratePackageEntities(this, id);
  }

  explain(packageId: string, type: string, id: string): Promise<string[]> {
    return packages.explain(this, packageId, type, id);
  }

  // ------------------------------------------------------------ plans

  prepare(packageId: string, targetEnvId: string, opts?: plans.PrepareOptions, actor?: Actor): Promise<plans.PreparedPlan> {
    const { onProgress, ...rest } = opts ?? {};
    return this.run('prepare', { onProgress }, packageId, targetEnvId, rest, actor);
  }

  revalidate(installationId: string, overrides: Override[], opts?: { remember?: boolean }, actor?: Actor): Promise<plans.PreparedPlan> {
    return this.run('revalidate', {}, installationId, overrides, opts, actor);
  }

  // ------------------------------------------------------------ installs

  installSteps(installationId: string): Promise<InstallStep[]> {
    return installs.installSteps(this, installationId);
  }

  checkInstall(installationId: string, opts?: { allowInvalid?: boolean }): Promise<{ installation: Installation; pkg: Package; target: StoredEnvironment }> {
    return installs.checkInstall(this, installationId, opts);
  }

  install(installationId: string, opts?: { onProgress?: ProgressFn; signal?: AbortSignal }, actor?: Actor): Promise<Installation> {
    return this.run('install', opts ?? {}, installationId, actor);
  }

  rollback(installationId: string, actor?: Actor): Promise<Installation> {
    return this.run('rollback', {}, installationId, actor);
  }

  // ------------------------------------------------------------ history

  getInstallation(id: string): Promise<Installation> {
    return history.getInstallation(this, id);
  }

  getEntries(installationId: string): Promise<PlanEntry[]> {
    return history.getEntries(this, installationId);
  }

  /** Entries per per-object status; in the offload thread, as reading every entry of a big install takes a while. */
  entryStatusCounts(installationId: string): Promise<Record<string, number>> {
    return this.run('entryStatusCounts', {}, installationId);
  }

  listInstallations(opts?: { packageId?: string; targetEnvIds?: string[] }): Promise<Installation[]> {
    return history.listInstallations(this, opts);
  }

  history(envId: string): Promise<Installation[]> {
    return history.history(this, envId);
  }

  // ------------------------------------------------------------ signing

  #signingKey: Promise<ServerSigningKey> | undefined;

  /** The server's bundle signing key, read (or made, on a new database) once per process. */
  signingKey(): Promise<ServerSigningKey> {
    this.#signingKey ??= loadSigningKey(this.store).catch((e: unknown) => {
      this.#signingKey = undefined;
      throw e;
    });
    return this.#signingKey;
  }
}
