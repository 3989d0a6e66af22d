import type { Catalog, FerryObject, ObjectRef, PlanEntry, PlanSummary, TypeCode } from './types.js';
import { refsOf, typeSpec } from './refs.js';
import { KeyMap } from './key-map.js';
import { key, type Override, type PrepareInput } from './plan-input.js';
import { findMatch, releaseSharedTargets, type Matched } from './plan-match.js';
import { autoAction, mergeContent, missingParameters, targetContent } from './target-content.js';
import { validatePlan } from './plan-validity.js';

// The plan's parts live beside it, named for what they hold; importers keep importing them from here.
export { key, type Override, type PrepareInput, type TargetLookup, type MatchPolicy } from './plan-input.js';
export { changedFields, keepOwnedFields, mergeContent, missingParameters, targetContent, targetOwnedFields, type ContentResult } from './target-content.js';

/** Marks a ref to an object the install will create: no target object can equal content holding it. */
const NEW = '\u0000new:';

/**
 * Decide, for every package entity and removal, what the install will do in
 * the target: the translation map of 003, with validity, drift and the
 * changed fields. Pure: every target fact comes in through `lookup`.
 */
export function preparePlan(input: PrepareInput): PlanEntry[] {
  const { catalog, entities, lookup, policy } = input;
  const choices = new KeyMap<Override>();
  for (const d of input.decisions) choices.set(d.type, d.sourceId, { type: d.type, sourceId: d.sourceId, action: d.action, targetId: d.targetId });
  for (const o of input.overrides) choices.set(o.type, o.sourceId, o);

  // Pass 1: matches. Each entity gets a target object (or none) and, where
  // matching is not clear-cut, a reason that makes it invalid. Per-entity
  // facts live in arrays by position (entries[i], matched[i]); `position`
  // finds an entity by key.
  const entries: PlanEntry[] = [];
  const matched: Matched[] = new Array<Matched>(entities.length);
  const position = input.positions ?? positionsOf(entities);
  for (let i = 0; i < entities.length; i++) {
    const e = entities[i]!;
    const spec = typeSpec(catalog, e.type);
    const k = key(e.type, e.id);
    const m = findMatch(spec, e, lookup, policy, k);
    matched[i] = { obj: m.obj, problem: m.problem, idMap: lookup.idMap.get(k) };
    entries.push({
      type: e.type,
      sourceId: e.id,
      name: e.name,
      action: m.obj ? 'USEEXISTING' : 'CREATE',
      autoAction: m.obj ? 'USEEXISTING' : 'CREATE',
      isValid: true,
      reason: null,
      targetId: m.obj ? m.obj.id : null,
      match: m.kind,
      drift: false,
      changes: [],
      ord: e.ord,
      installationStatus: 'PENDING',
      statusReason: null,
    });
  }

  // User choices of a target object change what refs translate to, so they
  // are applied before any content is compared.
  for (const c of choices.values()) {
    const i = position.get(c.type, c.sourceId);
    if (i === undefined || !c.targetId) continue;
    const en = entries[i]!;
    const obj = lookup.targets.get(key(en.type, c.targetId)) ?? lookup.byId.get(key(en.type, c.targetId));
    const m = matched[i]!;
    if (obj) {
      matched[i] = { obj, problem: null, idMap: m.idMap };
      en.targetId = obj.id;
      en.match = 'user';
    } else {
      matched[i] = { obj: undefined, problem: `chosen target ${en.type}:${c.targetId} does not exist in the target`, idMap: m.idMap };
    }
  }
  // Chosen actions too: whether a referenced object is IGNOREd or created
  // decides what refs to it translate to.
  for (const c of choices.values()) {
    const i = position.get(c.type, c.sourceId);
    if (i === undefined) continue;
    const en = entries[i]!;
    en.action = c.action;
    if (c.action === 'CREATE') en.targetId = null;
    // Sync keeps ids: an object left alone for a conflict (renamed in the
    // target) is still the one its referrers point at there.
    if (c.action === 'IGNORE' && !en.targetId && policy === 'id+name') en.targetId = lookup.byId.get(key(en.type, en.sourceId))?.id ?? null;
  }

  releaseSharedTargets(catalog, entries, matched);

  // Source id -> target id for every ref: a package entity with a target id
  // translates to it, one the install will create to a placeholder (no
  // target id can equal it), an IGNOREd one without a target to nothing;
  // refs outside the package through the external resolution. Undefined:
  // resolves to nothing in the target. Entries no longer change what they
  // translate to from here on.
  const translate = (type: TypeCode, id: string): string | undefined => {
    const i = position.get(type, id);
    if (i === undefined) return lookup.externals.get(key(type, id));
    const en = entries[i]!;
    return en.targetId ?? (en.action === 'IGNORE' ? undefined : NEW + type + ':' + id);
  };
  const noChoices = choices.empty;
  /** New content of target objects that refer to something a removal deletes, where this plan rewrites them. */
  const rewrittenReferrers = new KeyMap<FerryObject>();
  const referrerKeys = new Set<string>();
  for (const list of lookup.referrers?.values() ?? []) for (const r of list) referrerKeys.add(key(r.type, r.id));

  // Pass 2: content comparison and the automatic action.
  for (let i = 0; i < entities.length; i++) {
    const e = entities[i]!;
    const en = entries[i]!;
    const spec = typeSpec(catalog, e.type);
    const m = matched[i]!;
    // Content is compared only with a matched object; an object to create
    // needs only its parameters checked (the install rewrites its refs).
    const content = m.obj ? targetContent(spec, e, input.target, translate, m.obj) : undefined;
    const missing = content ? content.missingParameters : missingParameters(e, input.target.parameters);
    if (missing.length > 0) {
      if (en.action !== 'IGNORE') en.isValid = false;
      en.reason = `parameter${missing.length > 1 ? 's' : ''} ${missing.map((p) => '${' + p + '}').join(', ')} not set in target environment ${input.target.id}`;
    }
    const chosen = noChoices ? undefined : choices.get(e.type, e.id);
    if (m.obj && content) {
      const auto = autoAction(spec, content.object, m.obj, input.keepExisting);
      en.autoAction = auto.action;
      en.action = chosen ? chosen.action : auto.action;
      en.changes = en.action === 'CREATE' || en.action === 'IGNORE' ? [] : auto.changes;
      if (m.idMap && m.idMap.targetId === m.obj.id && m.idMap.hash !== m.obj.hash) en.drift = true;
      if (referrerKeys.size > 0 && referrerKeys.has(key(e.type, m.obj.id)) && (en.action === 'UPDATE' || en.action === 'MERGE')) {
        rewrittenReferrers.set(e.type, m.obj.id, en.action === 'MERGE' ? mergeContent(spec, content.object, m.obj) : content.object);
      }
    }
    if (m.problem) {
      // An IGNOREd entity writes nothing: its matching problem is a note, not a refusal.
      if (en.action !== 'IGNORE') en.isValid = false;
      en.reason = m.problem;
    }
  }

  // Removals come first in the install (they may free unique names).
  const removals = input.removals.map((r, i): PlanEntry => {
    const k = key(r.type, r.id);
    const viaMap = lookup.idMap.get(k);
    const obj = lookup.byId.get(k) ?? (viaMap ? lookup.targets.get(key(r.type, viaMap.targetId)) : undefined);
    return {
      type: r.type,
      sourceId: r.id,
      name: obj?.name ?? r.name ?? '',
      action: 'REMOVE',
      autoAction: 'REMOVE',
      isValid: true,
      reason: obj ? null : 'not present in the target: nothing to remove',
      targetId: obj?.id ?? null,
      match: obj ? (lookup.byId.has(k) ? 'id' : 'idmap') : 'none',
      drift: !!(obj && viaMap && viaMap.targetId === obj.id && viaMap.hash !== obj.hash),
      changes: [],
      ord: i - input.removals.length,
      installationStatus: 'PENDING',
      statusReason: null,
    };
  });

  const removed = new Set(removals.filter((r) => r.targetId).map((r) => key(r.type, r.targetId!)));
  for (const r of removals) {
    if (!r.targetId) continue;
    const orphans = (lookup.ownedChildren?.get(key(r.type, r.targetId)) ?? []).filter((c) => !removed.has(key(c.type, c.id)));
    if (orphans.length > 0) {
      r.isValid = false;
      r.reason = `removing it would orphan ${orphans.length} owned child${orphans.length > 1 ? 'ren' : ''} in the target (${orphans
        .slice(0, 3)
        .map((c) => `${c.type}:${c.id}`)
        .join(', ')}${orphans.length > 3 ? ', ...' : ''}); remove them too`;
    }
  }

  for (const r of removals) {
    if (!r.isValid || !r.targetId) continue;
    const dangling = (lookup.referrers?.get(key(r.type, r.targetId)) ?? []).filter((x) => {
      if (removed.has(key(x.type, x.id))) return false;
      const next = rewrittenReferrers.get(x.type, x.id);
      return !next || refsOf(typeSpec(catalog, x.type), next).some((ref) => ref.field === x.field && ref.type === r.type && ref.id === r.targetId);
    });
    if (dangling.length > 0) {
      r.isValid = false;
      r.reason = `removing it would leave ${dangling.length} object${dangling.length > 1 ? 's' : ''} in the target pointing at it (${dangling
        .slice(0, 3)
        .map((x) => `${x.type}:${x.id} ${x.field}`)
        .join(', ')}${dangling.length > 3 ? ', ...' : ''}); remove them too or change their refs first`;
    }
  }

  validatePlan(catalog, entities, entries, matched, position, translate, policy);
  return [...removals, ...entries];
}

