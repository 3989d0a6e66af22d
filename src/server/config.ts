import { join } from 'node:path';
import { ValidationError } from '../core/errors.js';
import { configFromEnv, type FerryConfig } from '../engine/open.js';
import { isPostgresUrl } from '../store/dialect.js';
import { bossSchemaFor } from '../ops/pgboss-runner.js';

/** How long the file store keeps a bundle when nothing says otherwise (FERRY_FILE_RETENTION): 7 days. */
export const DEFAULT_FILE_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** Everything the server reads from its environment, with the defaults a new user gets. */
export interface ServerConfig extends FerryConfig {
  /** FERRY_HOST, default 127.0.0.1 (not exposed to the network until asked). */
  host: string;
  /** FERRY_PORT, default 8080; 0 picks a free port (the listening URL is logged). */
  port: number;
  /** Bundles live here: FERRY_FILES_DIR, default <FERRY_DATA_DIR>/files (on PostgreSQL without FERRY_FILES_DIR: only their temporary copies). */
  filesDir: string;
  /** Bundles live in the database: on PostgreSQL unless FERRY_FILES_DIR names a directory the processes share. */
  filesInDatabase: boolean;
  /** Seed the demo environments on a fresh data directory unless FERRY_DEMO=0. */
  demo: boolean;
  /** FERRY_PUBLIC_URL (or --public-url) was given, not defaulted. */
  publicUrlSet: boolean;
  /** FERRY_ADMIN_API_KEY: the first admin's key, used at first start only. */
  adminApiKey?: string;
  /** FERRY_ADMIN_PASSWORD: optional password of the first admin (login with `admin`). */
  adminPassword?: string;
  /** JSON and NDJSON request bodies (FERRY_BODY_LIMIT bytes, default 32 MiB). */
  bodyLimit: number;
  /** Bundle uploads (FERRY_UPLOAD_LIMIT bytes, default 1 GiB). */
  uploadLimit: number;
  /** Bundles in the file store are removed this long after they were written (FERRY_FILE_RETENTION seconds, default 7 days; 0 keeps them). */
  fileRetentionMs: number;
  /** The name this process's operations record as the server that ran them (FERRY_SERVER_NAME; default the host name). */
  serverName?: string;
  /** Login sessions expire after this (FERRY_SESSION_TTL seconds, default 8 hours). */
  sessionTtlMs: number;
  /** Operations this process runs at once (FERRY_WORKERS, default 2; 0 = API only). */
  workers: number;
  /** On PostgreSQL, operations are delivered by pg-boss in this schema (`<FERRY_DATABASE_SCHEMA>_pgboss`, or `ferry_pgboss`). */
  pgBoss?: { connectionString: string; schema: string };
  /** A running operation whose process has not beaten for this long is taken as dead (FERRY_OPERATION_STALE seconds, default 30). */
  operationStaleMs: number;
  /** How long a stopping server lets running operations finish (FERRY_SHUTDOWN_GRACE seconds, default 20). */
  shutdownGraceMs: number;
  /** pino level (FERRY_LOG_LEVEL, default info). */
  logLevel: string;
  /** Failed logins per user name and per address in a window before 429 (FERRY_LOGIN_RATE, default 10; 0 = no limit). */
  loginRate: number;
  /** That window (FERRY_LOGIN_WINDOW seconds, default 60). */
  loginWindowMs: number;
}

function intFrom(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ValidationError(`${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

/**
 * Read the server configuration from environment variables, with flags (from
 * `ferry serve`) taking precedence. A bad value stops the start with a
 * message naming the variable, not a stack trace later.
 */
export function serverConfigFromEnv(flags: Partial<ServerConfig> = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const port = flags.port ?? intFrom(env.FERRY_PORT, 'FERRY_PORT', 8080);
  if (port > 65535) throw new ValidationError(`FERRY_PORT must be at most 65535, got ${port}`);
  // An empty FERRY_PUBLIC_URL counts as unset (as the other variables do); any other value must be an http(s) URL.
  const publicUrl = flags.publicUrl ?? (env.FERRY_PUBLIC_URL || undefined);
  if (publicUrl !== undefined && !(URL.canParse(publicUrl) && /^https?:$/.test(new URL(publicUrl).protocol)))
    throw new ValidationError(`FERRY_PUBLIC_URL must be an http:// or https:// URL, got "${publicUrl}"`);
  const base = configFromEnv({ ...flags, publicUrl: publicUrl ?? `http://localhost:${port}` }, env);
  return {
    ...base,
    publicUrlSet: publicUrl !== undefined,
    host: flags.host ?? env.FERRY_HOST ?? '127.0.0.1',
    port,
    filesDir: flags.filesDir ?? (env.FERRY_FILES_DIR || join(base.dataDir, 'files')),
    filesInDatabase: flags.filesInDatabase ?? (isPostgresUrl(base.databaseUrl) && !(flags.filesDir ?? env.FERRY_FILES_DIR)),
    demo: flags.demo ?? env.FERRY_DEMO !== '0',
    adminApiKey: flags.adminApiKey ?? (env.FERRY_ADMIN_API_KEY || undefined),
    adminPassword: flags.adminPassword ?? (env.FERRY_ADMIN_PASSWORD || undefined),
    bodyLimit: flags.bodyLimit ?? intFrom(env.FERRY_BODY_LIMIT, 'FERRY_BODY_LIMIT', 32 * 1024 * 1024, 1024),
    uploadLimit: flags.uploadLimit ?? intFrom(env.FERRY_UPLOAD_LIMIT, 'FERRY_UPLOAD_LIMIT', 1024 * 1024 * 1024, 1024),
    fileRetentionMs: flags.fileRetentionMs ?? intFrom(env.FERRY_FILE_RETENTION, 'FERRY_FILE_RETENTION', DEFAULT_FILE_RETENTION_MS / 1000) * 1000,
    serverName: flags.serverName ?? (env.FERRY_SERVER_NAME?.trim() || undefined),
    sessionTtlMs: flags.sessionTtlMs ?? intFrom(env.FERRY_SESSION_TTL, 'FERRY_SESSION_TTL', 8 * 3600, 1) * 1000,
    workers: flags.workers ?? intFrom(env.FERRY_WORKERS, 'FERRY_WORKERS', 2),
    pgBoss: flags.pgBoss ?? (isPostgresUrl(base.databaseUrl) ? { connectionString: base.databaseUrl!, schema: bossSchemaFor(base.databaseSchema) } : undefined),
    operationStaleMs: flags.operationStaleMs ?? intFrom(env.FERRY_OPERATION_STALE, 'FERRY_OPERATION_STALE', 30, 2) * 1000,
    shutdownGraceMs: flags.shutdownGraceMs ?? intFrom(env.FERRY_SHUTDOWN_GRACE, 'FERRY_SHUTDOWN_GRACE', 20) * 1000,
    logLevel: flags.logLevel ?? env.FERRY_LOG_LEVEL ?? 'info',
    loginRate: flags.loginRate ?? intFrom(env.FERRY_LOGIN_RATE, 'FERRY_LOGIN_RATE', 10),
    loginWindowMs: flags.loginWindowMs ?? intFrom(env.FERRY_LOGIN_WINDOW, 'FERRY_LOGIN_WINDOW', 60, 1) * 1000,
  };
}
