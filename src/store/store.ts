import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Kysely } from 'kysely';
import { FerryError } from '../core/errors.js';
import type { Connection, ConnectOptions, DialectCapabilities } from './dialect.js';
import { openConnection } from './dialect.js';
import { transactionConflict } from './db-errors.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import type { WriteGate } from './write-gate.js';
import type { WriteClock } from './write-clock.js';
import { RecentEnvironments, type Db, type DbHandle } from './repository.js';
import { EnvironmentsRepository } from './environments.js';
import { ObjectsRepository } from './objects.js';
import { PackagesRepository } from './packages.js';
import { InstallationsRepository } from './installations.js';
import { IdMapRepository } from './id-map.js';
import { RestorePointsRepository } from './restore-points.js';
import { DecisionsRepository } from './decisions.js';
import { AuditRepository } from './audit.js';
import { EnvironmentLocksRepository } from './locks.js';
import { ServerKeysRepository } from './server-keys.js';

export { SERVER_SCOPE } from './schema.js';
export { groupByType, type KeyRef } from './repository.js';
export type { StoredEnvironment } from './environments.js';
export type { ObjectRow } from './objects.js';
export type { EntryOutcome } from './installations.js';
export type { RestorePointRow } from './restore-points.js';
export type { AuditEntry } from './audit.js';
export type { EnvironmentLock, LockOwner } from './locks.js';
export type { ServerKeyRow } from './server-keys.js';

/**
 * The repositories, one per aggregate, over one Kysely handle:
 * `store.objects.upsert(rows)`, `store.packages.get(id)`. `transaction(fn)`
 * gives a Store whose repositories are bound to that transaction; every
 * multi-row write is batched so a 100k-object install is a few hundred
 * statements, not 100k.
 */
export class Store {
  readonly environments: EnvironmentsRepository;
  /** Install locks of environments, with their owners (engine/locks.ts). */
  readonly locks: EnvironmentLocksRepository;
  readonly objects: ObjectsRepository;
  /** Packages and their entities. */
  readonly packages: PackagesRepository;
  /** Installations and their entries. */
  readonly installations: InstallationsRepository;
  readonly idMap: IdMapRepository;
  readonly restorePoints: RestorePointsRepository;
  readonly decisions: DecisionsRepository;
  readonly audit: AuditRepository;
  readonly serverKeys: ServerKeysRepository;

  private constructor(
    private readonly handle: DbHandle,
    readonly location: string,
    private readonly root: Kysely<Database>,
  ) {
    this.environments = new EnvironmentsRepository(handle);
    this.locks = new EnvironmentLocksRepository(handle);
    this.objects = new ObjectsRepository(handle);
    this.packages = new PackagesRepository(handle);
    this.installations = new InstallationsRepository(handle);
    this.idMap = new IdMapRepository(handle);
    this.restorePoints = new RestorePointsRepository(handle);
    this.decisions = new DecisionsRepository(handle);
    this.audit = new AuditRepository(handle);
    this.serverKeys = new ServerKeysRepository(handle);
  }

  /** The Kysely handle: the root, or the transaction this Store is bound to. */
  get db(): Db {
    return this.handle.db;
  }

  /** Counts this process's writes through this store (write-clock.ts). */
  get writes(): WriteClock | undefined {
    return this.handle.clock;
  }

  /**
   * Another connection of this process (the offload thread's) has written:
   * forget the recent reads kept here, as this store's own writes do.
   */
  changedElsewhere(): void {
    this.handle.recentEnvironments?.changed();
    this.handle.clock?.tick();
  }

  get caps(): DialectCapabilities {
    return this.handle.caps;
  }

  /** The read handle (the transaction inside one, else the reader), for repositories kept beside these (auth, operations, files). */
  get readDb(): Db {
    return this.handle.db.isTransaction ? this.handle.db : this.handle.reader;
  }

  /** Open a connection and bring the schema up to date (`migrate: false`: a second connection of a process that has). */
  static async open(options: ConnectOptions & { migrate?: boolean }): Promise<Store> {
    const conn: Connection = await openConnection(options);
    const store = new Store(
      { db: conn.db, reader: conn.reader, caps: conn.caps, native: conn.native, recentEnvironments: new RecentEnvironments(), clock: conn.clock },
      conn.location,
      conn.db,
    );
    store.writeGate = conn.writeGate;
    if (options.migrate !== false && !(await store.schemaIsCurrent(conn.schema))) {
      // One process at a time creates the schema and migrates (Connection.setup); a second finds it done.
      await conn.setup(() => store.migrate(conn.schema));
    }
    return store;
  }

  /** SQLite: the gate this process's writer connections take (write-gate.ts); an offload thread's writes go through it too. */
  writeGate: WriteGate | undefined;

  private async migrate(schema?: string): Promise<void> {
    if (await this.schemaIsCurrent(schema)) return;
    const migrator = new Migrator({
      db: this.root,
      provider: migrationProvider(this.caps),
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new FerryError(
        'STORE_ERROR',
        500,
        `migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * True when the applied migrations are exactly the known ones: one query
   * instead of the Migrator's introspection of every table, which a short CLI
   * command paid at every start. Anything else (no table yet, a migration
   * behind, an unknown one applied by a newer Ferry, a failed read) runs the
   * Migrator, which takes its lock, so two processes starting at once still
   * migrate once, and reports a mismatch as before.
   */
  private async schemaIsCurrent(schema?: string): Promise<boolean> {
    const known = Object.keys(await migrationProvider(this.caps).getMigrations()).sort();
    const table = schema ? sql.table(`${schema}.${DEFAULT_MIGRATION_TABLE}`) : sql.table(DEFAULT_MIGRATION_TABLE);
    try {
      const { rows } = await sql<{ name: string }>`select name from ${table} order by name`.execute(this.root);
      return rows.length === known.length && rows.every((r, i) => r.name === known[i]);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.handle.reader !== this.root) await this.handle.reader.destroy();
    await this.root.destroy();
  }

  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  /** Run fn in one database transaction; nested calls reuse the outer one. */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    const recent = this.handle.recentEnvironments;
    const before = recent?.changes;
    try {
      return await this.root.transaction().execute((trx) => fn(new Store({ ...this.handle, db: trx }, this.location, this.root)));
    } catch (e) {
      // Rolled back by now: a transaction PostgreSQL killed (deadlock, serialization) is a retryable 503, whatever the caller wrapped it in.
      throw transactionConflict(e) ?? e;
    } finally {
      // Environments changed inside: a read made before the commit saw the old rows.
      if (recent && recent.changes !== before) recent.changed();
      // The same for every answer kept by the clock: the statements became visible only now.
      this.handle.clock?.tick();
    }
  }
}