/** Each entity's position in the list, by (type, id). */
export function positionsOf(entities: readonly FerryObject[]): KeyMap<number> {
  const position = new KeyMap<number>();
  for (let i = 0; i < entities.length; i++) position.set(entities[i]!.type, entities[i]!.id, i);
  return position;
}

/** Counts for the summary line and the installation record. */
export function summarizePlan(entries: readonly PlanEntry[]): PlanSummary {
  const s: PlanSummary = { create: 0, update: 0, useExisting: 0, merge: 0, ignore: 0, remove: 0, invalid: 0, drift: 0 };
  for (const en of entries) {
    switch (en.action) {
      case 'CREATE':
        s.create++;
        break;
      case 'UPDATE':
        s.update++;
        break;
      case 'USEEXISTING':
        s.useExisting++;
        break;
      case 'MERGE':
        s.merge++;
        break;
      case 'IGNORE':
        s.ignore++;
        break;
      case 'REMOVE':
        s.remove++;
        break;
    }
    if (!en.isValid) s.invalid++;
    if (en.drift) s.drift++;
  }
  return s;
}

/** Refs held by package entities that point outside the package: what the engine must resolve in the target. */
export function externalRefKeys(catalog: Catalog, entities: readonly FerryObject[], inside: Pick<KeyMap<unknown>, 'has'> = positionsOf(entities)): ObjectRef[] {
  const seen = new KeyMap<true>();
  const out: ObjectRef[] = [];
  for (const e of entities) {
    for (const ref of refsOf(typeSpec(catalog, e.type), e)) {
      if (inside.has(ref.type, ref.id) || seen.has(ref.type, ref.id)) continue;
      seen.set(ref.type, ref.id, true);
      out.push({ type: ref.type, id: ref.id });
    }
  }
  return out;
}
