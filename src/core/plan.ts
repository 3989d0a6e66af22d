import type {
  Action,
  Catalog,
  Decision,
  Environment,
  FerryObject,
  IdMapEntry,
  MatchKind,
  MatchPolicy,
  ObjectRef,
  PackageEntity,
  PlanEntry,
  PlanSummary,
  StoredObject,
  TypeCode,
  TypeSpec,
} from './types.js';
import { canonicalJson, contentHash } from './hash.js';
import { naturalKeyOf, ownerRefOf, refIds, refsOf, rewriteRefs, typeSpec } from './refs.js';
import { KeyMap } from './key-map.js';

export type { MatchPolicy };

/** What the engine looked up in the target for one prepare, in batches. */
export interface TargetLookup {
  /** key(type, id) -> target object with the same id. */
  byId: Map<string, StoredObject>;
  /** key(type, sourceId) -> ID map row for this source environment. */
  idMap: Map<string, IdMapEntry>;
  /** key(type, targetId) -> target object, for ID map rows and user-chosen targets. */
  targets: Map<string, StoredObject>;
  /** key(type, nkey) -> target objects with that natural key. */
  byKey: Map<string, StoredObject[]>;
  /** key(type, sourceId) -> target id, for refs to objects outside the package. */
  externals: Map<string, string>;
  /**
   * key(type, targetId) of an object a removal would delete -> its owned
   * children in the target. Removing an owner would orphan them, so such a
   * removal is invalid unless the children are removed too.
   */
  ownedChildren?: Map<string, { type: TypeCode; id: string }[]>;
  /**
   * key(type, targetId) of an object a removal would delete -> the target
   * objects that point at it through a plain (non-owner) ref. Deleting it
   * would leave their refs dangling, so such a removal is invalid unless they
   * are removed too or the plan rewrites them without that ref.
   */
  referrers?: Map<string, { type: TypeCode; id: string; field: string }[]>;
}

/** A user's choice for one entry: an action, and for USEEXISTING/UPDATE/MERGE optionally which target object. */
export interface Override {
  type: TypeCode;
  sourceId: string;
  action: Action;
  targetId?: string | null;
}

export interface PrepareInput {
  catalog: Catalog;
  target: Pick<Environment, 'id' | 'parameters' | 'targetOwned'>;
  policy: MatchPolicy;
  /**
   * Never change a matched object on its own: USEEXISTING even when its
   * content differs (003 has no automatic UPDATE; `changes` still lists what
   * differs). A user may still set UPDATE on an entry.
   */
  keepExisting?: boolean;
  /** Package entities in install order. */
  entities: readonly PackageEntity[];
  removals: readonly ObjectRef[];
  lookup: TargetLookup;
  /** Decisions remembered from earlier prepares into this target (applied first). */
  decisions: readonly Decision[];
  /** Overrides given with this prepare or re-validation (win over decisions). */
  overrides: readonly Override[];
  /** positionsOf(entities), when the caller has built it already. */
  positions?: KeyMap<number>;
}

export const key = (type: string, id: string): string => `${type}\u0000${id}`;

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

type Matched = { obj: StoredObject | undefined; problem: string | null; idMap: IdMapEntry | undefined };

/** How strongly an entity holds its target object: the same id first, then a user's choice, the ID map, a name. */
const MATCH_RANK: Record<MatchKind, number> = { id: 0, user: 1, idmap: 2, naturalKey: 3, none: 4 };

/**
 * One target object, one source. Two entities matched to the same object
 * would both write it (the last write would win and the ID map would point
 * two sources at it), so the strongest match keeps it. A loser matched only
 * by a non-unique name simply has no match (CREATE); any other loser is
 * invalid, with the reason naming the winner.
 */
