import type { Generated } from 'kysely';

/**
 * The database shape, shared by SQLite and PostgreSQL. Portability rules:
 * JSON is stored as TEXT (parsed in the repository), booleans as INTEGER 0/1,
 * timestamps as ISO-8601 TEXT. That keeps every query identical on both
 * dialects; nothing queries inside JSON.
 */
export interface EnvironmentsTable {
  id: string;
  uid: string;
  name: string;
  tier: string;
  hosts: string;
  version: number;
  parameters: string;
  target_owned: string;
  cloned_from: string | null;
  created_at: string;
  updated_at: string;
  /** JSON array of key fingerprints whose bundles this environment accepts; null: any bundle (0009). */
  trusted_signing_keys: string | null;
}

/** Keys of the server itself (0009): the bundle signing key, shared by every process on the database. */
export interface ServerKeysTable {
  name: string;
  algorithm: string;
  /** Raw public key, base64. */
  public_key: string;
  /** PKCS#8 DER, base64. */
  private_key: string;
  created_at: string;
}

export interface ObjectsTable {
  /** Environment id, or SERVER_SCOPE for server-scoped types. */
  env_id: string;
  type: string;
  id: string;
  name: string;
  fields: string;
  hash: string;
  /** Natural key value (see core/natural-key.ts), indexed for matching. */
  nkey: string | null;
  /** Id of the owning object, indexed so assembly can find owned children. */
  owner_id: string | null;
  updated_at: string;
}

export interface PackagesTable {
  id: string;
  name: string;
  description: string;
  source_env_id: string;
  source_env_uid: string;
  source_url: string;
  source_tier: string;
  status: string;
  version: number;
  object_collections: string;
  removals: string;
  metadata: string;
  entity_count: number;
  counts_by_type: string;
  assembly_error: string | null;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  retired_at: string | null;
  created_by: string | null;
}

export interface PackageEntitiesTable {
  package_id: string;
  type: string;
  id: string;
  name: string;
  fields: string;
  hash: string;
  ord: number;
  via: string | null;
}

export interface InstallationsTable {
  id: string;
  package_id: string;
  package_version: number;
  target_env_id: string;
  source_env_uid: string;
  status: string;
  prepared_at_version: number;
  force: number;
  user_id: string | null;
  summary: string;
  error: string | null;
  registered_at: string;
  updated_at: string;
  installed_at: string | null;
  rolled_back_at: string | null;
  /**
   * JSON [[key(type, sourceId), targetId], ...]: what the plan's refs to
   * objects outside the package resolved to at prepare; the install uses
   * them as they are (the target has not moved). Written apart from the
   * rest of the row (InstallationsRepository.setExternals).
   */
  externals?: string | null;
  /** JSON {policy, keepExisting}: the rules the plan was prepared with (null: the defaults, plans before 0004). */
  plan_rules?: string | null;
}

export interface InstallationEntriesTable {
  installation_id: string;
  type: string;
  source_id: string;
  name: string;
  action: string;
  auto_action: string;
  is_valid: number;
  reason: string | null;
  target_id: string | null;
  match: string;
  drift: number;
  changes: string;
  ord: number;
  /**
   * PENDING until the install ends. A completed install writes only the
   * outcomes that differ from its action's (core/rules.ts OUTCOMES); the
   * others stay PENDING and are read as that outcome (InstallationsRepository.getEntries).
   */
  installation_status: string;
  status_reason: string | null;
  /** For a CREATE: the id the object will get, minted when the plan is prepared. */
  new_id: string | null;
}

export interface IdMapTable {
  env_id: string;
  source_uid: string;
  type: string;
  source_id: string;
  target_id: string;
  hash: string;
  installation_id: string;
}

export interface RestorePointsTable {
  installation_id: string;
  /** Environment the object lives in (target env, or SERVER_SCOPE). */
  env_id: string;
  type: string;
  target_id: string;
  /** Prior object JSON, null when the install created it. */
  before: string | null;
  /** Hash right after the install, null when the install removed it. */
  after_hash: string | null;
  seq: number;
}

/** Restore points of one installation, a few thousand per row (JSON array of RestorePointRow), in order. */
export interface RestoreChunksTable {
  installation_id: string;
  seq: number;
  points: string;
}

export interface DecisionsTable {
  env_id: string;
  source_uid: string;
  type: string;
  source_id: string;
  action: string;
  target_id: string | null;
  updated_at: string;
}

export interface AuditTable {
  seq: Generated<number>;
  at: string;
  actor: string | null;
  address: string | null;
  action: string;
  env_id: string | null;
  subject: string | null;
  result: string;
  detail: string;
}

/**
 * The install lock of an environment (0007_lock_owner): at most one row per
 * environment, held by an installation (its install or its rollback) and
 * owned by one process, which refreshes `heartbeat_at` while it works. Kept
 * apart from `environments` so the heartbeat never waits on the row lock an
 * install's transaction holds there (PostgreSQL `FOR UPDATE`). See
 * engine/locks.ts for when a lock is stale.
 */
export interface EnvironmentLocksTable {
  env_id: string;
  /** Installation holding the lock. */
  holder: string;
  /** `install` or `rollback`. */
  purpose: string;
  /** Host name of the owning process. */
  owner_host: string;
  owner_pid: number;
  /** Random id of the owning process instance (a pid reused after a restart is another instance). */
  owner_instance: string;
  /** When the owning process started, as the kernel counts it (/proc/<pid>/stat), null where unknown: tells a reused pid apart. */
  owner_started: string | null;
  acquired_at: string;
  heartbeat_at: string;
}

export interface Database {
  environments: EnvironmentsTable;
  environment_locks: EnvironmentLocksTable;
  objects: ObjectsTable;
  packages: PackagesTable;
  package_entities: PackageEntitiesTable;
  installations: InstallationsTable;
  installation_entries: InstallationEntriesTable;
  id_map: IdMapTable;
  /** Restore points as installs before 0003 wrote them, one row each; read by rollback, no longer written. */
  restore_points: RestorePointsTable;
  restore_chunks: RestoreChunksTable;
  decisions: DecisionsTable;
  audit: AuditTable;
  server_keys: ServerKeysTable;
}

/** Pseudo environment id under which server-scoped objects (users, groups, roles) live. */
export const SERVER_SCOPE = '*';
