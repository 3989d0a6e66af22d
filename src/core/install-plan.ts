import type { Catalog, Environment, FerryObject, PackageEntity, PlanEntry, StoredObject, TypeCode } from './types.js';
import { key, mergeContent, targetContent } from './plan.js';
import { typeSpec } from './refs.js';
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
export type InstallEntry = Pick<PlanEntry, 'type' | 'sourceId' | 'action' | 'targetId' | 'isValid' | 'reason' | 'ord'> & {
  /** For a CREATE: the id minted for it when the plan was prepared. */
  newId?: string | null;
};

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
  /** Id of the object a CREATE entry makes. */
  newId: (en: InstallEntry) => string;
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

  // One slot per entity entry: its target id (a CREATE's is minted before
  // any ref is rewritten, so refs to objects created later in the order are
  // known) and its position in the install order.
  const slots = new KeyMap<{ en: InstallEntry; targetId: string | null; pos: number }>();
  for (const en of entries) {
    if (en.action !== 'REMOVE') slots.set(en.type, en.sourceId, { en, targetId: en.action === 'CREATE' ? input.newId(en) : en.targetId, pos: -1 });
  }
  input.entities.forEach((e, i) => {
    const slot = slots.get(e.type, e.id);
    if (slot) slot.pos = i;
  });

  // Translation of a ref of the entity at position `at` (the makeTranslator
  // rules: an IGNOREd entity without a target drops the ref; outside the
  // package, the external ref's target), noting on the way each ref to an
  // object this install creates at `at` or later: those are deferred.
  let at = 0;
  let deferred: string[] = [];
  let later: Set<string> | undefined;
  const translate = (type: TypeCode, id: string, field: string): string | undefined => {
    const slot = slots.get(type, id);
    if (slot === undefined) return input.externals.get(key(type, id));
    if (slot.en.action === 'CREATE' && slot.pos >= at) {
      if (!deferred.includes(field)) deferred.push(field);
      (later ??= new Set()).add(slot.targetId!);
    }
    return slot.targetId ?? undefined;
  };

  const steps: InstallStep[] = [];
  const patches: InstallStep[] = [];

  for (const en of entries) {
    if (en.action !== 'REMOVE') continue;
    const before = en.targetId ? targets.get(key(en.type, en.targetId)) : undefined;
    if (!before) steps.push({ op: 'skip', type: en.type, sourceId: en.sourceId, targetId: null, reason: 'not present in the target' });
    else steps.push({ op: 'remove', type: en.type, sourceId: en.sourceId, targetId: before.id, before });
  }

  for (let i = 0; i < input.entities.length; i++) {
    const e = input.entities[i]!;
    const en = slots.get(e.type, e.id)?.en;
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
        at = i;
        deferred = [];
        later = undefined;
        let object = targetContent(spec, e, input.target, translate, before).object;
        if (en.action === 'MERGE' && before) object = mergeContent(spec, object, before);
        const targetId = slots.get(e.type, e.id)!.targetId!;
        object.id = targetId;

        // Refs to objects this install creates later in the order (noted by
        // translate): leave them out now, patch them in after everything exists.
        // Both objects are fresh (targetContent, mergeContent): no need to copy them when nothing is deferred.
        const initial = deferred.length > 0 ? { ...object.fields } : object.fields;
        for (const field of deferred) {
          const value = object.fields[field];
          initial[field] = Array.isArray(value) ? value.filter((v) => !later!.has(v as string)) : null;
        }
        const first = deferred.length > 0 ? { ...object, fields: initial } : object;
        if (en.action === 'CREATE') steps.push({ op: 'create', type: e.type, sourceId: e.id, targetId, object: first, deferred });
        else steps.push({ op: 'update', type: e.type, sourceId: e.id, targetId, object: first, before: before!, merge: en.action === 'MERGE', deferred });
        if (deferred.length > 0) {
          const fields: Record<string, unknown> = {};
          for (const f of deferred) fields[f] = object.fields[f];
          patches.push({ op: 'patch', type: e.type, sourceId: e.id, targetId, fields });
        }
        continue;
      }
      default:
        throw new Error(`unexpected action ${en.action} for ${e.type}:${e.id}`);
    }
  }
  return [...steps, ...patches];
}