function releaseSharedTargets(catalog: Catalog, entries: PlanEntry[], matched: Matched[]): void {
  const holder = new KeyMap<number>();
  const losers: [loser: number, winner: number][] = [];
  for (let i = 0; i < entries.length; i++) {
    const en = entries[i]!;
    if (!en.targetId || !matched[i]!.obj) continue;
    const j = holder.get(en.type, en.targetId);
    if (j === undefined) {
      holder.set(en.type, en.targetId, i);
      continue;
    }
    const other = entries[j]!;
    if (MATCH_RANK[en.match] < MATCH_RANK[other.match]) {
      holder.set(en.type, en.targetId, i);
      losers.push([j, i]);
    } else {
      losers.push([i, j]);
    }
  }
  for (const [i, w] of losers) {
    const en = entries[i]!;
    const winner = entries[w]!;
    const m = matched[i]!;
    const unique = typeSpec(catalog, en.type).naturalKey?.unique ?? false;
    if (en.match === 'naturalKey' && !unique) {
      matched[i] = { obj: undefined, problem: null, idMap: m.idMap };
      if (en.action === 'USEEXISTING') en.action = 'CREATE';
      en.autoAction = 'CREATE';
      en.targetId = null;
      en.match = 'none';
      continue;
    }
    matched[i] = {
      obj: undefined,
      problem: `target ${en.type}:${en.targetId} is already matched by ${winner.type}:${winner.sourceId} (by ${winner.match === 'naturalKey' ? 'natural key' : winner.match}); choose another target or CREATE`,
      idMap: m.idMap,
    };
  }
}

function findMatch(
  spec: TypeSpec,
  e: FerryObject,
  lookup: TargetLookup,
  policy: MatchPolicy,
  k: string = key(e.type, e.id),
): { obj: StoredObject | undefined; kind: MatchKind; problem: string | null } {
  const same = lookup.byId.get(k);
  if (policy === 'id+name') {
    if (same) {
      if (same.name === e.name) return { obj: same, kind: 'id', problem: null };
      return {
        obj: undefined,
        kind: 'none',
        problem: `conflict: target ${e.type}:${e.id} is named "${same.name}", not "${e.name}" (sync matches on id and name)`,
      };
    }
    // Another object of the target already answers to this name: creating
    // a second one would be a duplicate, updating it would cross ids (002).
    const nk = naturalKeyOf(spec, e);
    const other = nk === null ? undefined : lookup.byKey.get(key(e.type, nk))?.[0];
    if (other) {
      return {
        obj: undefined,
        kind: 'none',
        problem: `conflict: target ${e.type}:${other.id} is named "${other.name}" and has another id than ${e.id} (sync matches on id and name)`,
      };
    }
    return { obj: undefined, kind: 'none', problem: null };
  }
  if (same) return { obj: same, kind: 'id', problem: null };
  const row = lookup.idMap.get(k);
  if (row) {
    const obj = lookup.targets.get(key(e.type, row.targetId));
    if (obj) return { obj, kind: 'idmap', problem: null };
  }
  const nk = naturalKeyOf(spec, e);
  if (nk !== null) {
    const found = lookup.byKey.get(key(e.type, nk)) ?? [];
    if (found.length === 1) return { obj: found[0], kind: 'naturalKey', problem: null };
    if (found.length > 1) {
      const ids = found
        .slice(0, 3)
        .map((o) => o.id)
        .join(', ');
      return {
        obj: undefined,
        kind: 'naturalKey',
        problem: `ambiguous: ${found.length} target ${e.type} objects match "${e.name}" (${ids}${found.length > 3 ? ', ...' : ''}); choose one or CREATE`,
      };
    }
  }
  return { obj: undefined, kind: 'none', problem: null };
}

/** Each entity's position in the list, by (type, id). */
export function positionsOf(entities: readonly FerryObject[]): KeyMap<number> {
  const position = new KeyMap<number>();
  for (let i = 0; i < entities.length; i++) position.set(entities[i]!.type, entities[i]!.id, i);
  return position;
}

export interface ContentResult {
  object: FerryObject;
  missingParameters: string[];
}

/**
 * What the object will look like in the target: refs translated, `${name}`
 * parameters substituted, and (when a target object exists) target-owned
 * fields kept from it. Used both to compare (prepare) and to write (install),
 * so the plan and the install cannot disagree.
 */
