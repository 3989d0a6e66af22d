import type { ObjectCollection, ObjectRef, Package, PackageEntity, PackageMetadata, PackageStatus, Tier, TypeCode, Via } from '../core/types.js';
import { Repository, groupByType, json, parse, storeError, type KeyRef } from './repository.js';
import type { Database } from './schema.js';

/** Packages and their frozen entities (a package's entities live and die with it). */
export class PackagesRepository extends Repository {
  async create(p: Package): Promise<void> {
    await this.db.insertInto('packages').values(packageValues(p)).execute();
  }

  async get(id: string): Promise<Package | undefined> {
    const row = await this.read.selectFrom('packages').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toPackage(row) : undefined;
  }

  async list(opts: { sourceEnvIds?: readonly string[] } = {}): Promise<Package[]> {
    let q = this.read.selectFrom('packages').selectAll();
    // An empty id list selects nothing (PostgreSQL refuses a NUL placeholder, and `IN ()` is not SQL).
    if (opts.sourceEnvIds?.length === 0) return [];
    if (opts.sourceEnvIds) q = q.where('source_env_id', 'in', opts.sourceEnvIds as string[]);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toPackage);
  }

  async update(p: Package): Promise<void> {
    const { id, ...values } = packageValues(p);
    await this.db.updateTable('packages').set(values).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('package_entities').where('package_id', '=', id).execute();
    await this.db.deleteFrom('packages').where('id', '=', id).execute();
  }

  /** `fieldsJson`, when given, is the fields already serialized (see contentHashAndFields): stored as is. */
  async insertEntities(packageId: string, entities: readonly (PackageEntity & { fieldsJson?: string })[]): Promise<void> {
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

  async deleteEntities(packageId: string): Promise<void> {
    await this.db.deleteFrom('package_entities').where('package_id', '=', packageId).execute();
  }

  /** Entities in install order, one page; stream with `iterateEntities`. */
  async getEntities(packageId: string, opts: { type?: TypeCode; limit?: number; afterOrd?: number; lean?: boolean } = {}): Promise<PackageEntity[]> {
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

  async getEntitiesByKey(packageId: string, keys: readonly KeyRef[]): Promise<PackageEntity[]> {
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
  async *iterateEntities(packageId: string, pageSize = 2000, opts: { lean?: boolean } = {}): AsyncGenerator<PackageEntity> {
    for await (const page of this.pageEntities(packageId, pageSize, opts)) yield* page;
  }

  /** A package's entities in install order, a page (keyset on `ord`) at a time. */
  async *pageEntities(packageId: string, pageSize = 2000, opts: { lean?: boolean } = {}): AsyncGenerator<PackageEntity[]> {
    let after = -1;
    for (;;) {
      const page = await this.getEntities(packageId, { afterOrd: after, limit: pageSize, lean: opts.lean });
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.ord;
    }
  }
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
