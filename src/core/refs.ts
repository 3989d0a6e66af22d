import { didYouMean } from './suggest.js';
import type { Catalog, FerryObject, RefSpec, TypeCode, TypeSpec } from './types.js';
import { ValidationError } from './errors.js';

/** One ref value found in an object: field `field` points at `type:id`. */
export interface RefValue {
  field: string;
  type: TypeCode;
  id: string;
  spec: RefSpec;
}

/** The type spec for a code, or a ValidationError naming the unknown type. */
export function typeSpec(catalog: Catalog, type: TypeCode): TypeSpec {
  const spec = catalog.types[type];
  if (!spec) throw new ValidationError(unknownType(catalog, type));
  return spec;
}

/** `unknown type TMPX (did you mean TMPL?); ...`: the closest codes, and where the list of types is. */
export function unknownType(catalog: Catalog, type: string): string {
  return `unknown type ${type}${didYouMean(type, Object.keys(catalog.types))}; \`ferry catalog\` or GET /api/v1/catalog lists the types of catalog ${catalog.version}`;
}

/** Ids held by one ref field: none, one, or (for `many`) several. Empty strings count as none. */
export function refIds(value: unknown): string[] {
  if (value === null || value === undefined || value === '') return [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  if (typeof value === 'string') return [value];
  return [];
}

/**
 * The ref fields of a type as a list, computed once per spec: refsOf and
 * rewriteRefs run for every entity of every plan, and `Object.entries` on
 * each call showed up in profiles of 100k-entity plans.
 */
function refEntries(spec: TypeSpec): readonly (readonly [string, RefSpec])[] {
  let list = refEntriesCache.get(spec);
  if (list === undefined) refEntriesCache.set(spec, (list = Object.entries(spec.refs)));
  return list;
}
const refEntriesCache = new WeakMap<TypeSpec, readonly (readonly [string, RefSpec])[]>();

/** Every ref an object holds, in field order. */
export function refsOf(spec: TypeSpec, obj: FerryObject): RefValue[] {
  const out: RefValue[] = [];
  for (const [field, ref] of refEntries(spec)) {
    const value = obj.fields[field];
    if (value === undefined || value === null || value === '') continue;
    for (const id of refIds(value)) out.push({ field, type: ref.type, id, spec: ref });
  }
  return out;
}

/** The owner ref of a type, if it has one (looked up once per type: every object written asks). */
export function ownerRefOf(spec: TypeSpec): readonly [string, RefSpec] | undefined {
  let owner = ownerRefCache.get(spec);
  if (owner === undefined) {
    owner = refEntries(spec).find((entry) => entry[1].owner) ?? null;
    ownerRefCache.set(spec, owner);
  }
  return owner ?? undefined;
}
const ownerRefCache = new WeakMap<TypeSpec, readonly [string, RefSpec] | null>();

/** The id of the object that owns obj, or null. */
export function ownerIdOf(spec: TypeSpec, obj: FerryObject): string | null {
  const owner = ownerRefOf(spec);
  if (!owner) return null;
  return refIds(obj.fields[owner[0]])[0] ?? null;
}

/**
 * The natural key value of an object as one string (a JSON array of the key
 * fields), or null when the type has no key or a key field is empty.
 * `name` means the object's name; other fields come from `fields`.
 */
export function naturalKeyOf(spec: TypeSpec, obj: FerryObject): string | null {
  const key = spec.naturalKey;
  if (!key || key.fields.length === 0) return null;
  const values: unknown[] = [];
  for (const f of key.fields) {
    const v = f === 'name' ? obj.name : obj.fields[f];
    if (v === undefined || v === null || v === '') return null;
    values.push(typeof v === 'string' ? v.trim().toLowerCase() : v);
  }
  return JSON.stringify(values);
}

/**
 * Rewrite every ref field through `translate`; a ref that translates to
 * undefined is dropped (null for one id, removed from an array).
 */
export function rewriteRefs(
  spec: TypeSpec,
  fields: Record<string, unknown>,
  translate: (type: TypeCode, id: string, field: string) => string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  for (const [field, ref] of refEntries(spec)) {
    const value = fields[field];
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      out[field] = (value as unknown[]).map((v) => (typeof v === 'string' && v !== '' ? translate(ref.type, v, field) : v)).filter((v) => v !== undefined);
    } else if (typeof value === 'string') {
      out[field] = translate(ref.type, value, field) ?? null;
    }
  }
  return out;
}
