/**
 * The vocabulary of Ferry (see shared/DESIGN.md "Vocabulary"). Everything in
 * src/core is pure: these are plain data shapes, no IO.
 */

/** A type code from the catalog, e.g. `TMPL`, `GROUP`, `USER`. */
export type TypeCode = string;

export const TIERS = ['development', 'testing', 'preview', 'production'] as const;
export type Tier = (typeof TIERS)[number];

/** One reference field of a type. */
export interface RefSpec {
  /** The type (or types) the field points at. */
  type: TypeCode;
  /** A required ref that resolves to nothing makes the referrer invalid. */
  required?: boolean;
  /** The field holds an array of ids instead of one id. */
  many?: boolean;
  /**
   * The field points at the object that owns this one (a template task's
   * `templateID`). Owned children are pulled into a package with their owner
   * and are invalid when their owner is IGNOREd. At most one owner ref a type.
   */
  owner?: boolean;
}

export interface NaturalKey {
  /** Fields that identify an object across environments; `name` is the top-level name. */
  fields: string[];
  /** Unique keys match one object; a non-unique key that matches several is ambiguous. */
  unique: boolean;
}

/** What happens when the matched target object differs (004 conflict rules). */
export type ConflictRule = 'use-existing' | 'replace' | 'merge';

export interface TypeSpec {
  code: TypeCode;
  label: string;
  /** Grouping for statistics (dev2prod `PackageName`), e.g. `workflow`. */
  part: string;
  /** Plain (non-ref) fields a well-formed object usually has; informative. */
  fields: string[];
  refs: Record<string, RefSpec>;
  /** Types pulled into a package when an object of this type is selected (003 tables). */
  includes: TypeCode[];
  naturalKey?: NaturalKey;
  /** Numeric code used by the duplication dialect (004), e.g. 34 for users. */
  typeNumber?: number;
  scope: 'environment' | 'server';
  /** Conflict rule when content differs; default `replace`. */
  conflictRule: ConflictRule;
  /** Fields an UPDATE never overwrites: they belong to the target (secrets, URLs). */
  targetOwned?: string[];
  /** For `merge`: array fields whose values are unioned (memberships, privileges). */
  mergeFields?: string[];
  /** Selectable on its own (a "promotable object" of 003) or only as a sub-object. */
  promotable: boolean;
  /** How objects of this type travel in a sync pack (002); absent: in an array named after the code. */
  pack?: PackSpec;
}

/** Where a type travels in a sync pack (002 `projects/sync/export`), see src/core/sync-pack.ts. */
export interface PackSpec {
  /** The pack array, e.g. `dataSources`. */
  array: string;
  /**
   * Where a pack object without a `name` keeps its name: a field, or a dotted
   * path into one (a user's `username`, a connector setting's
   * `metadata.description`; `id` for objects that have none).
   */
  name?: string;
}

export interface Catalog {
  version: string;
  types: Record<TypeCode, TypeSpec>;
}

/** A configuration object as stored in one environment. */
export interface FerryObject {
  type: TypeCode;
  id: string;
  name: string;
  fields: Record<string, unknown>;
}

export interface StoredObject extends FerryObject {
  hash: string;
  updatedAt: string;
}

export interface Environment {
  id: string;
  uid: string;
  name: string;
  tier: Tier;
  hosts: string[];
  version: number;
  /** Values substituted for `${name}` in installed fields. */
  parameters: Record<string, string>;
  /** Per-type fields this environment owns (never overwritten by UPDATE). */
  targetOwned: Record<TypeCode, string[]>;
  clonedFrom: string | null;
  createdAt: string;
  updatedAt: string;
  /**
   * Fingerprints (`SHA256:...`) of the keys whose signed bundles an import
   * into this environment accepts; empty (or absent, when an environment is
   * created): any intact bundle, signed or not.
   */
  trustedSigningKeys?: string[];
}

export const PACKAGE_STATUSES = ['ASSEMBLING', 'DRAFT', 'TESTING', 'ACTIVE', 'DISABLED', 'ASSEMBLING_FAILED'] as const;
export type PackageStatus = (typeof PACKAGE_STATUSES)[number];

export interface ObjectRef {
  type: TypeCode;
  id: string;
  name?: string;
}

/** 003 `objectCollections`. */
export interface ObjectCollection {
  objCode: TypeCode;
  entities: { ID: string; name?: string }[];
}

