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

export interface InstallPlannerInput {
  catalog: Catalog;
  target: Pick<Environment, 'id' | 'parameters' | 'targetOwned'>;
  /** The prepared entries (removals included), with final actions: only what install needs of them. */
  entries: readonly InstallEntry[];
  /** Id of the object a CREATE entry makes. */
  newId: (en: InstallEntry) => string;
}

/** What the target holds, as a plan step needs it. */
export interface TargetFacts {
  /** key(type, targetId) -> current target object, for the entries being planned that have a target id. */
  targets: ReadonlyMap<string, StoredObject>;
  /** key(type, sourceId) -> target id, for the refs outside the package that these entities hold. */
  externals: ReadonlyMap<string, string>;
}

type Slot = { en: InstallEntry; targetId: string | null };
/** The deferred fields of most entities: none (shared, never written to). */
const NONE = Object.freeze([]) as unknown as string[];

/**
 * Turn a valid plan into the exact steps of the install ("generate, then
 * run"): removals, then every entity in install order with refs rewritten to
 * target ids, then the patches that close reference cycles. The entities
 * come one at a time, so an install can run a page while the next is read:
 * the planner keeps only the entries (small) and the patches (few).
 */
export class InstallPlanner {
  readonly #input: InstallPlannerInput;
  /** One slot per entity entry: its target id (a CREATE's is known before any ref is rewritten). */
  readonly #slots = new KeyMap<Slot>();
  readonly #removed = new KeyMap<true>();
  readonly #patches: InstallStep[] = [];
  #at = 0;
  /** Fields of the entity being planned whose refs are deferred; created on the first. */
  #deferred: string[] | undefined;
  #later: Set<string> | undefined;
  #externals: ReadonlyMap<string, string> = new Map();
  /**
   * Translation of a ref of the entity at install position `#at` (as in
   * preparePlan: an IGNOREd entity without a target drops the ref; outside
   * the package, the external ref's target), noting on the way each
   * ref to an object this install creates at `#at` or later: those are
   * deferred to a patch.
   */
  readonly #translate = (type: TypeCode, id: string, field: string): string | undefined => {
    const slot = this.#slots.get(type, id);
    if (slot === undefined) return this.#externals.get(key(type, id));
    if (slot.en.action === 'CREATE' && slot.en.ord >= this.#at) {
      const deferred = (this.#deferred ??= []);
      if (!deferred.includes(field)) deferred.push(field);
      (this.#later ??= new Set()).add(slot.targetId!);
    }
    return slot.targetId ?? undefined;
  };

  constructor(input: InstallPlannerInput) {
    this.#input = input;
    const invalid = input.entries.filter((e) => !e.isValid);
    if (invalid.length > 0) {
      const first = invalid[0]!;
      throw new ConflictError(
        'PLAN_INVALID',
        `the plan has ${invalid.length} invalid entr${invalid.length === 1 ? 'y' : 'ies'} (first: ${first.type}:${first.sourceId} ${first.reason ?? ''}); fix them and prepare again`,
      );
    }
    for (const en of input.entries) {
      if (en.action === 'REMOVE') {
        if (en.targetId) this.#removed.set(en.type, en.targetId, true);
      } else this.#slots.set(en.type, en.sourceId, { en, targetId: en.action === 'CREATE' ? input.newId(en) : en.targetId });
    }
  }

  /** The removals, first in the install (they may free unique names). */
  removals(targets: ReadonlyMap<string, StoredObject>): InstallStep[] {
    const steps: InstallStep[] = [];
    for (const en of this.#input.entries) {
      if (en.action !== 'REMOVE') continue;
      const before = en.targetId ? targets.get(key(en.type, en.targetId)) : undefined;
      if (!before) steps.push({ op: 'skip', type: en.type, sourceId: en.sourceId, targetId: null, reason: 'not present in the target' });
      else steps.push({ op: 'remove', type: en.type, sourceId: en.sourceId, targetId: before.id, before });
    }
    return steps;
  }

  /** The step of one entity. Entities come in install order (ascending `ord`). */
  step(e: PackageEntity, facts: TargetFacts): InstallStep {
    const slot = this.#slots.get(e.type, e.id);
    if (!slot) throw new Error(`no plan entry for ${e.type}:${e.id}`);
    const { en, targetId } = slot;
    if (targetId !== null && en.action !== 'IGNORE' && this.#removed.has(e.type, targetId)) {
      throw new ConflictError('PLAN_INVALID', `${e.type}:${targetId} is both removed and written by this plan; prepare again`);
    }
    switch (en.action) {
      case 'IGNORE':
        return { op: 'skip', type: e.type, sourceId: e.id, targetId: en.targetId, reason: 'IGNORE' };
      case 'USEEXISTING':
        return { op: 'register', type: e.type, sourceId: e.id, targetId: targetId! };
      case 'CREATE':
      case 'UPDATE':
      case 'MERGE': {
        const spec = typeSpec(this.#input.catalog, e.type);
        const before = en.action === 'CREATE' ? undefined : facts.targets.get(key(e.type, targetId!));
        if (en.action !== 'CREATE' && !before) {
          throw new ConflictError('STALE_PLAN', `target ${e.type}:${targetId} no longer exists; prepare again`);
        }
        this.#at = e.ord;
        this.#deferred = undefined;
        this.#later = undefined;
        this.#externals = facts.externals;
        let object = targetContent(spec, e, this.#input.target, this.#translate, before).object;
        if (en.action === 'MERGE' && before) object = mergeContent(spec, object, before);
        object.id = targetId!;

        // Refs to objects this install creates later in the order (noted by
        // translate): leave them out now, patch them in after everything exists.
        // Both objects are fresh (targetContent, mergeContent): no need to copy them when nothing is deferred.
        const deferred = this.#deferred ?? NONE;
        const initial = deferred.length > 0 ? { ...object.fields } : object.fields;
        for (const field of deferred) {
          const value = object.fields[field];
          initial[field] = Array.isArray(value) ? value.filter((v) => !this.#later!.has(v as string)) : null;
        }
        if (deferred.length > 0) {
          const fields: Record<string, unknown> = {};
          for (const f of deferred) fields[f] = object.fields[f];
          this.#patches.push({ op: 'patch', type: e.type, sourceId: e.id, targetId: targetId!, fields });
        }
        const first = deferred.length > 0 ? { ...object, fields: initial } : object;
        if (en.action === 'CREATE') return { op: 'create', type: e.type, sourceId: e.id, targetId: targetId!, object: first, deferred };
        return { op: 'update', type: e.type, sourceId: e.id, targetId: targetId!, object: first, before: before!, merge: en.action === 'MERGE', deferred };
      }
      default:
        throw new Error(`unexpected action ${en.action} for ${e.type}:${e.id}`);
    }
  }

  /** The second phase of reference cycles, after every entity. */
  patches(): InstallStep[] {
    return this.#patches;
  }
}

/** Every step at once, for callers that hold the whole package (`ferry plan --json`, tests). */
export function planInstall(input: InstallPlannerInput & { entities: readonly PackageEntity[] } & TargetFacts): InstallStep[] {
  const planner = new InstallPlanner(input);
  const steps = planner.removals(input.targets);
  for (const e of input.entities) steps.push(planner.step(e, input));
  return [...steps, ...planner.patches()];
}
