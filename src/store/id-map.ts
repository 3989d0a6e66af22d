import { sql } from 'kysely';
import type { IdMapEntry, TypeCode } from '../core/types.js';
import { Repository, groupByType, uniqueKeys, type KeyRef } from './repository.js';
import type { Database } from './schema.js';

/**
 * The ID map of each target environment: (source env uid, type, source id)
 * -> (target id, content hash at install). Written by every install, read
 * by every prepare.
 */
export class IdMapRepository extends Repository {
  async get(envId: string, sourceUid: string, keys: readonly KeyRef[]): Promise<IdMapEntry[]> {
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

  /** The ID map rows of a target for the entities of a package (`keys`: all of them), by join where the dialect prefers (see ObjectsRepository.getLikePackage). */
  async getForPackage(envId: string, sourceUid: string, packageId: string, keys: readonly KeyRef[]): Promise<IdMapEntry[]> {
    if (!this.caps.joinLookups) return this.get(envId, sourceUid, keys);
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

  /**
   * Record every object of an environment (of one type) in its ID map as
   * written there by `sourceUid` with its content as it is now: the baseline
   * later drift is measured against (a clone's copies). One statement,
   * however many objects. Ids, uid and installation id are Ferry's own
   * (patterns checked), inlined like ObjectsRepository.copy's env id.
   */
  async recordBaseline(envId: string, sourceUid: string, installationId: string, type: TypeCode): Promise<void> {
    await this.db
      .insertInto('id_map')
      .columns(['env_id', 'source_uid', 'type', 'source_id', 'target_id', 'hash', 'installation_id'])
      .expression((eb) =>
        eb
          .selectFrom('objects')
          .select([sql.lit(envId).as('env_id'), sql.lit(sourceUid).as('source_uid'), 'type', 'id', 'id as target_id', 'hash', sql.lit(installationId).as('i')])
          .where('env_id', '=', envId)
          .where('type', '=', type),
      )
      .onConflict((oc) =>
        oc.columns(['env_id', 'source_uid', 'type', 'source_id']).doUpdateSet((eb) => ({
          target_id: eb.ref('excluded.target_id'),
          hash: eb.ref('excluded.hash'),
          installation_id: eb.ref('excluded.installation_id'),
        })),
      )
      .execute();
  }

  async upsert(envId: string, installationId: string, rows: readonly IdMapEntry[]): Promise<void> {
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

  async delete(envId: string, sourceUid: string, keys: readonly KeyRef[]): Promise<void> {
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

  async getForInstallation(envId: string, installationId: string): Promise<IdMapEntry[]> {
    const rows = await this.read.selectFrom('id_map').selectAll().where('env_id', '=', envId).where('installation_id', '=', installationId).execute();
    return rows.map((r) => ({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, targetId: r.target_id, hash: r.hash }));
  }
}