export function targetContent(
  spec: TypeSpec,
  e: FerryObject,
  target: Pick<Environment, 'parameters' | 'targetOwned'>,
  translate: (type: TypeCode, id: string, field: string) => string | undefined,
  existing: FerryObject | undefined,
): ContentResult {
  let fields = rewriteRefs(spec, e.fields, translate);
  const missing = new Set<string>();
  fields = substitute(fields, target.parameters, missing) as Record<string, unknown>;
  const name = substitute(e.name, target.parameters, missing) as string;
  if (existing) {
    for (const f of targetOwnedFields(spec, target)) {
      if (f in existing.fields) fields[f] = existing.fields[f];
      else delete fields[f];
    }
  }
  return { object: { type: e.type, id: existing?.id ?? e.id, name, fields }, missingParameters: missing.size > 0 ? [...missing].sort() : [] };
}

/** The `${name}` parameters an object uses that the target does not set, sorted. */
export function missingParameters(e: FerryObject, params: Record<string, string>): string[] {
  const missing = new Set<string>();
  substitute(e.fields, params, missing);
  substitute(e.name, params, missing);
  return [...missing].sort();
}

export function targetOwnedFields(spec: TypeSpec, target: Pick<Environment, 'targetOwned'>): string[] {
  return [...(spec.targetOwned ?? []), ...(target.targetOwned[spec.code] ?? [])];
}

const PARAM = /\$\{([A-Za-z0-9_.-]+)\}/g;

/**
 * `${name}` parameters replaced in every string of a value. Copy on write:
 * what holds no parameter is returned as it is (not copied), which is nearly
 * everything; callers only ever replace top-level fields of the result.
 */
function substitute(value: unknown, params: Record<string, string>, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(PARAM, (whole, name: string) => {
      const v = params[name];
      if (v === undefined) {
        missing.add(name);
        return whole;
      }
      return v;
    });
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const w = substitute(v, params, missing);
      if (out === undefined && w !== v) out = value.slice(0, i);
      out?.push(w);
    }
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const w = substitute(v, params, missing);
      if (out === undefined && w !== v) out = { ...(value as Record<string, unknown>) };
      if (out !== undefined) out[k] = w;
    }
    return out ?? value;
  }
  return value;
}

/**
 * The action for a matched object, from its content and the type's conflict
 * rule (004 rules 1, 2, 6); with `keepExisting`, USEEXISTING whatever the
 * rule, with the fields the rule would have changed.
 */
function autoAction(spec: TypeSpec, desired: FerryObject, existing: StoredObject, keepExisting = false): { action: Action; changes: string[] } {
  if (contentHash(desired.name, desired.fields) === existing.hash) return { action: 'USEEXISTING', changes: [] };
  if (keepExisting) {
    const ruled = autoAction(spec, desired, existing);
    return { action: 'USEEXISTING', changes: ruled.changes };
  }
  switch (spec.conflictRule) {
    case 'use-existing':
      return { action: 'USEEXISTING', changes: [] };
    case 'merge': {
      const merged = mergeContent(spec, desired, existing);
      const changes = changedFields(merged, existing);
      return changes.length === 0 ? { action: 'USEEXISTING', changes: [] } : { action: 'MERGE', changes };
    }
    case 'replace':
    default:
      return { action: 'UPDATE', changes: changedFields(desired, existing) };
  }
}

/**
 * Rule 6 "merge": the target object stays as it is, except that each merge
 * field (memberships, privileges) becomes the union of both sides, target
 * values first. A type without merge fields falls back to use-existing (004).
 */
export function mergeContent(spec: TypeSpec, desired: FerryObject, existing: FerryObject): FerryObject {
  const fields = { ...existing.fields };
  for (const f of spec.mergeFields ?? []) {
    if (existing.fields[f] === undefined && desired.fields[f] === undefined) continue;
    const a = Array.isArray(existing.fields[f]) ? (existing.fields[f] as unknown[]) : [];
    const b = Array.isArray(desired.fields[f]) ? (desired.fields[f] as unknown[]) : [];
    const seen = new Set(a.map((v) => canonicalJson(v)));
    const union = [...a];
    for (const v of b) {
      const c = canonicalJson(v);
      if (!seen.has(c)) {
        seen.add(c);
        union.push(v);
      }
    }
    fields[f] = union;
  }
  return { type: existing.type, id: existing.id, name: existing.name, fields };
}

