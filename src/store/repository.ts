import type { Compilable, Kysely, Transaction } from 'kysely';
import type { TypeCode } from '../core/types.js';
import { FerryError } from '../core/errors.js';
import { databaseError } from './db-errors.js';
import type { DialectCapabilities, NativeHandles, NativeStatements } from './dialect.js';
import type { Database } from './schema.js';
import type { WriteClock } from './write-clock.js';

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * What every repository runs on: one Kysely handle (the root, or a
 * transaction of it), the reader for reads outside transactions, the
 * dialect's capabilities and, on SQLite, the driver's own statements.
 * `Store.transaction` hands the same repositories a handle bound to the
 * transaction.
 */
export interface DbHandle {
  readonly db: Db;
  /** See Connection.reader. */
  readonly reader: Kysely<Database>;
  readonly caps: DialectCapabilities;
  readonly native?: NativeHandles;
  /** The environments as recently read, shared by every handle of one Store (see RecentEnvironments). */
  readonly recentEnvironments?: RecentEnvironments;
  /** This process's writes through `db`, shared by every handle of one Store (write-clock.ts). */
  readonly clock?: WriteClock;
}

/**
 * The environment list as read at most TTL_MS ago, for the status polls of
 * the API faces (which environment a Host names, an environment's hosts and
 * its install lock). Any change to environments or their install locks made
 * through this Store forgets it at once, and again when the transaction that
 * made it ends (a read between the write and the commit saw the old rows);
 * a change made by another process (or an offloaded install's thread)
 * shows within TTL_MS, as operation status polls do (OperationsStore).
 */
export class RecentEnvironments<T = unknown> {
  static readonly TTL_MS = 250;
  /** Bumped by every change: a read started before one is not kept after it. */
  changes = 0;
  private kept: { at: number; changes: number; list: Promise<T> } | undefined;

  changed(): void {
    this.changes++;
    this.kept = undefined;
  }

  get(read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const k = this.kept;
    if (k && k.changes === this.changes && now - k.at < RecentEnvironments.TTL_MS) return k.list;
    const entry = { at: now, changes: this.changes, list: read() };
    this.kept = entry;
    entry.list.catch(() => {
      if (this.kept === entry) this.kept = undefined;
    });
    return entry.list;
  }
}

export interface KeyRef {
  type: TypeCode;
  id: string;
}

export const now = () => new Date().toISOString();
export const json = (v: unknown) => JSON.stringify(v);
export const parse = <T>(v: string | null): T => (v === null ? (null as T) : (JSON.parse(v) as T));

/**
 * Driver errors are translated here, at one choke point, so callers see a
 * FerryError with the cause attached (pg-boss `rethrowWriteError`).
 */
export function storeError(e: unknown): never {
  if (e instanceof FerryError) throw e;
  const fault = databaseError(e);
  if (fault) throw fault;
  const message = e instanceof Error ? e.message : String(e);
  throw new FerryError('STORE_ERROR', 500, `database error: ${message}`, { cause: e });
}

/**
 * The base of the repositories: the batching that keeps a 100k-object install
 * a few hundred statements, and the per-row fast path of in-process SQLite
 * (`caps.preparedRowWrites`). Repositories say what to write or read; how it
 * is cut into statements is decided here, by capability, never by dialect name.
 */
export abstract class Repository {
  constructor(protected readonly h: DbHandle) {}

  protected get db(): Db {
    return this.h.db;
  }

  /** Where reads go: the transaction inside one, else the reader (see Connection.reader). */
  protected get read(): Db {
    return this.h.db.isTransaction ? this.h.db : this.h.reader;
  }

  /** Environments or their install locks changed: recent reads of them are forgotten (RecentEnvironments). */
  protected environmentsChanged(): void {
    this.h.recentEnvironments?.changed();
  }

  protected get caps(): DialectCapabilities {
    return this.h.caps;
  }

