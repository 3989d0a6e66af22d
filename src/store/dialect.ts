import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';

/**
 * What differs between the two databases, as named flags (Kysely
 * `DialectAdapter`, pg-boss `BACKEND_PROFILES`), so the repositories never
 * branch on "is this SQLite".
 */
export interface DialectCapabilities {
  name: 'sqlite' | 'postgres';
  /** Column type of an auto-increment key. */
  autoIncrementType: string;
  /** SQLite spells auto-increment as a keyword; PostgreSQL uses the `serial` type. */
  autoIncrementKeyword: boolean;
  /**
   * Most bind parameters one statement may carry. SQLite's default limit is
   * 32766, PostgreSQL's wire protocol allows 65535; we stay well below both so
   * one batch of rows never fails on a wide table.
   */
  maxParams: number;
  /** `SELECT ... FOR UPDATE` exists (PostgreSQL). SQLite serialises writers on the file instead. */
  supportsForUpdate: boolean;
}

export const SQLITE: DialectCapabilities = {
  name: 'sqlite',
  autoIncrementType: 'integer',
  autoIncrementKeyword: true,
  maxParams: 30000,
  supportsForUpdate: false,
};

export const POSTGRES: DialectCapabilities = {
  name: 'postgres',
  autoIncrementType: 'serial',
  autoIncrementKeyword: false,
  maxParams: 60000,
  supportsForUpdate: true,
};

export interface Connection {
  db: Kysely<Database>;
  /**
   * Handle for reads outside transactions. SQLite gets a second connection:
   * Kysely serialises everything on one SQLite connection, so without it a
   * long install transaction would stall every status poll; in WAL mode the
   * reader sees the last committed state meanwhile. PostgreSQL's pool already
   * reads beside a writer, so there it is the same handle.
   */
  reader: Kysely<Database>;
  caps: DialectCapabilities;
  /** Where the data lives, for messages: a file path or a URL without password. */
  location: string;
  /**
   * PostgreSQL schema holding Ferry's tables. Kysely's migrator looks for its
   * own tables in every schema unless told which, so several Ferry schemas in
   * one database (tests, tenants of a shared server) need it named.
   */
  schema?: string;
}

export interface ConnectOptions {
  /** `postgres://...` selects PostgreSQL; otherwise SQLite in dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (tests give each run its own). Created if missing. */
  schema?: string;
}


/** Open the database named by the options: PostgreSQL for a postgres:// URL, else SQLite under dataDir. */
export async function openConnection(options: ConnectOptions): Promise<Connection> {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pg = await import('pg');
    // bigint counts (COUNT(*)) come back as strings by default; our counts fit a JS number.
    pg.default.types.setTypeParser(20, (v: string) => Number(v));
    const schema = options.schema;
    const pool = new pg.default.Pool({
      connectionString: url,
      max: 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    if (schema) {
      if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
      const client = await pool.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        client.release();
      }
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, reader: db, caps: POSTGRES, location: url.replace(/:[^:@/]*@/, ':***@') + (schema ? `#${schema}` : ''), schema: schema ?? 'public' };
  }
  if (url && !url.startsWith('sqlite:') && url !== '') {
    throw new Error(`unsupported database URL ${url} (use postgres://... or leave it unset for SQLite)`);
  }
  const { default: SqliteDatabase } = await import('better-sqlite3');
  const fs = await import('node:fs');
  const path = await import('node:path');
  let file: string;
  if (url?.startsWith('sqlite:')) {
    file = url.slice('sqlite:'.length);
  } else {
    const dir = options.dataDir ?? './data';
    fs.mkdirSync(dir, { recursive: true });
    file = path.join(dir, 'ferry.sqlite');
  }
  const sqlite = new SqliteDatabase(file);
  // WAL lets readers (status polls) run beside the one writer; NORMAL sync is
  // durable at every checkpoint and safe against corruption in WAL mode.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  // Opened lazily: the file and its schema must exist before a read-only handle can use them.
  const reader = new Kysely<Database>({
    dialect: new SqliteDialect({
      database: async () => {
        const r = new SqliteDatabase(file, { readonly: true });
        r.pragma('busy_timeout = 10000');
        r.pragma('cache_size = -32768');
        return r;
      },
    }),
  });
  return { db, reader, caps: SQLITE, location: file };
}