/** Names of the fields (and `name`) that differ between two versions of an object. */
export function changedFields(a: FerryObject, b: FerryObject): string[] {
  const out: string[] = [];
  if (a.name !== b.name) out.push('name');
  const names = new Set([...Object.keys(a.fields), ...Object.keys(b.fields)]);
  for (const f of [...names].sort()) {
    const va = a.fields[f];
    const vb = b.fields[f];
    if (va === undefined && vb === undefined) continue;
    if (va === undefined || vb === undefined || canonicalJson(va) !== canonicalJson(vb)) out.push(f);
  }
  return out;
}

/**
 * The validity rules (DESIGN "Prepare"), run after every override so a
 * re-validated plan is judged exactly like a fresh one.
 */
function validatePlan(
  catalog: Catalog,
  entities: readonly PackageEntity[],
  entries: PlanEntry[],
  matched: readonly Matched[],
  position: KeyMap<number>,
  translate: (type: TypeCode, id: string) => string | undefined,
  policy: MatchPolicy,
): void {
  const entryOf = (type: TypeCode, id: string): PlanEntry | undefined => {
    const i = position.get(type, id);
    return i === undefined ? undefined : entries[i];
  };
  /** (type, natural key) -> the first CREATE with it. */
  const uniqueCreates = new KeyMap<PlanEntry>();
  for (let i = 0; i < entities.length; i++) {
    const e = entities[i]!;
    const en = entries[i]!;
    const problems: string[] = [];
    const notes: string[] = [];
    if (en.reason) (en.isValid ? notes : problems).push(en.reason);
    const spec = typeSpec(catalog, e.type);
    const m = matched[i];
    const acting = en.action !== 'IGNORE';

    if ((en.action === 'UPDATE' || en.action === 'MERGE' || en.action === 'USEEXISTING') && !en.targetId) {
      if (!m?.problem) problems.push(`${en.action} needs a matching target object, and none was found`);
    }
    if (en.action === 'MERGE' && spec.conflictRule !== 'merge') {
      problems.push(`MERGE applies only to types with the merge rule (users, security roles); ${e.type} does not have it`);
    }
    if (en.action === 'REMOVE') problems.push('REMOVE applies only to the package removals');

    if (acting && (en.action === 'CREATE' || en.action === 'UPDATE' || en.action === 'MERGE')) {
      for (const ref of refsOf(spec, e)) {
        if (translate(ref.type, ref.id) !== undefined) continue;
        const target = entryOf(ref.type, ref.id);
        // An IGNOREd owner is reported once, by the owner rule below.
        if (ref.spec.owner && target?.action === 'IGNORE') continue;
        const why = target ? `${ref.type}:${ref.id} is IGNOREd and has no target object` : `${ref.type}:${ref.id} is not in the package and not in the target`;
        if (ref.spec.required) problems.push(`required ref ${ref.field} -> ${why}`);
        else notes.push(`ref ${ref.field} -> ${why}; it will be cleared`);
      }
    }

    // A child whose owner is IGNOREd must be IGNOREd too (003 "IGNORE" notes).
    // Sync keeps ids: an owner left as it is in the target still owns its children there.
    const owner = ownerRefOf(spec);
    if (owner && acting) {
      for (const ownerId of refIds(e.fields[owner[0]])) {
        const parent = entryOf(owner[1].type, ownerId);
        if (parent && parent.action === 'IGNORE' && !(policy === 'id+name' && parent.targetId)) {
          problems.push(`its owner ${parent.type}:${parent.sourceId} is IGNOREd but it is not: IGNORE it too`);
        }
      }
    }

    if (en.action === 'CREATE' && spec.naturalKey?.unique) {
      const nk = naturalKeyOf(spec, e);
      if (nk !== null) {
        if (m?.obj && en.autoAction !== 'CREATE') {
          problems.push(`CREATE would duplicate the unique ${spec.naturalKey.fields.join('+')} of target ${e.type}:${m.obj.id}`);
        }
        const other = uniqueCreates.get(e.type, nk);
        if (other)
          problems.push(
            `CREATE would duplicate the unique ${spec.naturalKey.fields.join('+')} of ${other.type}:${other.sourceId}, also created by this package`,
          );
        else uniqueCreates.set(e.type, nk, en);
      }
    }

    en.isValid = problems.length === 0;
    const all = [...new Set(problems), ...notes];
    en.reason = all.length > 0 ? all.join('; ') : null;
  }
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
