import type { Kysely, Transaction } from 'kysely';
import type { FerryObject, TypeCode } from '../core/types.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * Tables of project duplication (migration `0005_duplications`): the
 * duplication records of 004 (one per side a server plays), and the project
 * properties 004 sets that an environment does not have (description,
 * locales). Same portability rules as schema.ts.
 */
export interface DuplicationsTable {
  /** 32 hex digits, upper case; the same on the source and the target server. */
  id: string;
  /** `source` (exports for another server), `target` (imports from one), `local` (both on this server). */
  role: string;
  status: string;
  progress: number;
  message: string;
  /** `{source, target, settings}` as the record shows them (JSON). */
  body: string;
  /** The environment duplicated from, on this server (source and local records). */
  source_env_id: string | null;
  /** The environment created on this server, once it exists (target and local records). */
  target_env_id: string | null;
  operation_id: string | null;
  /** The package in the file store (source: the export; target: the download or upload). */
  file_id: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProjectPropertiesTable {
  /** The environment's uid: never reused, unlike an environment id. */
  env_uid: string;
  description: string;
  default_locale: number;
  /** JSON array of locale ids. */
  locales: string;
  updated_at: string;
}

interface DuplicationDatabase extends Database {
  duplications: DuplicationsTable;
  project_properties: ProjectPropertiesTable;
}

export interface DuplicationRow {
  id: string;
  role: 'source' | 'target' | 'local';
  status: string;
  progress: number;
  message: string;
  body: Record<string, unknown>;
  sourceEnvId: string | null;
  targetEnvId: string | null;
  operationId: string | null;
  fileId: string | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectProperties {
  description: string;
  defaultLocale: number;
  locales: number[];
}

export type DuplicationPatch = Partial<Pick<DuplicationRow, 'status' | 'progress' | 'message' | 'body' | 'targetEnvId' | 'operationId' | 'fileId'>>;

/**
 * Duplication records and project properties. Status changes are
 * conditional UPDATEs on the current status (`... WHERE status IN (...)`),
 * like operations: a cancel and a finishing worker racing on one record
 * cannot both win. Built over a Store, so inside `store.transaction` it
 * writes in that transaction.
 */
export class DuplicationStore {
  constructor(private readonly store: Store) {}

  private get db(): Kysely<DuplicationDatabase> | Transaction<DuplicationDatabase> {
    return this.store.db as unknown as Kysely<DuplicationDatabase>;
  }

  private get rdb(): Kysely<DuplicationDatabase> | Transaction<DuplicationDatabase> {
    return this.store.readDb as unknown as Kysely<DuplicationDatabase>;
  }

  async insert(r: DuplicationRow): Promise<void> {
    await this.db.insertInto('duplications').values(toRow(r)).execute();
  }