  /** Rows per INSERT for a table of `columns` columns. */
  private batchSize(columns: number): number {
    return Math.max(1, Math.min(1000, Math.floor(this.caps.maxParams / columns)));
  }

  protected chunks<T>(items: readonly T[], columns: number): T[][] {
    const size = this.batchSize(columns);
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }

  /**
   * The per-row fast path (`caps.preparedRowWrites`): `build` returns the
   * one-row form of a query with `at(i)` where row value i goes; Kysely
   * compiles it once, and the driver runs that prepared statement once per
   * row. Kysely still writes every statement; only the way it is executed
   * changes. Undefined when the fast path does not apply (another dialect,
   * or a write outside a transaction, which must not become one autocommit
   * per row): the caller then runs its batched Kysely statements.
   */
  protected async runPerRow<T>(
    items: readonly T[],
    toRow: (item: T) => readonly unknown[],
    build: (at: (i: number) => never) => Compilable,
  ): Promise<number | undefined> {
    if (!this.caps.preparedRowWrites || !this.h.native || !this.db.isTransaction) return undefined;
    if (items.length === 0) return 0;
    const { sql: text, bind } = perRowStatement(build);
    return this.h.native.writer.runEach(
      text,
      mapIter(items, (it) => bind(toRow(it))),
    );
  }

  /**
   * The read side of `runPerRow`: one prepared query per item (give each key
   * once), every result row collected. Outside a transaction the reader
   * connection is taken per slice of READ_SLICE items, not for the whole
   * list, so status polls are not held up behind a 100k-key lookup.
   */
  protected async allPerRow<T, R>(
    items: readonly T[],
    toRow: (item: T) => readonly unknown[],
    build: (at: (i: number) => never) => Compilable,
  ): Promise<R[] | undefined> {
    if (!this.caps.preparedRowWrites || !this.h.native) return undefined;
    if (items.length === 0) return [];
    const { sql: text, bind } = perRowStatement(build);
    const out: R[] = [];
    for (let i = 0; i < items.length; i += READ_SLICE) {
      const slice = items.slice(i, i + READ_SLICE);
      for (const r of await this.withNative((n) =>
        n.allEach<R>(
          text,
          mapIter(slice, (it) => bind(toRow(it))),
        ),
      ))
        out.push(r);
    }
    return out;
  }

  /**
   * Insert value rows (objects with the same keys, in the same order) through
   * `build`. With `preparedRowWrites`, one cached prepared statement of
   * ROWS_PER_STATEMENT rows runs again and again (fewer calls into the driver
   * than one row per call, and nothing to compile per batch); otherwise
   * Kysely runs multi-row batches as large as the parameter limit allows.
   * `rowsPerStatement` 1 suits tables with several secondary indexes: SQLite
   * was measured inserting 98k objects (two indexes on text columns) in
   * 0.57 s one row per statement against 0.93 s fifty rows per statement.
   */
  protected async insertValues<T extends object>(
    values: readonly T[],
    build: (rows: T[]) => Compilable & { execute(): Promise<unknown> },
    rowsPerStatement = ROWS_PER_STATEMENT,
  ): Promise<void> {
    if (values.length === 0) return;
    const keys = Object.keys(values[0]!) as (keyof T)[];
    const cols = keys.length;
    if (!this.caps.preparedRowWrites || !this.h.native || !this.db.isTransaction) {
      for (const chunk of this.chunks(values, cols)) await build(chunk).execute();
      return;
    }
    const writer = this.h.native.writer;
    const statement = (rows: number) =>
      perRowStatement((at) => build(Array.from({ length: rows }, (_, r) => Object.fromEntries(keys.map((k, c) => [k, at(r * cols + c)])) as T)));
    const flat = (from: number, to: number): unknown[] => {
      const out = new Array<unknown>((to - from) * cols);
      let n = 0;
      for (let j = from; j < to; j++) {
        const v = values[j]!;
        for (const k of keys) out[n++] = v[k];
      }
      return out;
    };
    const per = Math.max(1, Math.min(rowsPerStatement, Math.floor(this.caps.maxParams / cols)));
    let i = 0;
    if (values.length >= per) {
      const full = statement(per);
      const batches = function* (): Generator<unknown[]> {
        for (; i + per <= values.length; i += per) yield full.bind(flat(i, i + per));
      };
      writer.runEach(full.sql, batches());
    }
    if (i < values.length) {
      const one = statement(1);
      writer.runEach(
        one.sql,
        mapIter(values.slice(i), (_, j) => one.bind(flat(i + j, i + j + 1))),
      );
    }
  }

