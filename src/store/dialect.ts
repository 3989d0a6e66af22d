import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { LocalWriteGate, gatedDialect, type WriteGate } from './write-gate.js';
import { WriteClock } from './write-clock.js';

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
  /**
   * Bulk writes and key lookups run row by row through one cached prepared
   * statement (`Connection.native`) instead of as multi-row statements built
   * by Kysely. In-process SQLite has no round trip to amortise, and building,
   * compiling and preparing a 1000-row INSERT costs more than running a
   * prepared one-row INSERT 1000 times; over a network (PostgreSQL) the
   * multi-row statement wins.
   */
  preparedRowWrites: boolean;
  /**
   * Match a package's (or an installation's) many keys against a table with
   * one join in the database instead of keyed lookups. SQLite probes the
   * primary key whatever its statistics. PostgreSQL plans from statistics,
   * which lag right after a bulk write (an install, then its rollback): it
   * was seen probing such a join through the natural-key index with a filter
   * on id, 5x slower at 10k objects; keyed IN lists always use the key.
   */
  joinLookups: boolean;
  /** Column type of raw bytes (file chunks). */
  binaryType: string;
}

export const SQLITE: DialectCapabilities = {
  name: 'sqlite',
  autoIncrementType: 'integer',
  autoIncrementKeyword: true,
  maxParams: 30000,
  supportsForUpdate: false,
  preparedRowWrites: true,
  joinLookups: true,
  binaryType: 'blob',
};

export const POSTGRES: DialectCapabilities = {
  name: 'postgres',
  autoIncrementType: 'serial',
  autoIncrementKeyword: false,
  maxParams: 60000,
  supportsForUpdate: true,
  preparedRowWrites: false,
  joinLookups: false,
  binaryType: 'bytea',
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
  /** Prepared statements of an in-process database (SQLite), for `preparedRowWrites`. */
  native?: NativeHandles;
  /** Counts this process's writes through `db` (write-clock.ts). */
  clock: WriteClock;
  /** The gate every SQLite writer connection of this process takes (write-gate.ts); none on PostgreSQL, whose pool waits without sleeping. */
  writeGate?: WriteGate;
  /**
   * Run `fn` (the migrations) as the only process setting this database up.
   * PostgreSQL: on a connection of its own, hold a session advisory lock
   * named after the schema, create the schema if missing, run `fn`, unlock.
   * Several processes started at once on a brand-new schema otherwise raced:
   * `CREATE SCHEMA IF NOT EXISTS` is not safe against itself (one failed on
   * pg_namespace's unique index, 23505) and the migrator's own lock lives in
   * a table of that schema, created by the same race. SQLite: `fn` as is.
   */
  setup: <T>(fn: () => Promise<T>) => Promise<T>;
}

/**
 * Direct, synchronous use of the driver's prepared statements. Only safe
 * while the caller holds that handle's one Kysely connection (inside a
 * transaction, or `db.connection().execute(...)`): the Repository base enforces that.
 */
export interface NativeStatements {
  /** Run `sql` once per parameter row; returns the rows changed. */
  runEach(sql: string, rows: Iterable<readonly unknown[]>): number;
  /** Run a query once per parameter row and collect every result row. */
  allEach<R>(sql: string, rows: Iterable<readonly unknown[]>): R[];
  /** Run a query once; each result row an array of its columns in select order (no object per row). */
  allRaw(sql: string, params: readonly unknown[]): unknown[][];
}

export interface NativeHandles {
  /** Statements of the connection behind `Connection.db`. */
  writer: NativeStatements;
  /** Statements of the connection behind `Connection.reader`; opened with it, so only call it while holding that connection. */
  reader: () => NativeStatements;
}

export interface ConnectOptions {
  /** `postgres://...` selects PostgreSQL; otherwise SQLite in dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (tests give each run its own). Created if missing. */
  schema?: string;
  /** SQLite: the process's write gate, when this connection is not the first (an offload thread's); by default a new one. */
  writeGate?: WriteGate;
}

/** Whether a database URL names PostgreSQL (else Ferry runs on its embedded SQLite). */
export const isPostgresUrl = (url: string | undefined): boolean => !!url && /^postgres(ql)?:\/\//.test(url);

