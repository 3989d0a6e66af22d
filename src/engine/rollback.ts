import type { Installation } from '../core/types.js';
import { ConflictError } from '../core/errors.js';
import { groupBy } from '../core/group.js';
import { key } from '../core/plan.js';
import type { ObjectRow, RestorePointRow } from '../store/store.js';
import { audit, bumpVersions, lockForWrite, toRow, type Actor, type EngineContext } from './context.js';
import { withInstallLock } from './locks.js';
import { getEnvironment } from './environments.js';
import { getInstallation } from './history.js';

/**
 * Undo a completed installation from its restore point, in one
 * transaction. Refused (409) when any object it touched has changed since,
 * so a rollback never throws away later work.
 */
export async function rollback(ctx: EngineContext, installationId: string, actor?: Actor): Promise<Installation> {
  const inst = await getInstallation(ctx, installationId);
  if (inst.status !== 'COMPLETED')
    throw new ConflictError('NOT_COMPLETED', `installation ${inst.id} is ${inst.status}; only a COMPLETED installation can be rolled back`);
  const target = await getEnvironment(ctx, inst.targetEnvId);
  return withInstallLock(ctx, target.id, inst.id, 'rollback', () =>
    ctx.store.transaction(async (tx) => {
      // The restore point first (a read; the install lock keeps it as it is): its types say which rows to lock.
      const points = await tx.restorePoints.get(inst.id);
      await lockForWrite(
        ctx,
        tx,
        target.id,
        points.map((p) => p.type),
      );
      const changed: string[] = [];
      // Only hashes are compared: read without the objects' fields.
      const current = new Map<string, string>();
      for (const [scope, list] of groupBy(points, (p) => p.envId)) {
        for (const o of await tx.objects.getHashes(
          scope,
          list.map((p) => ({ type: p.type, id: p.targetId })),
        ))
          current.set(`${scope}\u0000${key(o.type, o.id)}`, o.hash);
      }
      for (const p of points) {
        const now = current.get(`${p.envId}\u0000${key(p.type, p.targetId)}`);
        const ok = p.afterHash === null ? now === undefined : now === p.afterHash;
        if (!ok) changed.push(`${p.type}:${p.targetId}`);
      }
      if (changed.length > 0) {
        throw new ConflictError(
          'CHANGED_SINCE_INSTALL',
          `cannot roll back installation ${inst.id}: ${changed.length} object${changed.length > 1 ? 's' : ''} changed since it ran (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', ...' : ''})`,
        );
      }
      // Walk back: the earliest point of an object holds what was there before the install.
      const first = new Map<string, RestorePointRow>();
      for (const p of points) {
        const k = `${p.envId}\u0000${key(p.type, p.targetId)}`;
        if (!first.has(k)) first.set(k, p);
      }
      const created = [...first.values()].filter((p) => p.before === null);
      const restores = [...first.values()].filter((p) => p.before !== null).map((p): ObjectRow => ({ ...toRow(ctx, target.id, p.before!), envId: p.envId }));
      for (const [scope, list] of groupBy(created, (p) => p.envId))
        await tx.objects.delete(
          scope,
          list.map((p) => ({ type: p.type, id: p.targetId })),
        );
      await tx.objects.upsert(restores);

      // The ID map: rows that point at objects the rollback deleted go; rows
      // for restored objects keep their mapping with the restored hash.
      const mine = await tx.idMap.getForInstallation(target.id, inst.id);
      const deleted = new Set(created.map((p) => key(p.type, p.targetId)));
      const restoredHash = new Map(restores.map((r) => [key(r.type, r.id), r.hash]));
      const drop = mine.filter((r) => deleted.has(key(r.type, r.targetId)));
      const keep = mine.filter((r) => !deleted.has(key(r.type, r.targetId)) && restoredHash.has(key(r.type, r.targetId)));
      await tx.idMap.delete(
        target.id,
        inst.sourceEnvUid,
        drop.map((r) => ({ type: r.type, id: r.sourceId })),
      );
      await tx.idMap.upsert(
        target.id,
        inst.id,
        keep.map((r) => ({ ...r, hash: restoredHash.get(key(r.type, r.targetId))! })),
      );

      await bumpVersions(
        ctx,
        tx,
        target.id,
        points.map((p) => p.type),
      );
      const ts = new Date().toISOString();
      const done: Installation = { ...inst, status: 'ROLLED_BACK', rolledBackAt: ts, updatedAt: ts };
      await tx.installations.update(done);
      await audit(tx, actor, 'rollback', target.id, inst.id, 'ok', { restored: restores.length, deleted: deleted.size });
      return done;
    }),
  );
}
