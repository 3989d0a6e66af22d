import type { FerryObject, IdMapEntry, Installation, StoredObject, TypeCode } from '../core/types.js';
import type { InstallStep } from '../core/install-plan.js';
import { ConflictError } from '../core/errors.js';
import { KeyMap } from '../core/key-map.js';
import { groupBy } from '../core/group.js';
import type { ObjectRow, RestorePointRow, Store } from '../store/store.js';
import { breathe } from './breathe.js';

/** Objects written per statement batch. */
export const ENTITY_BATCH = 2000;
/** Restore points per stored chunk (restore_chunks row). */
const RESTORE_CHUNK = 2000;

export interface InstallRunContext {
  tx: Store;
  /** The target environment. */
  envId: string;
  installation: Installation;
  /** The stored row of an object written into the target (scope, hash, natural key). */
  toRow: (o: FerryObject) => ObjectRow;
  /** Where objects of a type live: the environment, or the server scope. */
  scopeOf: (type: TypeCode) => string;
  /** Steps the install will run, about (for progress): one per entry. */
  total: number;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/**
 * The writing half of an install, inside its transaction: steps arrive a
 * page at a time (InstallPlanner) and are written in batches; `finish`
 * writes what needs the whole install: cycle patches, restore points (with
 * each object's final hash) and the ID map.
 */
export class InstallRun {
  readonly #c: InstallRunContext;
  /** The step being run, for the failure report (none between pages: a planning error is no step's fault). */
  current: InstallStep | undefined;
  /** Removals skipped because their target was already gone: the entries whose outcome is not their action's. */
  readonly skipped: { type: TypeCode; sourceId: string; reason: string | null }[] = [];
  /** Types written, for the environment versions. */
  readonly writtenTypes = new Set<TypeCode>();
  /** One restore point per write, in order: what was there before (null for a creation) and the hash after. */
  readonly #points: RestorePointRow[] = [];
  readonly #idMap: IdMapEntry[] = [];
  readonly #idMapDeletes: { type: TypeCode; id: string }[] = [];
  /** Registered objects keep their content; their hash is read at the end. */
  readonly #registered: IdMapEntry[] = [];
  /** Objects a patch step completes: the row first written, and the records that must carry the patched hash. */
  readonly #toPatch = new KeyMap<{ row: ObjectRow; point: RestorePointRow; map: IdMapEntry; patched: boolean }>();
  #creates: ObjectRow[] = [];
  #updates: ObjectRow[] = [];
  #done = 0;

  constructor(context: InstallRunContext) {
    this.#c = context;
  }

  async run(steps: readonly InstallStep[]): Promise<void> {
    const { tx, installation: inst } = this.#c;
    for (const step of steps) {
      this.current = step;
      this.#done++;
      switch (step.op) {
        case 'remove': {
          const scope = this.#c.scopeOf(step.type);
          await this.#flush();
          await tx.objects.delete(scope, [{ type: step.type, id: step.targetId }]);
          this.#points.push({ envId: scope, type: step.type, targetId: step.targetId, before: step.before, afterHash: null });
          this.#idMapDeletes.push({ type: step.type, id: step.sourceId });
          this.writtenTypes.add(step.type);
          break;
        }
        case 'create':
        case 'update': {
          const row = this.#c.toRow(step.object);
          if (step.op === 'create') this.#creates.push(row);
          else this.#updates.push(row);
          const before: StoredObject | null = step.op === 'update' ? step.before : null;
          const point: RestorePointRow = { envId: row.envId, type: step.type, targetId: step.targetId, before, afterHash: row.hash };
          const map: IdMapEntry = { sourceUid: inst.sourceEnvUid, type: step.type, sourceId: step.sourceId, targetId: step.targetId, hash: row.hash };
          this.#points.push(point);
          this.#idMap.push(map);
          if (step.deferred.length > 0) this.#toPatch.set(step.type, step.targetId, { row, point, map, patched: false });
          this.writtenTypes.add(step.type);
          break;
        }
        case 'register': {
          const map: IdMapEntry = { sourceUid: inst.sourceEnvUid, type: step.type, sourceId: step.sourceId, targetId: step.targetId, hash: '' };
          this.#idMap.push(map);
          this.#registered.push(map);
          break;
        }
        case 'skip':
          if (step.reason !== 'IGNORE') this.skipped.push({ type: step.type, sourceId: step.sourceId, reason: step.reason });
          break;
        case 'patch': {
          // Patches come last (InstallPlanner); they are written together in `finish`.
          const pending = this.#toPatch.get(step.type, step.targetId);
          if (!pending) throw new Error(`patch of ${step.type}:${step.targetId} before it was written`);
          const { row } = pending;
          const next = this.#c.toRow({ type: row.type, id: row.id, name: row.name, fields: { ...row.fields, ...step.fields } });
          pending.row = next;
          pending.point.afterHash = next.hash;
          pending.map.hash = next.hash;
          pending.patched = true;
          break;
        }
      }
      if (this.#creates.length + this.#updates.length >= ENTITY_BATCH) await this.#flush();
    }
    await this.#flush();
    this.current = undefined;
  }

  async finish(): Promise<void> {
    const { tx, installation: inst, envId } = this.#c;
    this.current = undefined;
    // Second phase of reference cycles: a row patched twice is written once, as it ended.
    const patched = [...this.#toPatch.values()].filter((p) => p.patched).map((p) => p.row);
    if (patched.length) await tx.objects.upsert(patched);

    const chunks: RestorePointRow[][] = [];
    for (let i = 0; i < this.#points.length; i += RESTORE_CHUNK) chunks.push(this.#points.slice(i, i + RESTORE_CHUNK));
    await tx.restorePoints.insertChunks(inst.id, chunks);

    // ID map: what each source object is now in this target, and its hash as installed.
    for (const [scope, list] of groupBy(this.#registered, (r) => this.#c.scopeOf(r.type))) {
      const hashes = new KeyMap<string>();
      for (const o of await tx.objects.getHashes(
        scope,
        list.map((r) => ({ type: r.type, id: r.targetId })),
      ))
        hashes.set(o.type, o.id, o.hash);
      for (const r of list) r.hash = hashes.get(r.type, r.targetId) ?? '';
    }
    await tx.idMap.upsert(envId, inst.id, this.#idMap);
    if (this.#idMapDeletes.length) await tx.idMap.delete(envId, inst.sourceEnvUid, this.#idMapDeletes);
  }

  async #flush(): Promise<void> {
    await breathe();
    if (this.#c.signal?.aborted) throw new ConflictError('CANCELLED', 'installation cancelled; nothing was installed');
    if (this.#creates.length) await this.#c.tx.objects.insert(this.#creates);
    if (this.#updates.length) await this.#c.tx.objects.upsert(this.#updates);
    this.#creates = [];
    this.#updates = [];
    // Patch steps come on top of one step per entry.
    this.#c.onProgress?.({ phase: 'install', done: Math.min(this.#done, this.#c.total), total: this.#c.total });
  }
}
