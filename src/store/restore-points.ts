import type { StoredObject, TypeCode } from '../core/types.js';
import { Repository, json, parse } from './repository.js';

export interface RestorePointRow {
  envId: string;
  type: TypeCode;
  targetId: string;
  before: StoredObject | null;
  afterHash: string | null;
}

/** What each installation changed or deleted, as it was before: what a rollback restores. */
export class RestorePointsRepository extends Repository {
  /** Restore points of an installation, as numbered chunks (`seq` 0, 1, ...), in order. */
  async insertChunks(installationId: string, chunks: readonly (readonly RestorePointRow[])[]): Promise<void> {
    await this.insertValues(
      chunks.map((points, seq) => ({ installation_id: installationId, seq, points: json(points) })),
      (values) => this.db.insertInto('restore_chunks').values(values),
    );
  }

  /** Every restore point of an installation, in the order they were taken (chunks, or one row each before 0003). */
  async get(installationId: string): Promise<RestorePointRow[]> {
    const out: RestorePointRow[] = [];
    const legacy = await this.read.selectFrom('restore_points').selectAll().where('installation_id', '=', installationId).orderBy('seq').execute();
    for (const r of legacy)
      out.push({ envId: r.env_id, type: r.type, targetId: r.target_id, before: parse<StoredObject | null>(r.before), afterHash: r.after_hash });
    const chunks = await this.read.selectFrom('restore_chunks').select('points').where('installation_id', '=', installationId).orderBy('seq').execute();
    for (const c of chunks) for (const p of JSON.parse(c.points) as RestorePointRow[]) out.push(p);
    return out;
  }
}
