import { Migrator, sql, type Compilable, type Kysely, type Transaction } from 'kysely';
import type {
  Action,
  Decision,
  EntryStatus,
  Environment,
  IdMapEntry,
  Installation,
  InstallationStatus,
  MatchKind,
  ObjectCollection,
  ObjectRef,
  Package,
  PackageEntity,
  PackageMetadata,
  PackageStatus,
  PlanEntry,
  PlanSummary,
  StoredObject,
  Tier,
  TypeCode,
  Via,
} from '../core/types.js';
import { FerryError } from '../core/errors.js';
import { OUTCOMES } from '../core/rules.js';
import type { InstallEntry } from '../core/install-plan.js';
import type { Connection, ConnectOptions, DialectCapabilities, NativeHandles, NativeStatements } from './dialect.js';
import { openConnection } from './dialect.js';
import { migrationProvider } from './migrations.js';
import type { Database, ObjectsTable } from './schema.js';

export { SERVER_SCOPE } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An object row as written: the engine computes hash, natural key and owner. */
export interface ObjectRow {
  envId: string;
  type: TypeCode;
  id: string;
  name: string;
  fields: Record<string, unknown>;
  /** `fields` as JSON text when the caller has it already (the canonical form the hash was taken over). */
  fieldsJson?: string;
  hash: string;
  nkey: string | null;
  ownerId: string | null;
}

/** An entry's install outcome (setEntryOutcomes). */
export interface EntryOutcome {
  type: TypeCode;
  sourceId: string;
  installationStatus: EntryStatus;
  targetId: string | null;
  statusReason: string | null;
}

export interface KeyRef {
  type: TypeCode;
  id: string;
}

export interface RestorePointRow {
  envId: string;
  type: TypeCode;
  targetId: string;
  before: StoredObject | null;
  afterHash: string | null;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string | null;
  address: string | null;
  action: string;
  envId: string | null;
  subject: string | null;
  result: string;
  detail: Record<string, unknown>;
}

const now = () => new Date().toISOString();
const json = (v: unknown) => JSON.stringify(v);
const parse = <T>(v: string | null): T => (v === null ? (null as T) : (JSON.parse(v) as T));

/**
 * Driver errors are translated here, at one choke point, so callers see a
 * FerryError with the cause attached (pg-boss `rethrowWriteError`).
 */
function storeError(e: unknown): never {
  if (e instanceof FerryError) throw e;
  const message = e instanceof Error ? e.message : String(e);
  throw new FerryError('STORE_ERROR', 500, `database error: ${message}`, { cause: e });
}

/**
 * The repositories over one Kysely handle. `transaction(fn)` gives the same
 * API bound to a transaction; every multi-row write is batched so a 100k-object
 * install is a few hundred statements, not 100k.
 */
export class Store {
  private constructor(
    readonly db: Db,
    readonly caps: DialectCapabilities,
    readonly location: string,
    private readonly root: Kysely<Database>,
    private readonly reader: Kysely<Database>,
    private readonly native?: NativeHandles,
  ) {}

  /** Where reads go: the transaction inside one, else the reader (see Connection.reader). */
  private get read(): Db {
    return this.db.isTransaction ? this.db : this.reader;
  }

  /** The read handle, for repositories kept beside this one (auth, operations, files). */
  get readDb(): Db {
    return this.read;
  }

  /** Open a connection and bring the schema up to date. */
  static async open(options: ConnectOptions): Promise<Store> {
    const conn: Connection = await openConnection(options);
    const store = new Store(conn.db, conn.caps, conn.location, conn.db, conn.reader, conn.native);
    await store.migrate(conn.schema);
    return store;
  }

  private async migrate(schema?: string): Promise<void> {
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

  async close(): Promise<void> {
    if (this.reader !== this.root) await this.reader.destroy();
    await this.root.destroy();
  }

  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  /** Run fn in one database transaction; nested calls reuse the outer one. */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.root.transaction().execute((trx) => fn(new Store(trx, this.caps, this.location, this.root, this.reader, this.native)));
  }

  /** Rows per INSERT for a table of `columns` columns. */
  private batchSize(columns: number): number {
    return Math.max(1, Math.min(1000, Math.floor(this.caps.maxParams / columns)));
  }

