import { sql } from 'kysely';
import type { StoredObject, TypeCode } from '../core/types.js';
import { Repository, groupByType, json, now, storeError, uniqueKeys, type Db, type KeyRef } from './repository.js';
import type { ObjectsTable } from './schema.js';

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

/**
 * Configuration objects of every environment (and of the server scope),
 * read by key, owner, natural key or content; every multi-row write batched.
 */
export class ObjectsRepository extends Repository {
  /** Insert or replace objects, in batches. */
  async upsert(rows: readonly ObjectRow[]): Promise<void> {
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

  /**
   * Plain inserts of objects known not to exist (created by an install):
   * cheaper than an upsert. On the per-row path each row is bound straight
   * from the ObjectRow (no column object built per row and flattened again:
   * an install creates ~100k of them).
   */
  async insert(rows: readonly ObjectRow[]): Promise<void> {
    const ts = now();
    try {
      const fast = await this.runPerRow(
        rows,
        (r) => [r.envId, r.type, r.id, r.name, r.fieldsJson ?? json(r.fields), r.hash, r.nkey, r.ownerId, ts],
        (at) =>
          this.db.insertInto('objects').values({
            env_id: at(0),
            type: at(1),
            id: at(2),
            name: at(3),
            fields: at(4),
            hash: at(5),
            nkey: at(6),
            owner_id: at(7),
            updated_at: at(8),
          }),
      );
      if (fast !== undefined) return;
      await this.insertValues(
        rows.map((r) => objectValues(r, ts)),
        (values) => this.db.insertInto('objects').values(values),
        1,
      );
    } catch (e) {
      storeError(e);
    }
  }

  async delete(envId: string, keys: readonly KeyRef[]): Promise<number> {
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

  async get(envId: string, type: TypeCode, id: string): Promise<StoredObject | undefined> {
    const row = await this.read.selectFrom('objects').selectAll().where('env_id', '=', envId).where('type', '=', type).where('id', '=', id).executeTakeFirst();
    return row ? toObject(row) : undefined;
  }

  /** The objects among keys that exist (any order). */
  async getMany(envId: string, keys: readonly KeyRef[]): Promise<StoredObject[]> {
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
  async getHashes(envId: string, keys: readonly KeyRef[]): Promise<{ type: TypeCode; id: string; hash: string }[]> {
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
  async getLikePackage(envId: string, packageId: string, keys: readonly KeyRef[]): Promise<StoredObject[]> {
    if (keys.length === 0) return [];
    if (!this.caps.joinLookups) return this.getMany(envId, keys);
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

  async list(envIds: readonly string[], opts: { type?: TypeCode; limit?: number; offset?: number } = {}): Promise<{ items: StoredObject[]; total: number }> {
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

  async count(envId: string): Promise<number> {
    const row = await this.read
      .selectFrom('objects')
      .where('env_id', '=', envId)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Objects of an environment, per type (a clone copies type by type, reporting progress). */
  async countByType(envId: string): Promise<Map<TypeCode, number>> {
    const rows = await this.read
      .selectFrom('objects')
      .where('env_id', '=', envId)
      .select((eb) => ['type', eb.fn.countAll<number>().as('n')])
      .groupBy('type')
      .execute();
    return new Map(rows.map((r) => [r.type, Number(r.n)]));
  }

  /** Copy every object of one environment (of one type, when given) into another, ids unchanged (clone). */
  async copy(fromEnv: string, toEnv: string, type?: TypeCode): Promise<number> {
    const ts = now();
    const res = await this.db
      .insertInto('objects')
      .columns(['env_id', 'type', 'id', 'name', 'fields', 'hash', 'nkey', 'owner_id', 'updated_at'])
      .expression((eb) => {
        const q = eb
          .selectFrom('objects')
          .select([sql.lit(toEnv).as('env_id'), 'type', 'id', 'name', 'fields', 'hash', 'nkey', 'owner_id', sql.lit(ts).as('updated_at')])
          .where('env_id', '=', fromEnv);
        return type === undefined ? q : q.where('type', '=', type);
      })
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0);
  }
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
