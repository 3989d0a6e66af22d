// The copy is generic over whatever tables the two schemas hold, not today's typed schema.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { ConflictError, ValidationError } from '../core/errors.js';
import { isPostgresUrl } from './dialect.js';
import { DatabaseFileStore } from './database-file-store.js';
import { DirectoryFileStore, type FileStore } from './file-store.js';
import { Store } from './store.js';

/** Rows read from the source per query. */
const PAGE = 2000;

export interface CopyOptions {
  /** The embedded installation: its `ferry.sqlite`, or the data directory holding it. */
  from: string;
  /** Its bundles (default: `files` beside the SQLite file, as the server keeps them). */
  fromFilesDir?: string;
  /** postgres://... */
  to: string;
  /** PostgreSQL schema (FERRY_DATABASE_SCHEMA; default public). */
  schema?: string;
  /** Put the bundles in this directory the server processes share (FERRY_FILES_DIR) rather than in the database. */
  toFilesDir?: string;
  onProgress?: (line: string) => void;
}

export interface CopyReport {
  /** The PostgreSQL schema copied into. */
  schema: string;
  /** Rows copied, per table. */
  tables: Record<string, number>;
  /** Files whose bytes were copied. */
  files: number;
  /** Files indexed in the source whose bytes were gone (expired, removed by hand): left out, index row included. */
  missingFiles: string[];
}

/**
 * `ferry db copy`: move an embedded installation (SQLite) to PostgreSQL,
 * keeping everything as it is: every row of every table (ids, packages,
 * history, ID maps, restore points, users, API keys, sessions, operations,
 * audit) copied as it is, auto-increment sequences set past the copied
 * keys, and every bundle's bytes copied into the database (or a shared
 * directory). The target must be empty (its schema is created and migrated
 * here): a copy never merges into a live installation. The source is
 * brought up to the current schema first, as a start of the server would.
 */
export async function copyDatabase(opts: CopyOptions): Promise<CopyReport> {
  if (!isPostgresUrl(opts.to)) throw new ValidationError(`--to must be a postgres://... URL, got ${opts.to}`);
  const file = existsSync(opts.from) && statSync(opts.from).isDirectory() ? join(opts.from, 'ferry.sqlite') : opts.from;
  if (!existsSync(file)) throw new ValidationError(`no embedded Ferry database at ${file}`);
  const fromFiles = opts.fromFilesDir ?? join(dirname(file), 'files');
  const say = opts.onProgress ?? (() => {});

  const source = await Store.open({ databaseUrl: `sqlite:${file}` });
  let target: Store | undefined;
  try {
    target = await Store.open({ databaseUrl: opts.to, schema: opts.schema });
    const src = source.db as unknown as Kysely<any>;
    const dst = target.db as unknown as Kysely<any>;
    const schema = opts.schema ?? 'public';
    const tables = await userTables(src);
    const targetTables = new Set(await pgTables(dst, schema));
    const notEmpty: string[] = [];
    for (const t of targetTables) {
      const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(dst);
      if (Number(rows[0]!.n) > 0) notEmpty.push(t);
    }
    if (notEmpty.length > 0) {
      throw new ConflictError(
        'TARGET_NOT_EMPTY',
        `the target database is not empty (schema ${schema}: ${notEmpty.join(', ')}): ferry db copy only copies into an empty one`,
      );
    }
    const missing = tables.filter((t) => !targetTables.has(t));
    if (missing.length > 0)
      throw new ConflictError('SCHEMA_MISMATCH', `the target (schema ${schema}) has no table ${missing.join(', ')}: is it the same Ferry version?`);

    const report: CopyReport = { schema, tables: {}, files: 0, missingFiles: [] };
    const filesOut: FileStore = opts.toFilesDir
      ? new DirectoryFileStore(target, opts.toFilesDir)
      : new DatabaseFileStore(target, join(dirname(file), '.ferry-copy-tmp'));
    // Index rows of bundles whose bytes are gone are left out: the server would offer a file it cannot send.
    const fileIds = new Set<string>();
    if (tables.includes('files')) {
      for (const { id } of (await sql<{ id: string }>`select id from files`.execute(src)).rows) {
        if (existsSync(join(fromFiles, `${id}.ferry`))) fileIds.add(id);
        else report.missingFiles.push(id);
      }
    }

    await target.transaction(async (tx) => {
      const db = tx.db as unknown as Kysely<any>;
      for (const table of tables) {
        let copied = 0;
        for (let last = -Infinity; ;) {
          const { rows } = await sql<
            Record<string, unknown>
          >`select rowid as "__rowid", * from ${sql.table(table)} where rowid > ${last} order by rowid limit ${PAGE}`.execute(src);
          if (rows.length === 0) break;
          last = Number(rows[rows.length - 1]!.__rowid);
          const values = rows.map(({ __rowid, ...r }) => r).filter((r) => table !== 'files' || fileIds.has(r.id as string));
          if (values.length > 0) {
            const perRow = Object.keys(values[0]!).length;
            const batch = Math.max(1, Math.floor(target!.caps.maxParams / perRow));
            for (let i = 0; i < values.length; i += batch)
              await db
                .insertInto(table)
                .values(values.slice(i, i + batch))
                .execute();
          }
          copied += values.length;
        }
        report.tables[table] = copied;
        say(`${table}: ${copied} rows`);
      }
      await resetSequences(db, schema);
    });

    for (const id of fileIds) {
      await filesOut.importBytes(id, join(fromFiles, `${id}.ferry`));
      report.files++;
    }
    say(`files: ${report.files} copied${report.missingFiles.length ? `, ${report.missingFiles.length} left out (their bytes were gone)` : ''}`);
    return report;
  } finally {
    await target?.close();
    await source.close();
  }
}

/** Ferry's tables in the SQLite source (not the migrator's, not SQLite's own). */
async function userTables(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name`.execute(db);
  return rows.map((r) => r.name);
}

async function pgTables(db: Kysely<any>, schema: string): Promise<string[]> {
  const { rows } = await sql<{
    table_name: string;
  }>`select table_name from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE' and table_name not like 'kysely_%'`.execute(
    db,
  );
  return rows.map((r) => r.table_name);
}

/** Auto-increment keys continue after the copied ones (PostgreSQL `serial` sequences do not see explicit values). */
async function resetSequences(db: Kysely<any>, schema: string): Promise<void> {
  const { rows } = await sql<{
    table_name: string;
    column_name: string;
  }>`select table_name, column_name from information_schema.columns where table_schema = ${schema} and column_default like 'nextval(%'`.execute(db);
  for (const { table_name: t, column_name: c } of rows) {
    await sql`select setval(pg_get_serial_sequence(${`${schema}.${t}`}, ${c}), coalesce((select max(${sql.ref(c)}) from ${sql.table(t)}), 0) + 1, false)`.execute(
      db,
    );
  }
}
