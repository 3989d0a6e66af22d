/**
 * The type catalog as a file: parse, check, merge, write back. Pure; the
 * reading half is `readCatalog` in src/engine/catalog-file.ts.
 *
 * File format (JSON):
 *   { "version"?: string, "extend"?: boolean, "types": TypeSpecInput[] }
 * where a TypeSpecInput is a TypeSpec whose optional parts default to:
 * fields [], refs {}, includes [code], scope 'environment', conflictRule
 * 'replace', promotable true, part 'metadata', label = code.
 */
import { z } from 'zod';
import { ownerRefOf } from './refs.js';
import { DEFAULT_CATALOG } from './default-catalog.js';
import { ValidationError } from './errors.js';
import { typeTable } from './type-table.js';
import type { Catalog, RefSpec, TypeCode, TypeSpec } from './types.js';

export const TYPE_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,15}$/;

// `.strict()` everywhere: a misspelt key (`refz`, `ownr`) would otherwise be
// dropped silently and the catalog would quietly mean something else.
const refSchema = z
  .object({
    type: z.string().min(1),
    required: z.boolean().optional(),
    many: z.boolean().optional(),
    owner: z.boolean().optional(),
  })
  .strict();

const naturalKeySchema = z
  .object({
    fields: z.array(z.string().min(1)),
    // Non-unique is the safe default: a match is reported ambiguous rather
    // than silently bound to the wrong object.
    unique: z.boolean().default(false),
  })
  .strict();

/** A pack array name: a JSON key a client can spell in any language; `options` and `source` are the pack's own. */
export const PACK_ARRAY_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const packSchema = z
  .object({
    array: z
      .string()
      .regex(PACK_ARRAY_PATTERN, 'must be letters, digits and _ (starting with a letter)')
      .refine((a) => a !== 'options' && a !== 'source', 'options and source are reserved in a sync pack'),
    name: z.string().min(1).optional(),
  })
  .strict();

const typeSpecSchema = z
  .object({
    code: z.string(),
    label: z.string().min(1).optional(),
    part: z.string().min(1).default('metadata'),
    fields: z.array(z.string().min(1)).default([]),
    refs: z.record(z.string().min(1), refSchema).default({}),
    includes: z.array(z.string()).optional(),
    naturalKey: naturalKeySchema.optional(),
    typeNumber: z.number().int().nonnegative().optional(),
    scope: z.enum(['environment', 'server']).default('environment'),
    conflictRule: z.enum(['use-existing', 'replace', 'merge']).default('replace'),
    targetOwned: z.array(z.string().min(1)).optional(),
    mergeFields: z.array(z.string().min(1)).optional(),
    promotable: z.boolean().default(true),
    pack: packSchema.optional(),
  })
  .strict();

const catalogFileSchema = z
  .object({
    // Lets editors attach a JSON schema without the file being rejected.
    $schema: z.string().optional(),
    version: z.string().min(1).optional(),
    extend: z.boolean().optional(),
    types: z.array(typeSpecSchema),
  })
  .strict();

/** One type as written in a catalog file (optional parts defaulted on read). */
export type TypeSpecInput = z.input<typeof typeSpecSchema>;
/** A catalog file as written on disk. */
export type CatalogFile = z.input<typeof catalogFileSchema>;

type Result<T> = { value: T } | { errors: string[] };

interface ParsedFile {
  version: string | undefined;
  extend: boolean;
  types: TypeSpec[];
}

/** Version given to a replacing file that names none. */
const UNVERSIONED = 'custom';

/**
 * Validates a catalog file as a complete catalog (`extend` is not honoured
 * here: use `resolveCatalog` for files that extend the default).
 *
 * @example
 * const r = validateCatalog(JSON.parse(text));
 * if ('errors' in r) console.error(r.errors.join('\n'));
 */
export function validateCatalog(json: unknown): Result<Catalog> {
  const parsed = parseCatalogFile(json);
  if ('errors' in parsed) return parsed;
  const catalog = toCatalog(parsed.value.version ?? UNVERSIONED, parsed.value.types);
  const errors = checkCatalog(catalog);
  return errors.length > 0 ? { errors } : { value: catalog };
}

/**
 * `overlay` types replace base types of the same code and add the others;
 * the result is checked as a whole (an overlay ref may point at a base type,
 * an overlay owner ref may close a cycle with one). The version records both.
 *
 * @throws ValidationError when the merged catalog is inconsistent.
 */
export function mergeCatalogs(base: Catalog, overlay: Catalog): Catalog {
  const merged = overlayCatalog(base, overlay);
  const errors = checkCatalog(merged);
  if (errors.length > 0) throw new ValidationError(errors.join('; '));
  return merged;
}

