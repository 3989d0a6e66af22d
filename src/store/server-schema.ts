import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * Tables the server adds (migration `0002_server`): users and their roles,
 * API keys, login sessions, operations and the file store's index. Same
 * portability rules as schema.ts: JSON as TEXT, booleans as INTEGER 0/1,
 * timestamps as ISO-8601 TEXT, so every query reads the same on both dialects.
 */
export interface UsersTable {
  id: string;
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64url), null for a user that logs in with API keys only. */
  password_hash: string | null;
  /** Server-wide admin: every role on every environment, user management. */
  admin: number;
  created_at: string;
  updated_at: string;
}

export interface UserRolesTable {
  user_id: string;
  env_id: string;
  /** `admin`, `promoter` or `viewer`. */
  role: string;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  /** First characters of the key, to recognise it in a list without storing it. */
  prefix: string;
  /** SHA-256 of the whole key (hex). */
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface SessionsTable {
  /** SHA-256 of the session token (hex): a leaked database does not leak live sessions. */
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface OperationsTable {
  id: string;
  kind: string;
  status: string;
  progress: number;
  message: string;
  /** Environment the operation acts on: visibility follows it. */
  env_id: string | null;
  /** What it acts on (a package or installation id). */
  subject: string | null;
  params: string;
  result: string | null;
  /** `{code, message}` JSON when FAILED or CANCELLED. */
  error: string | null;
  created_by: string | null;
  address: string | null;
  /** Host name of the server process that runs (or ran) it. */
  server: string | null;
  /** `host:pid:instance` of the worker that claimed it (crash recovery). */
  worker: string | null;
  attempts: number;
  cancel_requested: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  heartbeat_at: string | null;
}

export interface FilesTable {
  id: string;
  name: string;
  /** `bundle` (export result or upload). */
  kind: string;
  bytes: number;
  sha256: string;
  /** Environment whose users may read it (the export's source), null for an upload. */
  env_id: string | null;
  package_id: string | null;
  created_by: string | null;
  created_at: string;
  /** When the file store's sweep removes it (migration 0004), null: kept until deleted. */
  expires_at: string | null;
}

/** A file's bytes in the database (migration 0008; PostgreSQL without FERRY_FILES_DIR): `seq` 0, 1, ... in order. */
export interface FileChunksTable {
  file_id: string;
  seq: number;
  data: Buffer;
}

/** Failed logins of one user name or address within a window (migration 0008), shared by every server process. */
export interface LoginFailuresTable {
  /** `user:<name>` or `address:<ip>`. */
  key: string;
  count: number;
  /** When the window ends, epoch milliseconds. */
  expires_at: number;
}

export interface ServerDatabase extends Database {
  users: UsersTable;
  user_roles: UserRolesTable;
  api_keys: ApiKeysTable;
  sessions: SessionsTable;
  operations: OperationsTable;
  files: FilesTable;
  file_chunks: FileChunksTable;
  login_failures: LoginFailuresTable;
}

/**
 * The store's Kysely handle typed with the server tables. Store is typed with
 * the core tables only (its repositories never touch these), and migrations
 * create both sets at start, so the widening is safe.
 */
export function serverDb(store: Store): Kysely<ServerDatabase> | Transaction<ServerDatabase> {
  return store.db as unknown as Kysely<ServerDatabase> | Transaction<ServerDatabase>;
}

/**
 * The same tables for reading: inside a transaction that transaction, else
 * the store's read connection, so auth checks and status polls are answered
 * while an install holds SQLite's writer connection.
 */
export function serverReadDb(store: Store): Kysely<ServerDatabase> | Transaction<ServerDatabase> {
  return store.readDb as unknown as Kysely<ServerDatabase> | Transaction<ServerDatabase>;
}