  private chunks<T>(items: readonly T[], columns: number): T[][] {
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
  private async runPerRow<T>(
    items: readonly T[],
    toRow: (item: T) => readonly unknown[],
    build: (at: (i: number) => never) => Compilable,
  ): Promise<number | undefined> {
    if (!this.caps.preparedRowWrites || !this.native || !this.db.isTransaction) return undefined;
    if (items.length === 0) return 0;
    const { sql: text, bind } = perRowStatement(build);
    return this.native.writer.runEach(
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
  private async allPerRow<T, R>(
    items: readonly T[],
    toRow: (item: T) => readonly unknown[],
    build: (at: (i: number) => never) => Compilable,
  ): Promise<R[] | undefined> {
    if (!this.caps.preparedRowWrites || !this.native) return undefined;
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
  private async insertValues<T extends object>(
    values: readonly T[],
    build: (rows: T[]) => Compilable & { execute(): Promise<unknown> },
    rowsPerStatement = ROWS_PER_STATEMENT,
  ): Promise<void> {
    if (values.length === 0) return;
    const keys = Object.keys(values[0]!) as (keyof T)[];
    const cols = keys.length;
    if (!this.caps.preparedRowWrites || !this.native || !this.db.isTransaction) {
      for (const chunk of this.chunks(values, cols)) await build(chunk).execute();
      return;
    }
    const writer = this.native.writer;
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
  private async selectRaw(query: Compilable): Promise<unknown[][] | undefined> {
    if (!this.caps.preparedRowWrites || !this.native) return undefined;
    const { sql: text, parameters } = query.compile();
    return this.withNative((n) => n.allRaw(text, parameters));
  }

  /**
   * Use the driver's statements of the connection this Store reads through,
   * holding it: inside a transaction the transaction already does; outside,
   * Kysely's `connection()` takes the reader connection for the call.
   */
  private async withNative<T>(fn: (n: NativeStatements) => T): Promise<T> {
    const native = this.native!;
    if (this.db.isTransaction) return fn(native.writer);
    return this.reader.connection().execute(async () => fn(native.reader()));
  }

  // ---------------------------------------------------------------- environments

  async createEnvironment(env: Environment): Promise<void> {
    try {
      await this.db
        .insertInto('environments')
        .values({
          id: env.id,
          uid: env.uid,
          name: env.name,
          tier: env.tier,
          hosts: json(env.hosts),
          version: env.version,
          parameters: json(env.parameters),
          target_owned: json(env.targetOwned),
          cloned_from: env.clonedFrom,
          locked_by: null,
          created_at: env.createdAt,
          updated_at: env.updatedAt,
        })
        .execute();
    } catch (e) {
      storeError(e);
    }
  }

  async getEnvironment(id: string): Promise<(Environment & { lockedBy: string | null }) | undefined> {
    const row = await this.read.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEnvironment(row) : undefined;
  }

  async listEnvironments(): Promise<(Environment & { lockedBy: string | null })[]> {
    const rows = await this.read.selectFrom('environments').selectAll().orderBy('id').execute();
    return rows.map(toEnvironment);
  }

  async updateEnvironment(id: string, patch: Partial<Pick<Environment, 'name' | 'tier' | 'hosts' | 'parameters' | 'targetOwned'>>): Promise<void> {
    const values: Partial<Record<string, unknown>> = { updated_at: now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.tier !== undefined) values.tier = patch.tier;
    if (patch.hosts !== undefined) values.hosts = json(patch.hosts);
    if (patch.parameters !== undefined) values.parameters = json(patch.parameters);
    if (patch.targetOwned !== undefined) values.target_owned = json(patch.targetOwned);
    await this.db.updateTable('environments').set(values).where('id', '=', id).execute();
  }

  /** Bump the version (every write does) and return the new one. */
  async bumpEnvironmentVersion(id: string): Promise<number> {
    await this.db
      .updateTable('environments')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: now() }))
      .where('id', '=', id)
      .execute();
    const row = await this.read.selectFrom('environments').select('version').where('id', '=', id).executeTakeFirstOrThrow();
    return row.version;
  }

  /** Bump every environment but one: a write to server-scoped objects changes what all of them see. */
  async bumpOtherEnvironmentVersions(exceptId: string): Promise<void> {
    await this.db
      .updateTable('environments')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', '!=', exceptId)
      .execute();
  }

  /** Take the install lock; false when another installation holds it. */
  async lockEnvironment(id: string, holder: string): Promise<boolean> {
    const res = await this.db.updateTable('environments').set({ locked_by: holder }).where('id', '=', id).where('locked_by', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async unlockEnvironment(id: string, holder: string): Promise<void> {
    await this.db.updateTable('environments').set({ locked_by: null }).where('id', '=', id).where('locked_by', '=', holder).execute();
  }

  /** Row lock on the environment for the length of the transaction (PostgreSQL); SQLite's writer lock covers it. */
  async lockEnvironmentRow(id: string): Promise<void> {
    if (!this.caps.supportsForUpdate) return;
    await sql`select id from environments where id = ${id} for update`.execute(this.db);
  }

  async deleteEnvironment(id: string): Promise<void> {
    await this.db.deleteFrom('environments').where('id', '=', id).execute();
  }

  // ---------------------------------------------------------------- objects

  /** Insert or replace objects, in batches. */
  async upsertObjects(rows: readonly ObjectRow[]): Promise<void> {
    const ts = now();
    try {
      await this.insertValues(
        rows.map((r) => objectValues(r, ts)),
        (values) =>
          this.db
            .insertInto('objects')
            .values(values)
            .onConflict((oc) =>
              oc.columns(['env_id', 'type', 'id']).doUpdateSet((eb) => ({
                name: eb.ref('excluded.name'),
                fields: eb.ref('excluded.fields'),
                hash: eb.ref('excluded.hash'),
                nkey: eb.ref('excluded.nkey'),
                owner_id: eb.ref('excluded.owner_id'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            ),
        1,
      );
    } catch (e) {
      storeError(e);
    }
  }

  /** Plain inserts of objects known not to exist (created by an install): cheaper than an upsert. */
  async insertObjects(rows: readonly ObjectRow[]): Promise<void> {
    const ts = now();
    try {
      await this.insertValues(
        rows.map((r) => objectValues(r, ts)),
        (values) => this.db.insertInto('objects').values(values),
        1,
      );
    } catch (e) {
      storeError(e);
    }
  }

  async deleteObjects(envId: string, keys: readonly KeyRef[]): Promise<number> {
    const fast = await this.runPerRow(
      keys,
      (k) => [k.type, k.id],
      (at) => this.db.deleteFrom('objects').where('env_id', '=', envId).where('type', '=', at(0)).where('id', '=', at(1)),
    );
    if (fast !== undefined) return fast;
    let n = 0;
    for (const [type, ids] of groupByType(keys)) {
      for (const chunk of this.chunks(ids, 1)) {
        const res = await this.db.deleteFrom('objects').where('env_id', '=', envId).where('type', '=', type).where('id', 'in', chunk).executeTakeFirst();
        n += Number(res.numDeletedRows);
      }
    }
    return n;
  }

  async getObject(envId: string, type: TypeCode, id: string): Promise<StoredObject | undefined> {
    const row = await this.read.selectFrom('objects').selectAll().where('env_id', '=', envId).where('type', '=', type).where('id', '=', id).executeTakeFirst();
    return row ? toObject(row) : undefined;
  }

  /** The objects among keys that exist (any order). */
  async getObjects(envId: string, keys: readonly KeyRef[]): Promise<StoredObject[]> {
    const fast = await this.allPerRow<KeyRef, ObjectsTable>(
      uniqueKeys(keys),
      (k) => [k.type, k.id],
      (at) => this.read.selectFrom('objects').selectAll().where('env_id', '=', envId).where('type', '=', at(0)).where('id', '=', at(1)),
    );
    if (fast) return fast.map(toObject);
    const out: StoredObject[] = [];
    for (const [type, ids] of groupByType(keys)) {
      for (const chunk of this.chunks(ids, 1)) {
        const rows = await this.read.selectFrom('objects').selectAll().where('env_id', '=', envId).where('type', '=', type).where('id', 'in', chunk).execute();
        for (const r of rows) out.push(toObject(r));
      }
    }
    return out;
  }

  /** Type, id and content hash of the objects among keys that exist: what drift and rollback checks need, without the fields. */
  async getObjectHashes(envId: string, keys: readonly KeyRef[]): Promise<{ type: TypeCode; id: string; hash: string }[]> {
    const query = (db: Db) => db.selectFrom('objects').select(['type', 'id', 'hash']).where('env_id', '=', envId);
    const fast = await this.allPerRow<KeyRef, { type: TypeCode; id: string; hash: string }>(
      uniqueKeys(keys),
      (k) => [k.type, k.id],
      (at) => query(this.read).where('type', '=', at(0)).where('id', '=', at(1)),
    );
    if (fast) return fast;
    const out: { type: TypeCode; id: string; hash: string }[] = [];
    for (const [type, ids] of groupByType(keys)) {
      for (const chunk of this.chunks(ids, 1)) out.push(...(await query(this.read).where('type', '=', type).where('id', 'in', chunk).execute()));
    }
    return out;
  }

  /**
   * The objects of `envId` that have the type and id of an entity of the
   * package: `keys` are those entities (all of the package's entities of
   * their types). A prepare looks up every entity by id; with
   * `caps.joinLookups` one join does it in the database, else keyed lookups.
   */
  async getObjectsLikePackage(envId: string, packageId: string, keys: readonly KeyRef[]): Promise<StoredObject[]> {
    if (keys.length === 0) return [];
    if (!this.caps.joinLookups) return this.getObjects(envId, keys);
    const types = [...new Set(keys.map((k) => k.type))];
    const rows = await this.read
      .selectFrom('package_entities as pe')
      .innerJoin('objects as o', (j) => j.onRef('o.type', '=', 'pe.type').onRef('o.id', '=', 'pe.id'))
      .selectAll('o')
      .where('pe.package_id', '=', packageId)
      .where('pe.type', 'in', types)
      .where('o.env_id', '=', envId)
      .execute();
    return rows.map(toObject);
  }

  /** Objects of `types` whose owner is one of ownerIds. */
  async getChildren(envId: string, ownerIds: readonly string[], types: readonly TypeCode[]): Promise<StoredObject[]> {
    if (types.length === 0 || ownerIds.length === 0) return [];
    const fast = await this.allPerRow<string, ObjectsTable>(
      [...new Set(ownerIds)],
      (id) => [id],
      (at) =>
        this.read
          .selectFrom('objects')
          .selectAll()
          .where('env_id', '=', envId)
          .where('owner_id', '=', at(0))
          .where('type', 'in', types as TypeCode[]),
    );
    if (fast) return fast.map(toObject);
    const out: StoredObject[] = [];
    for (const chunk of this.chunks(ownerIds, 1)) {
      const rows = await this.read
        .selectFrom('objects')
        .selectAll()
        .where('env_id', '=', envId)
        .where('owner_id', 'in', chunk)
        .where('type', 'in', types as TypeCode[])
        .execute();
      for (const r of rows) out.push(toObject(r));
    }
    return out;
  }

  /**
   * Objects of `type` whose fields mention one of `ids` as a JSON string: a
   * coarse filter (LIKE over the fields text, no index) for finding what
   * refers to an object; the caller checks the refs themselves. Used only
   * for removals, which are few.
   */
  async findMentioning(envId: string, type: TypeCode, ids: readonly string[]): Promise<StoredObject[]> {
    const out = new Map<string, StoredObject>();
    const pattern = (id: string) => `%${JSON.stringify(id).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      const rows = await this.read
        .selectFrom('objects')
        .selectAll()
        .where('env_id', '=', envId)
        .where('type', '=', type)
        .where(
          sql<boolean>`(${sql.join(
            chunk.map((id) => sql`fields like ${pattern(id)} escape '\\'`),
            sql` or `,
          )})`,
        )
        .execute();
      for (const r of rows) out.set(r.id, toObject(r));
    }
    return [...out.values()];
  }

  /** Objects of one type whose natural key is one of nkeys. */
  async findByNaturalKey(envId: string, type: TypeCode, nkeys: readonly string[]): Promise<(StoredObject & { nkey: string })[]> {
    const fast = await this.allPerRow<string, ObjectsTable>(
      [...new Set(nkeys)],
      (nk) => [nk],
      (at) => this.read.selectFrom('objects').selectAll().where('env_id', '=', envId).where('type', '=', type).where('nkey', '=', at(0)),
    );
    if (fast) return fast.map((r) => ({ ...toObject(r), nkey: r.nkey ?? '' }));
    const out: (StoredObject & { nkey: string })[] = [];
    for (const chunk of this.chunks(nkeys, 1)) {
      const rows = await this.read.selectFrom('objects').selectAll().where('env_id', '=', envId).where('type', '=', type).where('nkey', 'in', chunk).execute();
      for (const r of rows) out.push({ ...toObject(r), nkey: r.nkey ?? '' });
    }
    return out;
  }

  async listObjects(
    envIds: readonly string[],
    opts: { type?: TypeCode; limit?: number; offset?: number } = {},
  ): Promise<{ items: StoredObject[]; total: number }> {
    let q = this.read.selectFrom('objects').where('env_id', 'in', envIds as string[]);
    if (opts.type) q = q.where('type', '=', opts.type);
    const totalRow = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q
      .selectAll()
      .orderBy('type')
      .orderBy('id')
      .limit(opts.limit ?? 100)
      .offset(opts.offset ?? 0)
      .execute();
    return { items: rows.map(toObject), total: Number(totalRow.n) };
  }

  async countObjects(envId: string): Promise<number> {
    const row = await this.read
      .selectFrom('objects')
      .where('env_id', '=', envId)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Copy every object of one environment into another, ids unchanged (clone). */
  async copyObjects(fromEnv: string, toEnv: string): Promise<number> {
    const ts = now();
    const res = await this.db
      .insertInto('objects')
      .columns(['env_id', 'type', 'id', 'name', 'fields', 'hash', 'nkey', 'owner_id', 'updated_at'])
      .expression((eb) =>
        eb
          .selectFrom('objects')
          .select([sql.lit(toEnv).as('env_id'), 'type', 'id', 'name', 'fields', 'hash', 'nkey', 'owner_id', sql.lit(ts).as('updated_at')])
          .where('env_id', '=', fromEnv),
      )
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0);
  }

  // ---------------------------------------------------------------- packages

  async createPackage(p: Package): Promise<void> {
    await this.db.insertInto('packages').values(packageValues(p)).execute();
  }

  async getPackage(id: string): Promise<Package | undefined> {
    const row = await this.read.selectFrom('packages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toPackage(row) : undefined;
  }

  async listPackages(opts: { sourceEnvIds?: readonly string[] } = {}): Promise<Package[]> {
    let q = this.read.selectFrom('packages').selectAll();
    // An empty id list selects nothing (PostgreSQL refuses a NUL placeholder, and `IN ()` is not SQL).
    if (opts.sourceEnvIds?.length === 0) return [];
    if (opts.sourceEnvIds) q = q.where('source_env_id', 'in', opts.sourceEnvIds as string[]);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toPackage);
  }

  async updatePackage(p: Package): Promise<void> {
    const { id, ...values } = packageValues(p);
    await this.db.updateTable('packages').set(values).where('id', '=', id).execute();
  }

  async deletePackage(id: string): Promise<void> {
    await this.db.deleteFrom('package_entities').where('package_id', '=', id).execute();
    await this.db.deleteFrom('packages').where('id', '=', id).execute();
  }

  /** `fieldsJson`, when given, is the fields already serialized (see contentHashAndFields): stored as is. */
  async insertPackageEntities(packageId: string, entities: readonly (PackageEntity & { fieldsJson?: string })[]): Promise<void> {
    try {
      await this.insertValues(
        entities.map((e) => ({
          package_id: packageId,
          type: e.type,
          id: e.id,
          name: e.name,
          fields: e.fieldsJson ?? json(e.fields),
          hash: e.hash,
          ord: e.ord,
          via: e.via ? json(e.via) : null,
        })),
        (values) => this.db.insertInto('package_entities').values(values),
      );
    } catch (e) {
      storeError(e);
    }
  }

  async deletePackageEntities(packageId: string): Promise<void> {
    await this.db.deleteFrom('package_entities').where('package_id', '=', packageId).execute();
  }

  /** Entities in install order, one page; stream with `iteratePackageEntities`. */
  async getPackageEntities(packageId: string, opts: { type?: TypeCode; limit?: number; afterOrd?: number; lean?: boolean } = {}): Promise<PackageEntity[]> {
    // `lean` leaves out `via` (returned as null): plans, installs and
    // exports never read it, and a 100k package reads faster without it.
    let q = this.read
      .selectFrom('package_entities')
      .select(['type', 'id', 'name', 'fields', 'hash', 'ord'])
      .$if(!opts.lean, (qb) => qb.select('via'))
      .where('package_id', '=', packageId);
    if (opts.type) q = q.where('type', '=', opts.type);
    if (opts.afterOrd !== undefined) q = q.where('ord', '>', opts.afterOrd);
    q = q.orderBy('ord');
    if (opts.limit !== undefined) q = q.limit(opts.limit);
    const entity = (type: unknown, id: unknown, name: unknown, fields: unknown, hash: unknown, ord: unknown, via: unknown): PackageEntity => ({
      type: type as TypeCode,
      id: id as string,
      name: name as string,
      fields: JSON.parse(fields as string) as Record<string, unknown>,
      hash: hash as string,
      ord: Number(ord),
      via: opts.lean ? null : parse<Via | null>(via as string | null),
    });
    const raw = await this.selectRaw(q);
    if (raw) return raw.map((r) => entity(r[0], r[1], r[2], r[3], r[4], r[5], r[6] ?? null));
    return (await q.execute()).map((r) => entity(r.type, r.id, r.name, r.fields, r.hash, r.ord, r.via ?? null));
  }

  async getPackageEntitiesByKey(packageId: string, keys: readonly KeyRef[]): Promise<PackageEntity[]> {
    const out: PackageEntity[] = [];
    for (const [type, ids] of groupByType(keys)) {
      for (const chunk of this.chunks(ids, 1)) {
        const rows = await this.read
          .selectFrom('package_entities')
          .selectAll()
          .where('package_id', '=', packageId)
          .where('type', '=', type)
          .where('id', 'in', chunk)
          .execute();
        for (const r of rows) out.push(toEntity(r));
      }
    }
    return out;
  }

  /** Keyset-paged stream of a package's entities in install order. */
  async *iteratePackageEntities(packageId: string, pageSize = 2000, opts: { lean?: boolean } = {}): AsyncGenerator<PackageEntity> {
    for await (const page of this.pagePackageEntities(packageId, pageSize, opts)) yield* page;
  }

  /** A package's entities in install order, a page (keyset on `ord`) at a time. */
  async *pagePackageEntities(packageId: string, pageSize = 2000, opts: { lean?: boolean } = {}): AsyncGenerator<PackageEntity[]> {
    let after = -1;
    for (;;) {
      const page = await this.getPackageEntities(packageId, { afterOrd: after, limit: pageSize, lean: opts.lean });
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.ord;
    }
  }

  // ---------------------------------------------------------------- installations

  async createInstallation(i: Installation): Promise<void> {
    await this.db.insertInto('installations').values(installationValues(i)).execute();
  }

  /** What a plan's refs outside the package resolve to in the target (key(type, sourceId) -> target id). */
  async setPlanExternals(installationId: string, externals: ReadonlyMap<string, string>): Promise<void> {
    await this.db
      .updateTable('installations')
      .set({ externals: json([...externals]) })
      .where('id', '=', installationId)
      .execute();
  }

  /** setPlanExternals' map, or undefined for a plan prepared before 0003. */
  async getPlanExternals(installationId: string): Promise<Map<string, string> | undefined> {
    const row = await this.read.selectFrom('installations').select('externals').where('id', '=', installationId).executeTakeFirst();
    return row?.externals ? new Map(JSON.parse(row.externals) as [string, string][]) : undefined;
  }

  async updateInstallation(i: Installation): Promise<void> {
    const { id, ...values } = installationValues(i);
    await this.db.updateTable('installations').set(values).where('id', '=', id).execute();
  }

  async getInstallation(id: string): Promise<Installation | undefined> {
    const row = await this.read.selectFrom('installations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toInstallation(row) : undefined;
  }

  async listInstallations(opts: { packageId?: string; targetEnvIds?: readonly string[]; status?: InstallationStatus } = {}): Promise<Installation[]> {
    let q = this.read.selectFrom('installations').selectAll();
    if (opts.packageId) q = q.where('package_id', '=', opts.packageId);
    if (opts.targetEnvIds?.length === 0) return [];
    if (opts.targetEnvIds) q = q.where('target_env_id', 'in', opts.targetEnvIds as string[]);
    if (opts.status) q = q.where('status', '=', opts.status);
    const rows = await q.orderBy('registered_at').orderBy('id').execute();
    return rows.map(toInstallation);
  }

  /** Store a plan's entries; `newId` gives the id an entry's object will get if the install creates it (minted at prepare). */
  async insertEntries(installationId: string, entries: readonly PlanEntry[], newId: (e: PlanEntry) => string | null = () => null): Promise<void> {
    try {
      await this.insertValues(
        entries.map((e) => entryValues(installationId, e, newId(e))),
        (values) => this.db.insertInto('installation_entries').values(values),
      );
    } catch (e) {
      storeError(e);
    }
  }

  /** Record the install outcome of some entries (the exceptions to OUTCOMES, see getEntries), one row each. */
  async setEntryOutcomes(installationId: string, outcomes: readonly EntryOutcome[]): Promise<void> {
    const update = (at: (i: number) => never) =>
      this.db
        .updateTable('installation_entries')
        .set({ installation_status: at(0), target_id: at(1), status_reason: at(2) })
        .where('installation_id', '=', installationId)
        .where('type', '=', at(3))
        .where('source_id', '=', at(4));
    const values = (e: EntryOutcome) => [e.installationStatus, e.targetId, e.statusReason, e.type, e.sourceId];
    const fast = await this.runPerRow(outcomes, values, update);
    if (fast !== undefined) return;
    for (const o of outcomes) {
      const v = values(o);
      await update((i) => v[i] as never).execute();
    }
  }

  /** What an install needs of each entry, in plan order: fewer columns to read than getEntries (a third of the time at 100k). */
  async getInstallEntries(installationId: string): Promise<InstallEntry[]> {
    const q = this.read
      .selectFrom('installation_entries')
      .select(['type', 'source_id', 'action', 'target_id', 'is_valid', 'reason', 'ord', 'new_id'])
      .where('installation_id', '=', installationId)
      .orderBy('ord');
    const entry = (
      type: unknown,
      sourceId: unknown,
      action: unknown,
      targetId: unknown,
      isValid: unknown,
      reason: unknown,
      ord: unknown,
      newId: unknown,
    ): InstallEntry => ({
      type: type as TypeCode,
      sourceId: sourceId as string,
      action: action as Action,
      targetId: targetId as string | null,
      isValid: Number(isValid) === 1,
      reason: reason as string | null,
      ord: Number(ord),
      newId: newId as string | null,
    });
    const raw = await this.selectRaw(q);
    if (raw) return raw.map((r) => entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]));
    return (await q.execute()).map((r) => entry(r.type, r.source_id, r.action, r.target_id, r.is_valid, r.reason, r.ord, r.new_id));
  }

  /** Replace all entries of an installation (re-validation after overrides). */
  async replaceEntries(installationId: string, entries: readonly PlanEntry[], newId?: (e: PlanEntry) => string | null): Promise<void> {
    await this.db.deleteFrom('installation_entries').where('installation_id', '=', installationId).execute();
    await this.insertEntries(installationId, entries, newId);
  }

  /**
   * The entries of an installation, in plan order, with their install
   * outcomes. A completed install does not rewrite its entries (100k rows
   * for a 100k-object package): an entry still PENDING in a COMPLETED (or
   * later ROLLED_BACK) installation reads as the outcome of its action
   * (OUTCOMES), and a CREATE's target id as the id minted for it at prepare.
   * Only outcomes that differ are stored (setEntryOutcomes).
   */
  async getEntries(installationId: string, opts: { type?: TypeCode } = {}): Promise<PlanEntry[]> {
    const inst = await this.read.selectFrom('installations').select('status').where('id', '=', installationId).executeTakeFirst();
    let q = this.read.selectFrom('installation_entries').selectAll().where('installation_id', '=', installationId);
    if (opts.type) q = q.where('type', '=', opts.type);
    const rows = await q.orderBy('ord').execute();
    const installed = inst?.status === 'COMPLETED' || inst?.status === 'ROLLED_BACK';
    return rows.map((r) => {
      const e = toEntry(r);
      if (!installed || e.installationStatus !== 'PENDING') return e;
      const o = OUTCOMES[e.action];
      return { ...e, installationStatus: o.status, statusReason: o.reason, targetId: e.action === 'CREATE' ? r.new_id : e.targetId };
    });
  }

  /** Set the per-object install outcome; entries keyed by (type, sourceId). */
  async setEntryStatuses(
    installationId: string,
    updates: readonly { type: TypeCode; sourceId: string; status: EntryStatus; reason: string | null; targetId: string | null }[],
  ): Promise<void> {
    // One UPDATE per status value with an IN list keeps this a handful of
    // statements even for 100k entries (statuses repeat, ids do not).
    const groups = new Map<string, { type: TypeCode; ids: string[]; status: EntryStatus; reason: string | null }>();
    const withTarget: (typeof updates)[number][] = [];
    for (const u of updates) {
      if (u.targetId !== null) {
        withTarget.push(u);
        continue;
      }
      const k = `${u.type}\u0000${u.status}\u0000${u.reason ?? ''}`;
      const g = groups.get(k) ?? { type: u.type, ids: [], status: u.status, reason: u.reason };
      g.ids.push(u.sourceId);
      groups.set(k, g);
    }
    for (const g of groups.values()) {
      for (const chunk of this.chunks(g.ids, 1)) {
        await this.db
          .updateTable('installation_entries')
          .set({ installation_status: g.status, status_reason: g.reason })
          .where('installation_id', '=', installationId)
          .where('type', '=', g.type)
          .where('source_id', 'in', chunk)
          .execute();
      }
    }
    for (const u of withTarget) {
      await this.db
        .updateTable('installation_entries')
        .set({ installation_status: u.status, status_reason: u.reason, target_id: u.targetId })
        .where('installation_id', '=', installationId)
        .where('type', '=', u.type)
        .where('source_id', '=', u.sourceId)
        .execute();
    }
  }

  // ---------------------------------------------------------------- id map

  async getIdMap(envId: string, sourceUid: string, keys: readonly KeyRef[]): Promise<IdMapEntry[]> {
    const fast = await this.allPerRow<KeyRef, Database['id_map']>(
      uniqueKeys(keys),
      (k) => [k.type, k.id],
      (at) =>
        this.read
          .selectFrom('id_map')
          .selectAll()
          .where('env_id', '=', envId)
          .where('source_uid', '=', sourceUid)
          .where('type', '=', at(0))
          .where('source_id', '=', at(1)),
    );
    if (fast) return fast.map((r) => ({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, targetId: r.target_id, hash: r.hash }));
    const out: IdMapEntry[] = [];
    for (const [type, ids] of groupByType(keys)) {
      for (const chunk of this.chunks(ids, 1)) {
        const rows = await this.read
          .selectFrom('id_map')
          .selectAll()
          .where('env_id', '=', envId)
          .where('source_uid', '=', sourceUid)
          .where('type', '=', type)
          .where('source_id', 'in', chunk)
          .execute();
        for (const r of rows) out.push({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, targetId: r.target_id, hash: r.hash });
      }
    }
    return out;
  }

  /** The ID map rows of a target for the entities of a package (`keys`: all of them), by join where the dialect prefers (see getObjectsLikePackage). */
  async getIdMapForPackage(envId: string, sourceUid: string, packageId: string, keys: readonly KeyRef[]): Promise<IdMapEntry[]> {
    if (!this.caps.joinLookups) return this.getIdMap(envId, sourceUid, keys);
    const rows = await this.read
      .selectFrom('package_entities as pe')
      .innerJoin('id_map as m', (j) => j.onRef('m.type', '=', 'pe.type').onRef('m.source_id', '=', 'pe.id'))
      .selectAll('m')
      .where('pe.package_id', '=', packageId)
      .where('m.env_id', '=', envId)
      .where('m.source_uid', '=', sourceUid)
      .execute();
    return rows.map((r) => ({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, targetId: r.target_id, hash: r.hash }));
  }

  async upsertIdMap(envId: string, installationId: string, rows: readonly IdMapEntry[]): Promise<void> {
    await this.insertValues(
      rows.map((r) => ({
        env_id: envId,
        source_uid: r.sourceUid,
        type: r.type,
        source_id: r.sourceId,
        target_id: r.targetId,
        hash: r.hash,
        installation_id: installationId,
      })),
      (values) =>
        this.db
          .insertInto('id_map')
          .values(values)
          .onConflict((oc) =>
            oc.columns(['env_id', 'source_uid', 'type', 'source_id']).doUpdateSet((eb) => ({
              target_id: eb.ref('excluded.target_id'),
              hash: eb.ref('excluded.hash'),
              installation_id: eb.ref('excluded.installation_id'),
            })),
          ),
    );
  }

  async deleteIdMap(envId: string, sourceUid: string, keys: readonly KeyRef[]): Promise<void> {
    const fast = await this.runPerRow(
      keys,
      (k) => [k.type, k.id],
      (at) =>
        this.db.deleteFrom('id_map').where('env_id', '=', envId).where('source_uid', '=', sourceUid).where('type', '=', at(0)).where('source_id', '=', at(1)),
    );
    if (fast !== undefined) return;
    for (const [type, ids] of groupByType(keys)) {
      for (const chunk of this.chunks(ids, 1)) {
        await this.db
          .deleteFrom('id_map')
          .where('env_id', '=', envId)
          .where('source_uid', '=', sourceUid)
          .where('type', '=', type)
          .where('source_id', 'in', chunk)
          .execute();
      }
    }
  }

  async getIdMapForInstallation(envId: string, installationId: string): Promise<IdMapEntry[]> {
    const rows = await this.read.selectFrom('id_map').selectAll().where('env_id', '=', envId).where('installation_id', '=', installationId).execute();
    return rows.map((r) => ({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, targetId: r.target_id, hash: r.hash }));
  }

  // ---------------------------------------------------------------- restore points

  /** Restore points of an installation, as numbered chunks (`seq` 0, 1, ...), in order. */
  async insertRestoreChunks(installationId: string, chunks: readonly (readonly RestorePointRow[])[]): Promise<void> {
    await this.insertValues(
      chunks.map((points, seq) => ({ installation_id: installationId, seq, points: json(points) })),
      (values) => this.db.insertInto('restore_chunks').values(values),
    );
  }

  /** Every restore point of an installation, in the order they were taken (chunks, or one row each before 0003). */
  async getRestorePoints(installationId: string): Promise<RestorePointRow[]> {
    const out: RestorePointRow[] = [];
    const legacy = await this.read.selectFrom('restore_points').selectAll().where('installation_id', '=', installationId).orderBy('seq').execute();
    for (const r of legacy)
      out.push({ envId: r.env_id, type: r.type, targetId: r.target_id, before: parse<StoredObject | null>(r.before), afterHash: r.after_hash });
    const chunks = await this.read.selectFrom('restore_chunks').select('points').where('installation_id', '=', installationId).orderBy('seq').execute();
    for (const c of chunks) for (const p of JSON.parse(c.points) as RestorePointRow[]) out.push(p);
    return out;
  }

  // ---------------------------------------------------------------- decisions

  async getDecisions(envId: string, sourceUid: string): Promise<Decision[]> {
    const rows = await this.read.selectFrom('decisions').selectAll().where('env_id', '=', envId).where('source_uid', '=', sourceUid).execute();
    return rows.map((r) => ({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, action: r.action as Action, targetId: r.target_id }));
  }

  async upsertDecisions(envId: string, decisions: readonly Decision[]): Promise<void> {
    const ts = now();
    for (const chunk of this.chunks(decisions, 7)) {
      await this.db
        .insertInto('decisions')
        .values(
          chunk.map((d) => ({
            env_id: envId,
            source_uid: d.sourceUid,
            type: d.type,
            source_id: d.sourceId,
            action: d.action,
            target_id: d.targetId,
            updated_at: ts,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['env_id', 'source_uid', 'type', 'source_id']).doUpdateSet((eb) => ({
            action: eb.ref('excluded.action'),
            target_id: eb.ref('excluded.target_id'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  }

  // ---------------------------------------------------------------- audit

  async appendAudit(e: Omit<AuditEntry, 'seq' | 'at'> & { at?: string }): Promise<void> {
    await this.db
      .insertInto('audit')
      .values({
        at: e.at ?? now(),
        actor: e.actor,
        address: e.address,
        action: e.action,
        env_id: e.envId,
        subject: e.subject,
        result: e.result,
        detail: json(e.detail),
      })
      .execute();
  }

  async listAudit(opts: { envId?: string; actor?: string; since?: string; until?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    let q = this.read.selectFrom('audit').selectAll();
    if (opts.envId) q = q.where('env_id', '=', opts.envId);
    if (opts.actor) q = q.where('actor', '=', opts.actor);
    if (opts.since) q = q.where('at', '>=', opts.since);
    if (opts.until) q = q.where('at', '<=', opts.until);
    const rows = await q
      .orderBy('seq', 'desc')
      .limit(opts.limit ?? 100)
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at,
      actor: r.actor,
      address: r.address,
      action: r.action,
      envId: r.env_id,
      subject: r.subject,
      result: r.result,
      detail: parse<Record<string, unknown>>(r.detail),
    }));
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

// ------------------------------------------------------------------ row mapping

/** Each key once (an IN list dedupes by itself; a lookup per key must be told). */
function uniqueKeys(keys: readonly KeyRef[]): KeyRef[] {
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

function objectValues(r: ObjectRow, ts: string): ObjectsTable {
  return {
    env_id: r.envId,
    type: r.type,
    id: r.id,
    name: r.name,
    fields: r.fieldsJson ?? json(r.fields),
    hash: r.hash,
    nkey: r.nkey,
    owner_id: r.ownerId,
    updated_at: ts,
  };
}

function toObject(r: ObjectsTable): StoredObject {
  return { type: r.type, id: r.id, name: r.name, fields: JSON.parse(r.fields) as Record<string, unknown>, hash: r.hash, updatedAt: r.updated_at };
}

function toEnvironment(r: Database['environments']): Environment & { lockedBy: string | null } {
  return {
    id: r.id,
    uid: r.uid,
    name: r.name,
    tier: r.tier as Tier,
    hosts: parse<string[]>(r.hosts),
    version: Number(r.version),
    parameters: parse<Record<string, string>>(r.parameters),
    targetOwned: parse<Record<string, string[]>>(r.target_owned),
    clonedFrom: r.cloned_from,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lockedBy: r.locked_by,
  };
}

function packageValues(p: Package): Database['packages'] {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    source_env_id: p.sourceEnvId,
    source_env_uid: p.sourceEnvUid,
    source_url: p.sourceUrl,
    source_tier: p.sourceTier,
    status: p.status,
    version: p.version,
    object_collections: json(p.objectCollections),
    removals: json(p.removals),
    metadata: json(p.metadata),
    entity_count: p.entityCount,
    counts_by_type: json(p.countsByType),
    assembly_error: p.assemblyError,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    published_at: p.publishedAt,
    retired_at: p.retiredAt,
    created_by: p.createdBy,
  };
}

function toPackage(r: Database['packages']): Package {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    sourceEnvId: r.source_env_id,
    sourceEnvUid: r.source_env_uid,
    sourceUrl: r.source_url,
    sourceTier: r.source_tier as Tier,
    status: r.status as PackageStatus,
    version: Number(r.version),
    objectCollections: parse<ObjectCollection[]>(r.object_collections),
    removals: parse<ObjectRef[]>(r.removals),
    metadata: parse<PackageMetadata>(r.metadata),
    entityCount: Number(r.entity_count),
    countsByType: parse<Record<string, number>>(r.counts_by_type),
    assemblyError: r.assembly_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    publishedAt: r.published_at,
    retiredAt: r.retired_at,
    createdBy: r.created_by,
  };
}

function toEntity(r: Database['package_entities']): PackageEntity {
  return {
    type: r.type,
    id: r.id,
    name: r.name,
    fields: JSON.parse(r.fields) as Record<string, unknown>,
    hash: r.hash,
    ord: Number(r.ord),
    via: parse<Via | null>(r.via),
  };
}

function installationValues(i: Installation): Database['installations'] {
  return {
    id: i.id,
    package_id: i.packageId,
    package_version: i.packageVersion,
    target_env_id: i.targetEnvId,
    source_env_uid: i.sourceEnvUid,
    status: i.status,
    prepared_at_version: i.preparedAtVersion,
    force: i.force ? 1 : 0,
    user_id: i.userId,
    summary: json(i.summary),
    error: i.error,
    registered_at: i.registeredAt,
    updated_at: i.updatedAt,
    installed_at: i.installedAt,
    rolled_back_at: i.rolledBackAt,
  };
}

function toInstallation(r: Database['installations']): Installation {
  return {
    id: r.id,
    packageId: r.package_id,
    packageVersion: Number(r.package_version),
    targetEnvId: r.target_env_id,
    sourceEnvUid: r.source_env_uid,
    status: r.status as InstallationStatus,
    preparedAtVersion: Number(r.prepared_at_version),
    force: Number(r.force) === 1,
    userId: r.user_id,
    summary: parse<PlanSummary>(r.summary),
    error: r.error,
    registeredAt: r.registered_at,
    updatedAt: r.updated_at,
    installedAt: r.installed_at,
    rolledBackAt: r.rolled_back_at,
  };
}

function entryValues(installationId: string, e: PlanEntry, newId: string | null): Database['installation_entries'] {
  return {
    installation_id: installationId,
    type: e.type,
    source_id: e.sourceId,
    name: e.name,
    action: e.action,
    auto_action: e.autoAction,
    is_valid: e.isValid ? 1 : 0,
    reason: e.reason,
    target_id: e.targetId,
    match: e.match,
    drift: e.drift ? 1 : 0,
    changes: json(e.changes),
    ord: e.ord,
    installation_status: e.installationStatus,
    status_reason: e.statusReason,
    new_id: newId,
  };
}

function toEntry(r: Database['installation_entries']): PlanEntry {
  return {
    type: r.type,
    sourceId: r.source_id,
    name: r.name,
    action: r.action as Action,
    autoAction: r.auto_action as Action,
    isValid: Number(r.is_valid) === 1,
    reason: r.reason,
    targetId: r.target_id,
    match: r.match as MatchKind,
    drift: Number(r.drift) === 1,
    changes: parse<string[]>(r.changes),
    ord: Number(r.ord),
    installationStatus: r.installation_status as EntryStatus,
    statusReason: r.status_reason,
  };
}
