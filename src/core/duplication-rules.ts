/**
 * The configuration-object rules of project duplication (004 "Export
 * settings", "Import settings"), pure: which server-scope objects (users,
 * user groups, security roles, database instances) travel with a project,
 * and what each becomes on the target server.
 *
 * 004 speaks of type numbers: 34 users (user groups share the number in the
 * product, but the document treats them apart, through
 * `includeAllUserGroups`), 44 security roles, 29 database instances, and 5
 * as "the default" for every configuration object. The catalog gives each
 * server-scope type its number; these two codes are the catalog's users and
 * user groups.
 */
import { canonicalJson } from './hash.js';
import { keepOwnedFields, mergeContent, targetOwnedFields } from './plan.js';
import { naturalKeyOf, refsOf, rewriteRefs, typeSpec } from './refs.js';
import type { Catalog, FerryObject, TypeCode, TypeSpec } from './types.js';
import { CONFLICT_RULE, DEFAULT_TYPE, EXPORT_RULE, USER_TYPE, type TypeRule } from './duplication-settings.js';

export const USER_CODE = 'USER';
export const GROUP_CODE = 'USRGRP';

const k = (type: TypeCode, id: string) => `${type}\u0000${id}`;

export interface ExportRules {
  rules: readonly TypeRule[];
  objects: readonly string[];
  includeAllUserGroups: boolean;
}

/**
 * The export rule of a type: users follow the type-34 rule, else the type-5
 * default; everything else follows the default. Without any rule, objects
 * related to the project go (rule 1), which is what type 5 must allow anyway.
 */
export function exportRuleOf(type: TypeCode, rules: readonly TypeRule[]): number {
  const byType = new Map(rules.map((r) => [r.type, r.rule]));
  const fallback = byType.get(DEFAULT_TYPE) ?? EXPORT_RULE.related;
  return type === USER_CODE ? (byType.get(USER_TYPE) ?? fallback) : fallback;
}

/**
 * The configuration objects to export with a project.
 *
 * - rule 3 (all): every object of the type;
 * - rule 2 (selected): the objects listed in `objects`;
 * - rule 1 (project-related): objects the project's objects refer to, and
 *   those the exported configuration objects refer to in turn (a selected
 *   user brings its groups and roles when their rule is 1 or 3), plus any
 *   listed in `objects` (the SDK lists objects without giving rules);
 * - rule 0 (none): nothing of the type, not even when referred to;
 * - `includeAllUserGroups`: every user group, whatever the rules.
 *
 * `projectRefs` are the server-scope refs held by the project's own objects.
 */
export function selectConfigurationObjects(
  catalog: Catalog,
  serverObjects: readonly FerryObject[],
  projectRefs: readonly { type: TypeCode; id: string }[],
  rules: ExportRules,
): FerryObject[] {
  const byKey = new Map(serverObjects.map((o) => [k(o.type, o.id), o]));
  const listed = new Set(rules.objects);
  const chosen = new Map<string, FerryObject>();
  const queue: FerryObject[] = [];
  const take = (o: FerryObject) => {
    const key = k(o.type, o.id);
    if (chosen.has(key)) return;
    chosen.set(key, o);
    queue.push(o);
  };
  for (const o of serverObjects) {
    const rule = exportRuleOf(o.type, rules.rules);
    if (rule === EXPORT_RULE.all) take(o);
    else if ((rule === EXPORT_RULE.selected || rule === EXPORT_RULE.related) && listed.has(o.id)) take(o);
    else if (o.type === GROUP_CODE && rules.includeAllUserGroups) take(o);
  }
  const related = (ref: { type: TypeCode; id: string }) => {
    const o = byKey.get(k(ref.type, ref.id));
    if (o && exportRuleOf(o.type, rules.rules) === EXPORT_RULE.related) take(o);
  };
  for (const ref of projectRefs) related(ref);
  while (queue.length > 0) {
    const o = queue.pop()!;
    const spec = catalog.types[o.type];
    if (spec) for (const ref of refsOf(spec, o)) related(ref);
  }
  return [...chosen.values()].sort((a, b) => (a.type === b.type ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.type < b.type ? -1 : 1));
}

/** The server-scope refs an object holds (what makes a configuration object "related to the project"). */
export function serverRefsOf(catalog: Catalog, obj: FerryObject): { type: TypeCode; id: string }[] {
  const spec = catalog.types[obj.type];
  if (!spec) return [];
  return refsOf(spec, obj)
    .filter((r) => catalog.types[r.type]?.scope === 'server')
    .map((r) => ({ type: r.type, id: r.id }));
}

