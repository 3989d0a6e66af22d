import { Repository, json, now, parse } from './repository.js';

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

/** The audit log: every mutation, and every refused attempt at one. */
export class AuditRepository extends Repository {
  async append(e: Omit<AuditEntry, 'seq' | 'at'> & { at?: string }): Promise<void> {
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

  async list(opts: { envId?: string; actor?: string; since?: string; until?: string; limit?: number } = {}): Promise<AuditEntry[]> {
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