/** Open the database named by the options: PostgreSQL for a postgres:// URL, else SQLite under dataDir. */
export async function openConnection(options: ConnectOptions): Promise<Connection> {
  const url = options.databaseUrl;
  if (url && isPostgresUrl(url)) {
    const pg = await import('pg');
    // bigint counts (COUNT(*)) come back as strings by default; our counts fit a JS number.
    pg.default.types.setTypeParser(20, (v: string) => Number(v));
    const schema = options.schema;
    const pool = new pg.default.Pool({
      connectionString: url,
      max: 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // A connection whose server went away (stopped, restarted) is an 'error'
    // event, of the pool when the connection is idle, of the connection
    // itself when it is checked out (inside a transaction, between two
    // queries): unheard, either ends the process. The pool drops that
    // connection, the work on it fails (the transaction rolls back), and the
    // next query opens a new one; while the server is down, queries fail
    // and are answered 503 (db-errors.ts).
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    const setup = async <T>(fn: () => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      const lock = `ferry setup ${schema ?? 'public'}`;
      try {
        await client.query('select pg_advisory_lock(hashtext($1))', [lock]);
        try {
          if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
          return await fn();
        } finally {
          await client.query('select pg_advisory_unlock(hashtext($1))', [lock]);
        }
      } finally {
        client.release();
      }
    };
    const clock = new WriteClock();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [clock] });
    return {
      db,
      clock,
      reader: db,
      caps: POSTGRES,
      location: url.replace(/:[^:@/]*@/, ':***@') + (schema ? `#${schema}` : ''),
      schema: schema ?? 'public',
      setup,
    };
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
  // A large install grows the WAL to its size; without a limit a checkpoint
  // only rewinds it and the file stays that big on disk. Truncated back to
  // 64 MB at each checkpoint: enough to keep ordinary writes from regrowing it.
  sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const writer = new StatementCache(sqlite);
  const writeGate = options.writeGate ?? new LocalWriteGate();
  const clock = new WriteClock();
  const db = new Kysely<Database>({ dialect: gatedDialect(new SqliteDialect({ database: writer }), writeGate), plugins: [clock] });
  // Opened lazily: the file and its schema must exist before a read-only handle can use them.
  let readerStatements: StatementCache | undefined;
  const reader = new Kysely<Database>({
    dialect: new SqliteDialect({
      database: async () => {
        const r = new SqliteDatabase(file, { readonly: true });
        r.pragma('busy_timeout = 10000');
        r.pragma('cache_size = -32768');
        return (readerStatements = new StatementCache(r));
      },
    }),
  });
  const native: NativeHandles = {
    writer,
    reader: () => {
      if (!readerStatements) throw new Error('the SQLite reader is not open yet');
      return readerStatements;
    },
  };
  return { db, clock, reader, caps: SQLITE, location: file, native, writeGate, setup: (fn) => fn() };
}

type BetterSqlite = import('better-sqlite3').Database;
type BetterStatement = import('better-sqlite3').Statement;

/**
 * better-sqlite3 behind a prepared-statement cache. Kysely's SQLite driver
 * prepares every query it runs; Ferry runs the same few shapes over and over
 * (status polls, keyset pages, full batches), and preparing is a good part
 * of their cost. A statement still running (`busy`: an open iterator) is
 * never handed out twice.
 */
class StatementCache implements NativeStatements {
  static readonly MAX = 200;
  readonly #db: BetterSqlite;
  readonly #cache = new Map<string, BetterStatement>();

  constructor(db: BetterSqlite) {
    this.#db = db;
  }

  prepare(sql: string): BetterStatement {
    // SQLite ends a transaction by itself on some failures (a full disk, an
    // I/O error); Kysely's ROLLBACK then fails ("no transaction is active")
    // and would hide the failure that ended it: there is nothing to roll back.
    if (!this.#db.inTransaction && /^\s*rollback\s*$/i.test(sql)) return this.prepare('select 1');
    const hit = this.#cache.get(sql);
    if (hit !== undefined && !hit.busy) {
      // Re-insert: the Map's order is the eviction order, least recently used first.
      this.#cache.delete(sql);
      this.#cache.set(sql, hit);
      return hit;
    }
    const stmt = this.#db.prepare(sql);
    if (hit === undefined) {
      this.#cache.set(sql, stmt);
      if (this.#cache.size > StatementCache.MAX) this.#cache.delete(this.#cache.keys().next().value!);
    }
    return stmt;
  }

  close(): void {
    this.#cache.clear();
    this.#db.close();
  }

  runEach(sql: string, rows: Iterable<readonly unknown[]>): number {
    const stmt = this.prepare(sql);
    let changes = 0;
    for (const row of rows) changes += stmt.run(row).changes;
    return changes;
  }

  allEach<R>(sql: string, rows: Iterable<readonly unknown[]>): R[] {
    const stmt = this.prepare(sql);
    const out: R[] = [];
    for (const row of rows) for (const r of stmt.all(row) as R[]) out.push(r);
    return out;
  }

  allRaw(sql: string, params: readonly unknown[]): unknown[][] {
    // A statement of its own (cache key): raw mode sticks to the statement.
    const stmt = this.prepare(`${sql} /* raw */`);
    stmt.raw(true);
    return stmt.all(params) as unknown[][];
  }
}