export interface ImportRules {
  conflictRules: readonly TypeRule[];
  matchUsersByLogin: boolean;
  typesMatchByName?: readonly number[];
}

export type ConfigOutcome = 'created' | 'replaced' | 'merged' | 'kept' | 'unchanged';

/** What one incoming configuration object becomes on the target server. */
export interface ConfigDecision {
  type: TypeCode;
  sourceId: string;
  targetId: string;
  outcome: ConfigOutcome;
  /** How the target object was found: its id, the user's login (matchUsersByLogin), its name (typesMatchByName), or none (created). */
  matchedBy: 'id' | 'login' | 'name' | null;
  /** The conflict rule applied (1, 2, 6), for an object that met one. */
  rule: number | null;
  /** Set when the object was renamed to keep its natural key unique: the value it had. */
  renamedFrom?: string;
  /** The content to write (created, replaced, merged); null when the target keeps its object. */
  object: FerryObject | null;
}

const CATALOG_RULE: Record<TypeSpec['conflictRule'], number> = {
  'use-existing': CONFLICT_RULE.useExisting,
  replace: CONFLICT_RULE.replace,
  merge: CONFLICT_RULE.merge,
};

/** The conflict rule of a type: its own number's, else type 5's (the default), else the catalog's. */
export function conflictRuleOf(spec: TypeSpec, rules: readonly TypeRule[]): number {
  const byType = new Map(rules.map((r) => [r.type, r.rule]));
  return (spec.typeNumber !== undefined ? byType.get(spec.typeNumber) : undefined) ?? byType.get(DEFAULT_TYPE) ?? CATALOG_RULE[spec.conflictRule];
}

/** Whether the type's natural key must be unique (logins, group and role names). */
const uniqueKey = (spec: TypeSpec) => !!spec.naturalKey?.unique && spec.naturalKey.fields.length === 1;

/**
 * Give an object a free natural key: `login_1`, `login_2`... for a field,
 * `Name (1)`, `Name (2)`... for the name. Returns the object unchanged when
 * its key is free.
 */
function withFreeKey(spec: TypeSpec, obj: FerryObject, taken: (nk: string) => boolean): { object: FerryObject; renamedFrom?: string } {
  const nk = naturalKeyOf(spec, obj);
  if (!uniqueKey(spec) || nk === null || !taken(nk)) return { object: obj };
  const field = spec.naturalKey!.fields[0]!;
  const original = field === 'name' ? obj.name : String(obj.fields[field]);
  for (let n = 1; ; n++) {
    const value = field === 'name' ? `${original} (${n})` : `${original}_${n}`;
    const next = field === 'name' ? { ...obj, name: value } : { ...obj, fields: { ...obj.fields, [field]: value } };
    const key = naturalKeyOf(spec, next);
    if (key !== null && !taken(key)) return { object: next, renamedFrom: original };
  }
}

/**
 * Decide what each incoming configuration object becomes on the target.
 *
 * Matching (004 "Import settings"): a conflict is an object with the same
 * type and id on both sides. A user with no id match but the same login is
 * the same person when `matchUsersByLogin` is true (the source id is changed
 * to the target's, then the conflict rule applies); when false both are kept
 * and the incoming login is changed (`ann` -> `ann_1`). Types listed in
 * `typesMatchByName` match by name the same way. Any other object whose
 * unique name is already taken is kept under a new name (`Analysts (1)`).
 *
 * Conflict rules: 1 keeps the target object, 2 replaces it (fields the
 * catalog declares target-owned, a user's password hash, a database
 * instance's connection, stay the target's), 6 merges memberships and
 * privileges for users and security roles and falls back to 1 elsewhere.
 * Refs between incoming objects follow the ids they end up with.
 */