function overlayCatalog(base: Catalog, overlay: Catalog): Catalog {
  return {
    version: `${base.version}+${overlay.version}`,
    // Spread keeps base order, replaced codes in place, new codes at the end.
    types: typeTable([...Object.entries(base.types), ...Object.entries(overlay.types)]),
  };
}

/**
 * The catalog a server runs with, given its catalog file: with
 * `"extend": true` the file's types are laid over `base` (version
 * `<base>+<file version or "extended">`); otherwise the file replaces `base`
 * entirely.
 */
export function resolveCatalog(fileJson: unknown, base: Catalog = DEFAULT_CATALOG): Result<Catalog> {
  const parsed = parseCatalogFile(fileJson);
  if ('errors' in parsed) return parsed;
  const file = parsed.value;
  if (!file.extend) {
    const catalog = toCatalog(file.version ?? UNVERSIONED, file.types);
    const errors = checkCatalog(catalog);
    return errors.length > 0 ? { errors } : { value: catalog };
  }
  const merged = overlayCatalog(base, toCatalog(file.version ?? 'extended', file.types));
  const errors = checkCatalog(merged);
  return errors.length > 0 ? { errors } : { value: merged };
}

/**
 * The file form of a catalog (types as an array, every default spelt out),
 * so `validateCatalog(catalogToJson(c))` gives back `c`. The result is a deep
 * copy and safe to edit.
 */
export function catalogToJson(c: Catalog): { version: string; types: TypeSpec[] } {
  return { version: c.version, types: structuredClone(Object.values(c.types)) };
}

export interface ChildType {
  type: TypeCode;
  /** The child's owner ref field that points at the parent. */
  field: string;
}

// Assembly asks this for every object it visits; catalogs are treated as
// immutable once built, so the inverse index is computed once per catalog.
const childIndex = new WeakMap<Catalog, Map<TypeCode, ChildType[]>>();

/**
 * Types whose owner ref points at `code`, i.e. the types of its owned
 * children. A self-owning type (GROUP via parentID) lists itself.
 *
 * @example
 * childTypesOf(DEFAULT_CATALOG, 'TMPL') // [{ type: 'TTSK', field: 'templateID' }]
 */
export function childTypesOf(catalog: Catalog, code: TypeCode): ChildType[] {
  let index = childIndex.get(catalog);
  if (!index) {
    index = new Map();
    for (const spec of Object.values(catalog.types)) {
      const owner = ownerRefOf(spec);
      if (!owner) continue;
      const [field, ref] = owner;
      const list = index.get(ref.type) ?? [];
      list.push({ type: spec.code, field });
      index.set(ref.type, list);
    }
    childIndex.set(catalog, index);
  }
  return index.get(code) ?? [];
}

// ---------------------------------------------------------------------------

/** Shape checks and defaults; also the checks that only make sense within one file. */
function parseCatalogFile(json: unknown): Result<ParsedFile> {
  const result = catalogFileSchema.safeParse(json);
  if (!result.success) {
    return { errors: result.error.issues.map((issue) => formatIssue(issue, json)) };
  }
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const t of result.data.types) {
    if (!TYPE_CODE_PATTERN.test(t.code)) {
      errors.push(`type code ${JSON.stringify(t.code)} is invalid: must match ${String(TYPE_CODE_PATTERN)}`);
    }
    if (seen.has(t.code)) errors.push(`duplicate type code ${t.code}`);
    seen.add(t.code);
  }
  if (errors.length > 0) return { errors };

  const types = result.data.types.map((t): TypeSpec => {
    const spec: TypeSpec = {
      code: t.code,
      label: t.label ?? t.code,
      part: t.part,
      fields: t.fields,
      refs: Object.fromEntries(Object.entries(t.refs).map(([field, r]) => [field, normalizeRef(r)])),
      includes: t.includes ?? [t.code],
      scope: t.scope,
      conflictRule: t.conflictRule,
      promotable: t.promotable,
    };
    // Optional parts are only set when present, so a parsed spec deep-equals
    // the one it was written from.
    if (t.naturalKey) spec.naturalKey = { fields: t.naturalKey.fields, unique: t.naturalKey.unique };
    if (t.typeNumber !== undefined) spec.typeNumber = t.typeNumber;
    if (t.targetOwned) spec.targetOwned = t.targetOwned;
    if (t.mergeFields) spec.mergeFields = t.mergeFields;
    if (t.pack) spec.pack = t.pack.name ? { array: t.pack.array, name: t.pack.name } : { array: t.pack.array };
    return spec;
  });
  return { value: { version: result.data.version, extend: result.data.extend ?? false, types } };
}

