import type { Action, Decision } from '../core/types.js';
import { Repository, now } from './repository.js';

/** Decisions users made on plans (IGNORE this, use that object), remembered per target environment for later prepares. */
export class DecisionsRepository extends Repository {
  async get(envId: string, sourceUid: string): Promise<Decision[]> {
    const rows = await this.read.selectFrom('decisions').selectAll().where('env_id', '=', envId).where('source_uid', '=', sourceUid).execute();
    return rows.map((r) => ({ sourceUid: r.source_uid, type: r.type, sourceId: r.source_id, action: r.action as Action, targetId: r.target_id }));
  }

  async upsert(envId: string, decisions: readonly Decision[]): Promise<void> {
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
}