export function resolveConfigurationObjects(
  catalog: Catalog,
  incoming: readonly FerryObject[],
  target: readonly FerryObject[],
  rules: ImportRules,
): { decisions: ConfigDecision[]; translate: (type: TypeCode, id: string) => string } {
  const targetById = new Map(target.map((o) => [k(o.type, o.id), o]));
  const targetByKey = new Map<string, FerryObject[]>();
  for (const o of target) {
    const nk = naturalKeyOf(typeSpec(catalog, o.type), o);
    if (nk === null) continue;
    const list = targetByKey.get(k(o.type, nk));
    if (list) list.push(o);
    else targetByKey.set(k(o.type, nk), [o]);
  }
  const byName = new Set(rules.typesMatchByName ?? []);

  // Ids first: an id match is the strongest, so its target object is claimed before any login or name match.
  const targetIdOf = new Map<string, { id: string; matchedBy: ConfigDecision['matchedBy'] }>();
  const claimed = new Set<string>();
  for (const s of incoming) {
    if (targetById.has(k(s.type, s.id))) {
      targetIdOf.set(k(s.type, s.id), { id: s.id, matchedBy: 'id' });
      claimed.add(k(s.type, s.id));
    }
  }
  for (const s of incoming) {
    if (targetIdOf.has(k(s.type, s.id))) continue;
    const spec = typeSpec(catalog, s.type);
    const nk = naturalKeyOf(spec, s);
    const byLogin = s.type === USER_CODE && rules.matchUsersByLogin;
    const named = spec.typeNumber !== undefined && byName.has(spec.typeNumber);
    const candidates = nk === null ? [] : (targetByKey.get(k(s.type, nk)) ?? []).filter((t) => !claimed.has(k(t.type, t.id)));
    if ((byLogin || named) && candidates.length === 1) {
      const t = candidates[0]!;
      targetIdOf.set(k(s.type, s.id), { id: t.id, matchedBy: byLogin ? 'login' : 'name' });
      claimed.add(k(t.type, t.id));
    } else {
      targetIdOf.set(k(s.type, s.id), { id: s.id, matchedBy: null });
    }
  }
  const translate = (type: TypeCode, id: string) => targetIdOf.get(k(type, id))?.id ?? id;

  // Natural keys in use once the import is done: the target's (minus those
  // an incoming object rewrites) plus every incoming object's final key.
  const keyOf = new Map<string, string>();
  const holders = new Map<string, Set<string>>();
  const setKey = (owner: string, type: TypeCode, nk: string) => {
    const old = keyOf.get(owner);
    if (old !== undefined) holders.get(k(type, old))?.delete(owner);
    keyOf.set(owner, nk);
    const set = holders.get(k(type, nk));
    if (set) set.add(owner);
    else holders.set(k(type, nk), new Set([owner]));
  };
  for (const o of target) {
    const nk = naturalKeyOf(typeSpec(catalog, o.type), o);
    if (nk !== null) setKey(k(o.type, o.id), o.type, nk);
  }
  const takenBy = (type: TypeCode, nk: string, except: string) => [...(holders.get(k(type, nk)) ?? [])].some((owner) => owner !== except);

  const decisions: ConfigDecision[] = [];
  for (const s of incoming) {
    const spec = typeSpec(catalog, s.type);
    const { id: targetId, matchedBy } = targetIdOf.get(k(s.type, s.id))!;
    const desired: FerryObject = { type: s.type, id: targetId, name: s.name, fields: rewriteRefs(spec, s.fields, (type, id) => translate(type, id)) };
    const existing = targetById.get(k(s.type, targetId));
    const base = { type: s.type, sourceId: s.id, targetId, matchedBy };
    let write: FerryObject | null = null;
    let outcome: ConfigOutcome;
    let rule: number | null = null;
    if (!existing) {
      write = desired;
      outcome = 'created';
    } else {
      rule = conflictRuleOf(spec, rules.conflictRules);
      const replaced = keepTargetOwned(spec, desired, existing);
      if (sameContent(replaced, existing)) outcome = 'unchanged';
      else if (rule === CONFLICT_RULE.replace) {
        write = replaced;
        outcome = 'replaced';
      } else if (rule === CONFLICT_RULE.merge && (spec.mergeFields?.length ?? 0) > 0) {
        const merged = mergeContent(spec, desired, existing);
        if (sameContent(merged, existing)) outcome = 'unchanged';
        else {
          write = merged;
          outcome = 'merged';
        }
      } else outcome = 'kept';
    }
    let renamedFrom: string | undefined;
    if (write) {
      const own = k(s.type, targetId);
      const renamed = withFreeKey(spec, write, (nk) => takenBy(s.type, nk, own));
      write = renamed.object;
      renamedFrom = renamed.renamedFrom;
      const nk = naturalKeyOf(spec, write);
      if (nk !== null) setKey(own, s.type, nk);
    }
    decisions.push({ ...base, outcome, rule, ...(renamedFrom !== undefined ? { renamedFrom } : {}), object: write });
  }
  return { decisions, translate };
}

/** The desired content with the target's own fields kept (what a replace writes). */
function keepTargetOwned(spec: TypeSpec, desired: FerryObject, existing: FerryObject): FerryObject {
  const fields = { ...desired.fields };
  keepOwnedFields(fields, existing, targetOwnedFields(spec, { targetOwned: {} }));
  return { ...desired, fields };
}

function sameContent(a: FerryObject, b: FerryObject): boolean {
  return a.name === b.name && canonicalJson(a.fields) === canonicalJson(b.fields);
}