  /**
   * Run a read and get each row as an array of its columns in select order,
   * where the dialect has in-process statements (SQLite: no object built per
   * row, a third of the cost of reading 100k package entities); undefined
   * elsewhere, where the caller runs the query through Kysely.
   */
  protected async selectRaw(query: Compilable): Promise<unknown[][] | undefined> {
    if (!this.caps.preparedRowWrites || !this.h.native) return undefined;
    const { sql: text, parameters } = query.compile();
    return this.withNative((n) => n.allRaw(text, parameters));
  }

  /**
   * Use the driver's statements of the connection this repository reads
   * through, holding it: inside a transaction the transaction already does;
   * outside, Kysely's `connection()` takes the reader connection for the call.
   */
  private async withNative<T>(fn: (n: NativeStatements) => T): Promise<T> {
    const native = this.h.native!;
    if (this.db.isTransaction) return fn(native.writer);
    return this.h.reader.connection().execute(async () => fn(native.reader()));
  }
}

// ------------------------------------------------------------------ per-row statements

const MARK = '\u0000ferry-row-value:';
/**
 * Rows per prepared multi-row INSERT on the per-row path: measured on
 * better-sqlite3, 10 to 100 rows per call insert about 40% faster than one
 * row per call (less binding and stepping overhead), with no gain beyond.
 */
const ROWS_PER_STATEMENT = 50;
/** Keys looked up per hold of the reader connection (a few milliseconds of work). */
const READ_SLICE = 2000;

/**
 * Compile a one-row query whose row values are markers, and say where each
 * row value goes among the statement's parameters (a marker may repeat or be
 * dropped; other parameters are constants of this call).
 */
function perRowStatement(build: (at: (i: number) => never) => Compilable): { sql: string; bind: (row: readonly unknown[]) => unknown[] } {
  const { sql: text, parameters } = build((i) => `${MARK}${i}` as never).compile();
  const slots = parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1));
  // Most inserts bind the row exactly as given: no copy then.
  if (slots.every((slot, i) => slot === i)) return { sql: text, bind: (row) => row as unknown[] };
  return {
    sql: text,
    bind: (row) => {
      const out = new Array<unknown>(slots.length);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        out[i] = slot >= 0 ? row[slot] : parameters[i];
      }
      return out;
    },
  };
}

function* mapIter<T, U>(items: readonly T[], fn: (item: T, index: number) => U): Generator<U> {
  for (let i = 0; i < items.length; i++) yield fn(items[i]!, i);
}

// ------------------------------------------------------------------ keys

/** Each key once (an IN list dedupes by itself; a lookup per key must be told). */
export function uniqueKeys(keys: readonly KeyRef[]): KeyRef[] {
  const seen = new Set<string>();
  const out: KeyRef[] = [];
  for (const k of keys) {
    const id = `${k.type}\u0000${k.id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(k);
  }
  return out;
}

/** Ids grouped by type, for one query per type. */
export function groupByType(keys: readonly KeyRef[]): Map<TypeCode, string[]> {
  const m = new Map<TypeCode, string[]>();
  for (const k of keys) {
    const list = m.get(k.type);
    if (list) list.push(k.id);
    else m.set(k.type, [k.id]);
  }
  return m;
}
