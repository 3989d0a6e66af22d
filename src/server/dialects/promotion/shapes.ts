/**
 * Ferry's packages and installations in the shapes, names and status words
 * of 003 (and its later revision, where it adds to them). Pure: the views
 * (views.ts) load what these need.
 */
import type { Action, Catalog, Installation, InstallationStatus, Package, PackageEntity, PlanEntry } from '../../../core/types.js';

/**
 * 003's word for each installation state. A prepared plan reads PREPARING,
 * as 003's pre-run answer shows it with its translation map complete; it
 * reads INSTALLING while an install of it is queued or running.
 */
export function installationStatusWord(status: InstallationStatus, installing: boolean): string {
  if (status === 'PREPARED') return installing ? 'INSTALLING' : 'PREPARING';
  return status;
}

/**
 * Ferry's action as a client reads it. UPDATE is OVERWRITING (the later
 * revision's word for "the target record is replaced") on a plan prepared
 * the 003 way, where only a client that knows that word can have set it;
 * on a plan prepared with `allowUpdate`, it is UPDATE.
 */
export function actionWord(action: Action, inst: Pick<Installation, 'keepExisting'>): string {
  return action === 'UPDATE' && inst.keepExisting ? 'OVERWRITING' : action;
}

/** A client's action word (either revision) -> Ferry's action. */
export const ACTION_WORDS: Readonly<Record<string, Action>> = {
  CREATE: 'CREATE',
  USEEXISTING: 'USEEXISTING',
  IGNORE: 'IGNORE',
  OVERWRITING: 'UPDATE',
  UPDATE: 'UPDATE',
  MERGE: 'MERGE',
};

/** One record of a translation map. */
export interface MapEntry {
  name: string;
  action: string;
  isValid: boolean;
  /** The target record: found (USEEXISTING, ...) or, once installed, created. */
  targetId?: string;
  /** After an install: INSTALLED, REGISTERED, UPDATED, SKIPPED, REMOVED or FAILED. */
  installationStatus?: string;
  /** Why an entry is invalid, why it failed, or a note (an optional ref that will be cleared). */
  reason?: string;
}

/** objCode -> source id -> record (003 `translationMap`). */
export type TranslationMap = Record<string, Record<string, MapEntry>>;

/**
 * The translation map of an installation. Before an install it is the plan;
 * after one each record has its `installationStatus`. An install is one
 * transaction: when it fails, nothing was written, so every record reads
 * FAILED, the one that failed with its own reason and the others saying so.
 */
export function translationMap(inst: Installation, entries: readonly PlanEntry[]): TranslationMap {
  const map: TranslationMap = {};
  const ran = inst.status === 'COMPLETED' || inst.status === 'FAILED' || inst.status === 'ROLLED_BACK';
  const culprit = inst.status === 'FAILED' ? entries.find((e) => e.installationStatus === 'FAILED') : undefined;
  const notInstalled = culprit
    ? `not installed: the installation failed at ${culprit.type}:${culprit.sourceId} and wrote nothing`
    : `not installed: the installation failed and wrote nothing${inst.error ? ` (${inst.error})` : ''}`;
  for (const e of entries) {
    const out: MapEntry = { name: e.name, action: actionWord(e.action, inst), isValid: e.isValid };
    if (e.targetId) out.targetId = e.targetId;
    let reason = e.reason;
    if (ran) {
      if (inst.status === 'FAILED' && e.installationStatus !== 'FAILED') {
        out.installationStatus = 'FAILED';
        reason = notInstalled;
      } else {
        out.installationStatus = e.installationStatus;
        reason = e.statusReason ?? reason;
      }
    }
    if (reason) out.reason = reason;
    (map[e.type] ??= {})[e.sourceId] = out;
  }
  return map;
}

/** An entity as 003's definition shows it: `id`, `name`, then its fields. */
export function definitionEntity(e: Pick<PackageEntity, 'id' | 'name' | 'fields'>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: e.id, name: e.name };
  Object.assign(out, e.fields);
  // A field may not shadow the identity.
  out.id = e.id;
  out.name = e.name;
  return out;
}

/** 003 `packageEntities`: the definition by objCode, in install order. */
export function packageEntitiesOf(entities: Iterable<PackageEntity>): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const e of entities) (out[e.type] ??= []).push(definitionEntity(e));
  return out;
}

export interface DisplayEntity {
  id: string;
  name: string;
  description: string | null;
}