/** Why an entity is in a package: the hop that pulled it in (null: selected). */
export interface Via {
  type: TypeCode;
  id: string;
  field: string;
  /** `ref`: the parent's field points at this entity; `child`: this entity's owner field points at the parent. */
  kind: 'ref' | 'child';
}

export interface PackageEntity extends FerryObject {
  hash: string;
  /** Position in install order. */
  ord: number;
  via: Via | null;
}

export interface PackageMetadata {
  installOrder: TypeCode[];
  displayOrder: TypeCode[];
  /** Refs that close a cycle: created empty, then patched (two-phase install). */
  deferredRefs: number;
}

export interface Package {
  id: string;
  name: string;
  description: string;
  sourceEnvId: string;
  sourceEnvUid: string;
  sourceUrl: string;
  /** Tier of the source environment when assembled (one-way push rule). */
  sourceTier: Tier;
  status: PackageStatus;
  version: number;
  objectCollections: ObjectCollection[];
  removals: ObjectRef[];
  metadata: PackageMetadata;
  entityCount: number;
  countsByType: Record<TypeCode, number>;
  assemblyError: string | null;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  retiredAt: string | null;
  createdBy: string | null;
}

export type Action = 'CREATE' | 'UPDATE' | 'USEEXISTING' | 'MERGE' | 'IGNORE' | 'REMOVE';
export const ACTIONS: readonly Action[] = ['CREATE', 'UPDATE', 'USEEXISTING', 'MERGE', 'IGNORE', 'REMOVE'];

/** How the target object was found; `user`: chosen by a user override or a remembered decision. */
export type MatchKind = 'id' | 'idmap' | 'naturalKey' | 'user' | 'none';

export type EntryStatus = 'PENDING' | 'INSTALLED' | 'UPDATED' | 'REGISTERED' | 'SKIPPED' | 'REMOVED' | 'FAILED';

/** One line of the translation map (003 `translationMap[type][id]`). */
export interface PlanEntry {
  type: TypeCode;
  sourceId: string;
  name: string;
  action: Action;
  /** What prepare chose before any user override. */
  autoAction: Action;
  isValid: boolean;
  reason: string | null;
  targetId: string | null;
  match: MatchKind;
  /** Target object edited since Ferry last installed it. */
  drift: boolean;
  /** Fields an UPDATE/MERGE would change (`name` included), for the readable diff. */
  changes: string[];
  ord: number;
  installationStatus: EntryStatus;
  statusReason: string | null;
}

export type InstallationStatus = 'PREPARED' | 'INSTALLING' | 'COMPLETED' | 'FAILED' | 'ROLLED_BACK';

/**
 * How a package entity finds its counterpart in the target.
 * `default`: id, then ID map, then natural key (DESIGN "Prepare").
 * `id+name`: the sync dialect's strict rule (002): only an object with the
 * same id AND the same name matches; same id with another name is a conflict.
 */
export type MatchPolicy = 'default' | 'id+name';

export interface Installation {
  id: string;
  packageId: string;
  packageVersion: number;
  targetEnvId: string;
  sourceEnvUid: string;
  status: InstallationStatus;
  /** Target environment version the plan was computed at. */
  preparedAtVersion: number;
  force: boolean;
  /** The rules the plan was prepared with; a re-validation judges it by the same ones. */
  policy: MatchPolicy;
  /** Matched objects are kept as they are (USEEXISTING) unless a user sets UPDATE (003: no automatic update). */
  keepExisting: boolean;
  userId: string | null;
  summary: PlanSummary;
  error: string | null;
  registeredAt: string;
  updatedAt: string;
  installedAt: string | null;
  rolledBackAt: string | null;
}

export interface PlanSummary {
  create: number;
  update: number;
  useExisting: number;
  merge: number;
  ignore: number;
  remove: number;
  invalid: number;
  drift: number;
}

/** ID map row: what a source object became in one target environment. */
export interface IdMapEntry {
  sourceUid: string;
  type: TypeCode;
  sourceId: string;
  targetId: string;
  /** Target content hash right after the install that wrote this row. */
  hash: string;
}

/** A remembered user decision for later prepares into the same target. */
export interface Decision {
  sourceUid: string;
  type: TypeCode;
  sourceId: string;
  action: Action;
  targetId: string | null;
}
