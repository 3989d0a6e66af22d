import type { Action, Environment, FerryObject, StoredObject, TypeCode, TypeSpec } from './types.js';
import { canonicalJson, contentHash } from './hash.js';
import { rewriteRefs } from './refs.js';

/** The content an object gets in the target: refs translated, parameters substituted, target-owned fields kept, merges; and what differs. */

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
  if (existing) keepOwnedFields(fields, existing, targetOwnedFields(spec, target));
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

/**
 * The target's own values of `names` written over `fields` (a name the target
 * object lacks is removed). Own fields only: a name such as `constructor` is a
 * field the target lacks, not Object.prototype's member.
 */
export function keepOwnedFields(fields: Record<string, unknown>, existing: FerryObject, names: readonly string[]): void {
  for (const f of names) {
    if (Object.hasOwn(existing.fields, f)) fields[f] = existing.fields[f];
    else delete fields[f];
  }
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
      // Own values only: a name such as `toString` is a missing parameter, not Object.prototype's function.
      const v = Object.hasOwn(params, name) ? params[name] : undefined;
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
export function autoAction(spec: TypeSpec, desired: FerryObject, existing: StoredObject, keepExisting = false): { action: Action; changes: string[] } {
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
