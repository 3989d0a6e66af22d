import type { Catalog, Environment, FerryObject, PackageEntity, PlanEntry, StoredObject, TypeCode } from './types.js';
import { key, makeTranslator, mergeContent, targetContent } from './plan.js';
import { refIds, refsOf, typeSpec } from './refs.js';
import { ConflictError } from './errors.js';
import { KeyMap } from './key-map.js';

export type InstallStep =
  | { op: 'remove'; type: TypeCode; sourceId: string; targetId: string; before: StoredObject }
  | { op: 'create'; type: TypeCode; sourceId: string; targetId: string; object: FerryObject; deferred: string[] }
  | { op: 'update'; type: TypeCode; sourceId: string; targetId: string; object: FerryObject; before: StoredObject; merge: boolean; deferred: string[] }
  | { op: 'register'; type: TypeCode; sourceId: string; targetId: string }
  | { op: 'skip'; type: TypeCode; sourceId: string; targetId: string | null; reason: string | null }
  /** Second phase of a cycle: set the refs that pointed at objects not yet created. */
  | { op: 'patch'; type: TypeCode; sourceId: string; targetId: string; fields: Record<string, unknown> };

/** The part of a plan entry an install reads (the store can load just these columns). */
export type InstallEntry = Pick<PlanEntry, 'type' | 'sourceId' | 'action' | 'targetId' | 'isValid' | 'reason' | 'ord'>;

export interface InstallPlanInput {
  catalog: Catalog;
  target: Pick<Environment, 'id' | 'parameters' | 'targetOwned'>;
  /** Package entities in install order. */
  entities: readonly PackageEntity[];
  /** The prepared entries (removals included), with final actions: only what install needs of them. */
  entries: readonly InstallEntry[];
  /** key(type, targetId) -> current target object, for every entry with a target id. */
  targets: ReadonlyMap<string, StoredObject>;
  /** key(type, sourceId) -> target id for refs outside the package. */
  externals: ReadonlyMap<string, string>;
  /** Id for an object the install creates. */
  newId: (type: TypeCode) => string;
}

/**
 * Turn a valid plan into the exact steps of the install ("generate, then
 * run"): removals, then every entity in install order with refs rewritten to
 * target ids, then the patches that close reference cycles. `ferry plan
 * --json` and the install both come from here.
 */
export function planInstall(input: InstallPlanInput): InstallStep[] {
  const { catalog, entries, targets } = input;
  const invalid = entries.filter((e) => !e.isValid);
  if (invalid.length > 0) {
    const first = invalid[0]!;
    throw new ConflictError(
      'PLAN_INVALID',
      `the plan has ${invalid.length} invalid entr${invalid.length === 1 ? 'y' : 'ies'} (first: ${first.type}:${first.sourceId} ${first.reason ?? ''}); fix them and prepare again`,
    );
  }

  // Target ids first: every CREATE gets its id before any ref is rewritten,
  // so refs to objects created later in the order are known (and deferred).
  const finalEntries = entries.map((en) =>
    en.action === 'CREATE' ? { ...en, targetId: input.newId(en.type) } : en,
  );
  // Entry and install position of each entity, in one lookup.
  const byKey = new KeyMap<{ en: InstallEntry; pos: number }>();
  for (const en of finalEntries) if (en.action !== 'REMOVE') byKey.set(en.type, en.sourceId, { en, pos: -1 });
  input.entities.forEach((e, i) => {
    const slot = byKey.get(e.type, e.id);
    if (slot) slot.pos = i;
  });
  const translate = makeTranslator(finalEntries, input.externals);

  const steps: InstallStep[] = [];
  const patches: InstallStep[] = [];

  for (const en of finalEntries) {
    if (en.action !== 'REMOVE') continue;
    const before = en.targetId ? targets.get(key(en.type, en.targetId)) : undefined;
    if (!before) steps.push({ op: 'skip', type: en.type, sourceId: en.sourceId, targetId: null, reason: 'not present in the target' });
    else steps.push({ op: 'remove', type: en.type, sourceId: en.sourceId, targetId: before.id, before });
  }

  for (let i = 0; i < input.entities.length; i++) {
    const e = input.entities[i]!;
    const en = byKey.get(e.type, e.id)?.en;
    if (!en) throw new Error(`no plan entry for ${e.type}:${e.id}`);
    const spec = typeSpec(catalog, e.type);
    switch (en.action) {
      case 'IGNORE':
        steps.push({ op: 'skip', type: e.type, sourceId: e.id, targetId: en.targetId, reason: 'IGNORE' });
        continue;
      case 'USEEXISTING':
        steps.push({ op: 'register', type: e.type, sourceId: e.id, targetId: en.targetId! });
        continue;
      case 'CREATE':
      case 'UPDATE':
      case 'MERGE': {
        const before = en.action === 'CREATE' ? undefined : targets.get(key(e.type, en.targetId!));
        if (en.action !== 'CREATE' && !before) {
          throw new ConflictError('STALE_PLAN', `target ${e.type}:${en.targetId} no longer exists; prepare again`);
        }
        let object = targetContent(spec, e, input.target, translate, before).object;
        if (en.action === 'MERGE' && before) object = mergeContent(spec, object, before);
        object.id = en.targetId!;

        // Refs to objects this install creates later in the order: leave them
        // out now, patch them in after everything exists.
        const deferred: string[] = [];
        for (const ref of refsOf(spec, e)) {
          const target = byKey.get(ref.type, ref.id);
          if (!target || target.en.action !== 'CREATE') continue;
          if (target.pos < i) continue;
          if (!deferred.includes(ref.field)) deferred.push(ref.field);
        }
        // Both objects are fresh (targetContent, mergeContent): no need to copy them when nothing is deferred.
        const initial = deferred.length > 0 ? { ...object.fields } : object.fields;
        for (const field of deferred) {
          const value = object.fields[field];
          if (Array.isArray(value)) {
            const later = new Set(
              refIds(e.fields[field])
                .filter((id) => (byKey.get(spec.refs[field]!.type, id)?.pos ?? -1) >= i)
                .map((id) => translate(spec.refs[field]!.type, id)),
            );
            initial[field] = value.filter((v) => !later.has(v as string));
          } else {
            initial[field] = null;
          }
        }
        const first = deferred.length > 0 ? { ...object, fields: initial } : object;
        if (en.action === 'CREATE') steps.push({ op: 'create', type: e.type, sourceId: e.id, targetId: en.targetId!, object: first, deferred });
        else steps.push({ op: 'update', type: e.type, sourceId: e.id, targetId: en.targetId!, object: first, before: before!, merge: en.action === 'MERGE', deferred });
        if (deferred.length > 0) {
          const fields: Record<string, unknown> = {};
          for (const f of deferred) fields[f] = object.fields[f];
          patches.push({ op: 'patch', type: e.type, sourceId: e.id, targetId: en.targetId!, fields });
        }
        continue;
      }
      default:
        throw new Error(`unexpected action ${en.action} for ${e.type}:${e.id}`);
    }
  }
  return [...steps, ...patches];
}