/**
 * 003 `displayEntities`: the package's objects of promotable types (the left
 * column of 003's tables: groups, roles, templates, dashboards...) by
 * objCode, the selected types first. Sub-objects (template tasks,
 * assignments...) are in the definition only, as in 003's example, where a
 * package of PROJ, TMPL and PTLTAB displays GROUP and ROLE but no TTSK.
 */
export function displayEntitiesOf(catalog: Catalog, pkg: Pick<Package, 'metadata'>, entities: Iterable<PackageEntity>): Record<string, DisplayEntity[]> {
  const out: Record<string, DisplayEntity[]> = {};
  for (const type of pkg.metadata.displayOrder) if (catalog.types[type]?.promotable) out[type] = [];
  for (const e of entities) {
    if (!catalog.types[e.type]?.promotable) continue;
    const d = e.fields.description;
    (out[e.type] ??= []).push({ id: e.id, name: e.name, description: typeof d === 'string' ? d : null });
  }
  for (const [type, list] of Object.entries(out)) if (list.length === 0) delete out[type];
  return out;
}

/** What a package response adds to the package: where it comes from and who installed it where. */
export interface PackageFacts {
  /** The source environment as a URL. */
  source: string;
  installationCounts: Record<string, number>;
}

/**
 * A package as 003 shows it (`data` of every package answer). Besides 003's
 * fields: `retiredAt` (003 says DISABLED sets it), `source` (an editable
 * attribute, so a client can send back what it read), `updatedAt`, and
 * `reason` on an ASSEMBLING_FAILED package. `createdById` and `customerId`
 * are Ferry's: the user's name, and the uid of the source environment
 * (Workfront's customer id is per environment too).
 */
export function packageData(pkg: Package, facts: PackageFacts): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: pkg.id,
    name: pkg.name,
    description: pkg.description,
    status: pkg.status,
    version: pkg.version,
    installationCounts: facts.installationCounts,
    createdAt: pkg.createdAt,
    createdById: pkg.createdBy,
    publishedAt: pkg.publishedAt,
    customerId: pkg.sourceEnvUid,
    retiredAt: pkg.retiredAt,
    updatedAt: pkg.updatedAt,
    source: facts.source,
  };
  if (pkg.status === 'ASSEMBLING_FAILED') out.reason = pkg.assemblyError ?? 'assembly failed';
  return out;
}

/** What an installation response adds to the installation. */
export interface InstallationFacts {
  status: string;
  /** The target environment: a host name in the pre-run answer, a URL elsewhere (as 003's examples show). */
  environment: string;
  /** The target environment's uid (the installation's customer). */
  customerId: string;
}

/**
 * An installation as 003 shows it, but its `translationMap` (see jsonWith).
 * The pre-run answer lists the package fields first, the others `id` first,
 * as in 003's examples. `reason` says why a FAILED installation failed.
 */
export function installationData(inst: Installation, facts: InstallationFacts, form: 'pre-run' | 'record'): Record<string, unknown> {
  const head =
    form === 'pre-run'
      ? { environmentPromotionPackageId: inst.packageId, environmentPromotionPackageVersion: inst.packageVersion, id: inst.id }
      : { id: inst.id, environmentPromotionPackageId: inst.packageId, environmentPromotionPackageVersion: inst.packageVersion };
  const out: Record<string, unknown> = {
    ...head,
    userId: inst.userId,
    customerId: facts.customerId,
    status: facts.status,
    environment: facts.environment,
    registeredAt: inst.registeredAt,
    updatedAt: inst.updatedAt,
  };
  if (inst.status === 'FAILED' && inst.error) out.reason = inst.error;
  return out;
}

/**
 * `value` as JSON text with one more member at the end whose value is JSON
 * text already. The big parts of the status answers (a translation map, the
 * displayed entities) are kept serialized between polls: they change only
 * with the row they belong to, and serializing them is most of an answer's
 * cost.
 *
 * @example jsonWith({ id: 'i1' }, 'translationMap', '{}') // '{"id":"i1","translationMap":{}}'
 */
export function jsonWith(value: Record<string, unknown>, key: string, json: string): string {
  const head = JSON.stringify(value);
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}${JSON.stringify(key)}:${json}}`;
}

/**
 * Per status word, how many installations of the package the caller can
 * see (003 shows `installationCounts` only empty; these are its counts).
 */
export function countInstallations(installations: Iterable<Pick<Installation, 'status'>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of installations) {
    const w = installationStatusWord(i.status, false);
    out[w] = (out[w] ?? 0) + 1;
  }
  return out;
}
