/**
 * The floor every step is compared with: a raw bulk copy of the source rows
 * with ONE prepared INSERT per row inside ONE transaction on the same
 * database, through the driver directly (no Kysely, no engine). Reading the
 * rows is part of the copy; the insert-only time is reported beside it.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface FloorResult {
  rows: number;
  /** Read + insert, the floor. */
  ms: number;
  /** Of which inserting. */
  insertMs: number;
}

const PAGE = 10_000;
const COLUMNS = ['env_id', 'type', 'id', 'name', 'fields', 'hash', 'nkey', 'owner_id', 'updated_at'] as const;
type Row = Record<(typeof COLUMNS)[number], string | null>;

/** Copy the objects of `envIds` into the scratch environment `__floor__` of the same SQLite file, then delete them (untimed). */
export function sqliteFloor(file: string, envIds: readonly string[]): FloorResult {
  const db = new Database(file);
  // The same pragmas as src/store/dialect.ts.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536');
  try {
    // Keyset pages over the primary key, one environment at a time (a row
    // value over the whole key with an IN list would rescan from the start
    // each page); better-sqlite3 cannot write while a statement iterates.
    const page = db.prepare(`select * from objects where env_id = ? and (type, id) > (?, ?) order by type, id limit ${PAGE}`);
    const insert = db.prepare(`insert into objects (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`);
    let rows = 0;
    let insertMs = 0;
    const t0 = performance.now();
    db.transaction(() => {
      for (const env of envIds) {
        let after: [string, string] = ['', ''];
        for (;;) {
          const batch = page.all(env, ...after) as Row[];
          if (batch.length === 0) break;
          const t1 = performance.now();
          for (const r of batch) insert.run('__floor__', r.type, r.id, r.name, r.fields, r.hash, r.nkey, r.owner_id, r.updated_at);
          insertMs += performance.now() - t1;
          rows += batch.length;
          const last = batch[batch.length - 1]!;
          after = [last.type!, last.id!];
        }
      }
    })();
    const ms = performance.now() - t0;
    db.prepare(`delete from objects where env_id = '__floor__'`).run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { rows, ms, insertMs };
  } finally {
    db.close();
  }
}

/** The same on PostgreSQL with node-postgres: a named prepared statement executed once per row, in one transaction. */
export async function pgFloor(url: string, schema: string, envIds: readonly string[]): Promise<FloorResult> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    let rows = 0;
    let insertMs = 0;
    const text = `insert into objects (${COLUMNS.join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
    const t0 = performance.now();
    await client.query('begin');
    for (const env of envIds) {
      let after: [string, string] = ['', ''];
      for (;;) {
        const { rows: batch } = await client.query<Row>(`select * from objects where env_id = $1 and (type, id) > ($2, $3) order by type, id limit ${PAGE}`, [
          env,
          ...after,
        ]);
        if (batch.length === 0) break;
        const t1 = performance.now();
        for (const r of batch) {
          await client.query({
            name: 'ferry-floor-insert',
            text,
            values: ['__floor__', r.type, r.id, r.name, r.fields, r.hash, r.nkey, r.owner_id, r.updated_at],
          });
        }
        insertMs += performance.now() - t1;
        rows += batch.length;
        const last = batch[batch.length - 1]!;
        after = [last.type!, last.id!];
      }
    }
    await client.query('commit');
    const ms = performance.now() - t0;
    await client.query(`delete from objects where env_id = '__floor__'`);
    return { rows, ms, insertMs };
  } finally {
    await client.end();
  }
}