  async get(id: string): Promise<DuplicationRow | undefined> {
    const row = await this.rdb.selectFrom('duplications').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** Newest first. `envIds` limits to records of those environments (or created by `orCreatedBy`); undefined: all. */
  async list(f: { envIds?: readonly string[]; orCreatedBy?: string; limit: number; offset: number }): Promise<{ items: DuplicationRow[]; total: number }> {
    let q = this.rdb.selectFrom('duplications');
    if (f.envIds) {
      const envIds = [...f.envIds];
      const by = f.orCreatedBy ?? null;
      q = q.where((eb) => {
        const any = [];
        if (envIds.length > 0) any.push(eb('source_env_id', 'in', envIds), eb('target_env_id', 'in', envIds));
        if (by !== null) any.push(eb('created_by', '=', by));
        return any.length > 0 ? eb.or(any) : eb.val(false);
      });
    }
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(f.limit).offset(f.offset).execute();
    return { items: rows.map(fromRow), total: Number(total.n) };
  }

  /** Apply a patch when the record is in one of `from` (any status when omitted); false when it was not. */
  async update(id: string, patch: DuplicationPatch, from?: readonly string[]): Promise<boolean> {
    const set: Partial<DuplicationsTable> = { updated_at: new Date().toISOString() };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.progress !== undefined) set.progress = patch.progress;
    if (patch.message !== undefined) set.message = patch.message;
    if (patch.body !== undefined) set.body = JSON.stringify(patch.body);
    if (patch.targetEnvId !== undefined) set.target_env_id = patch.targetEnvId;
    if (patch.operationId !== undefined) set.operation_id = patch.operationId;
    if (patch.fileId !== undefined) set.file_id = patch.fileId;
    let q = this.db.updateTable('duplications').set(set).where('id', '=', id);
    if (from) q = q.where('status', 'in', [...from]);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Records in one of `statuses` that never got their operation, created before `before` (an ISO time). */
  async unqueued(statuses: readonly string[], before: string): Promise<DuplicationRow[]> {
    const rows = await this.rdb
      .selectFrom('duplications')
      .selectAll()
      .where('status', 'in', [...statuses])
      .where('operation_id', 'is', null)
      .where('created_at', '<', before)
      .execute();
    return rows.map(fromRow);
  }

  /** The ids of the files records keep (their packages). */
  async fileIds(): Promise<Set<string>> {
    const rows = await this.rdb.selectFrom('duplications').select('file_id').where('file_id', 'is not', null).execute();
    return new Set(rows.map((r) => r.file_id!));
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('duplications').where('id', '=', id).execute();
  }

  async getProjectProperties(envUid: string): Promise<ProjectProperties | undefined> {
    const row = await this.rdb.selectFrom('project_properties').selectAll().where('env_uid', '=', envUid).executeTakeFirst();
    return row ? { description: row.description, defaultLocale: Number(row.default_locale), locales: JSON.parse(row.locales) as number[] } : undefined;
  }

  async putProjectProperties(envUid: string, p: ProjectProperties): Promise<void> {
    const values = {
      env_uid: envUid,
      description: p.description,
      default_locale: p.defaultLocale,
      locales: JSON.stringify(p.locales),
      updated_at: new Date().toISOString(),
    };
    await this.db
      .insertInto('project_properties')
      .values(values)
      .onConflict((oc) =>
        oc
          .column('env_uid')
          .doUpdateSet({ description: values.description, default_locale: values.default_locale, locales: values.locales, updated_at: values.updated_at }),
      )
      .execute();
  }

  /** Objects of one environment scope by type, for a package header that must know its counts before its first entity. */
  async countObjectsByType(envId: string): Promise<Record<TypeCode, number>> {
    const rows = await this.rdb
      .selectFrom('objects')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .where('env_id', '=', envId)
      .groupBy('type')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  }

  /**
   * Objects of one scope a page at a time, in (type, id) order after `after`
   * (keyset paging: a page costs the same at the end of a million objects as
   * at the start, and objects written meanwhile do not shift the pages).
   */
  async pageObjects(envId: string, after: { type: TypeCode; id: string } | null, limit: number, types?: readonly TypeCode[]): Promise<FerryObject[]> {
    let q = this.rdb.selectFrom('objects').select(['type', 'id', 'name', 'fields']).where('env_id', '=', envId);
    if (types) q = q.where('type', 'in', [...types]);
    if (after) q = q.where((eb) => eb.or([eb('type', '>', after.type), eb.and([eb('type', '=', after.type), eb('id', '>', after.id)])]));
    const rows = await q.orderBy('type').orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ type: r.type, id: r.id, name: r.name, fields: JSON.parse(r.fields) as Record<string, unknown> }));
  }
}

function toRow(r: DuplicationRow): DuplicationsTable {
  return {
    id: r.id,
    role: r.role,
    status: r.status,
    progress: r.progress,
    message: r.message,
    body: JSON.stringify(r.body),
    source_env_id: r.sourceEnvId,
    target_env_id: r.targetEnvId,
    operation_id: r.operationId,
    file_id: r.fileId,
    created_by: r.createdBy,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function fromRow(r: DuplicationsTable): DuplicationRow {
  return {
    id: r.id,
    role: r.role as DuplicationRow['role'],
    status: r.status,
    progress: Number(r.progress),
    message: r.message,
    body: JSON.parse(r.body) as Record<string, unknown>,
    sourceEnvId: r.source_env_id,
    targetEnvId: r.target_env_id,
    operationId: r.operation_id,
    fileId: r.file_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