function normalizeRef(r: z.output<typeof refSchema>): RefSpec {
  const ref: RefSpec = { type: r.type };
  if (r.required !== undefined) ref.required = r.required;
  if (r.many !== undefined) ref.many = r.many;
  if (r.owner !== undefined) ref.owner = r.owner;
  return ref;
}

function toCatalog(version: string, types: TypeSpec[]): Catalog {
  return { version, types: typeTable(types.map((t) => [t.code, t] as const)) };
}

/** Names the offending type by its code when the file gives one: `type TTSK: refs.templateID.type: ...`. */
function formatIssue(issue: z.ZodIssue, json: unknown): string {
  const path = issue.path;
  if (path[0] === 'types' && typeof path[1] === 'number') {
    const raw: unknown = (json as { types: unknown[] }).types[path[1]];
    const code = raw !== null && typeof raw === 'object' ? (raw as { code?: unknown }).code : undefined;
    const where = typeof code === 'string' && code !== '' ? `type ${code}` : `types[${path[1]}]`;
    const rest = formatPath(path.slice(2));
    return rest ? `${where}: ${rest}: ${issue.message}` : `${where}: ${issue.message}`;
  }
  const rest = formatPath(path);
  return rest ? `${rest}: ${issue.message}` : issue.message;
}

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Checks that need the whole catalog: targets of refs and includes, owner structure. */
function checkCatalog(catalog: Catalog): string[] {
  const errors: string[] = [];
  const known = (code: TypeCode): boolean => Object.hasOwn(catalog.types, code);

  for (const spec of Object.values(catalog.types)) {
    const at = `type ${spec.code}`;
    const owners: string[] = [];
    for (const [field, ref] of Object.entries(spec.refs)) {
      if (!known(ref.type)) errors.push(`${at}: ref ${field} points at unknown type ${ref.type}`);
      if (ref.owner) {
        owners.push(field);
        // An object has one owner; an array of owners has no meaning for
        // "pulled in with" or "invalid when the owner is ignored".
        if (ref.many) errors.push(`${at}: owner ref ${field} cannot be many`);
      }
    }
    if (owners.length > 1) errors.push(`${at}: more than one owner ref (${owners.join(', ')})`);

    const listed = new Set<TypeCode>();
    for (const inc of spec.includes) {
      if (!known(inc)) errors.push(`${at}: includes unknown type ${inc}`);
      if (listed.has(inc)) errors.push(`${at}: includes lists ${inc} twice`);
      listed.add(inc);
    }
    // Assembly keeps only objects whose type is in the selected type's
    // includes; without itself, selecting an object would keep nothing.
    if (!listed.has(spec.code)) errors.push(`${at}: includes must list ${spec.code} itself`);

    if (spec.naturalKey && spec.naturalKey.fields.length === 0) errors.push(`${at}: naturalKey has no fields`);
  }

  // A pack array holds one type: its objects carry no type of their own.
  const travellers = new Map<string, TypeCode>();
  for (const spec of Object.values(catalog.types)) {
    const array = spec.pack?.array ?? spec.code;
    const other = travellers.get(array);
    if (other) errors.push(`types ${other} and ${spec.code} both travel in sync pack array ${array}`);
    else travellers.set(array, spec.code);
  }

  errors.push(...findOwnerCycles(catalog).map((cycle) => `owned children form a cycle: ${cycle.join(' -> ')}`));
  return errors;
}

/**
 * Cycles of owner refs between distinct types, each as a path that returns
 * to its start (`A -> B -> A`: A's owner ref points at B, B's at A), rotated
 * to start at its smallest code so each cycle is reported once. A type owning
 * itself is a hierarchy, not a cycle.
 */
function findOwnerCycles(catalog: Catalog): TypeCode[][] {
  const ownersOf = (code: TypeCode): TypeCode[] =>
    Object.values(catalog.types[code]?.refs ?? {})
      .filter((r) => r.owner && r.type !== code && Object.hasOwn(catalog.types, r.type))
      .map((r) => r.type);

  const cycles = new Map<string, TypeCode[]>();
  const state = new Map<TypeCode, 'visiting' | 'done'>();
  const stack: TypeCode[] = [];

  const visit = (code: TypeCode): void => {
    state.set(code, 'visiting');
    stack.push(code);
    for (const next of ownersOf(code)) {
      const s = state.get(next);
      if (s === 'visiting') {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        cycles.set(rotated.join(' '), [...rotated, rotated[0]!]);
      } else if (s === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(code, 'done');
  };

  for (const code of Object.keys(catalog.types)) {
    if (!state.has(code)) visit(code);
  }
  return [...cycles.values()];
}
