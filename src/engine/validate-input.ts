import { unknownType } from '../core/refs.js';
import { z } from 'zod';
import type { Catalog, FerryObject, ObjectRef } from '../core/types.js';
import { ValidationError } from '../core/errors.js';
import { fieldsTooDeep } from '../core/limits.js';
import { parseJsonText } from '../core/json-syntax.js';

/**
 * Shapes of user input the engine accepts from every face (CLI files, native
 * API bodies, dialects), checked once here so a bad object is refused with a
 * message naming it, before anything is written.
 */
export const ENV_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what an id may not hold
const OBJECT_ID = /^[^\u0000-\u001f]{1,200}$/;

const objectSchema = z
  .object({
    type: z.string().min(1),
    id: z.string().regex(OBJECT_ID, 'must be 1-200 printable characters'),
    name: z.string().max(1000),
    fields: z.record(z.unknown()).default({}),
  })
  .strict();

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(object)'}: ${i.message}`).join('; ');
}

/** Validate objects to load; the position names the bad one (`object #3 (TMPL:x)`). */
export function validateObjects(input: unknown, catalog: Catalog): FerryObject[] {
  if (!Array.isArray(input)) throw new ValidationError('expected a JSON array of objects {type, id, name, fields}');
  const out: FerryObject[] = [];
  const seen = new Set<string>();
  input.forEach((raw, i) => {
    const parsed = objectSchema.safeParse(raw);
    const label = labelOf(raw, i);
    if (!parsed.success) throw new ValidationError(`${label}: ${describe(parsed.error)}`);
    const o = parsed.data;
    // Before anything walks the fields (the catalog refs below, hashing, planning): see src/core/limits.ts.
    const deep = fieldsTooDeep(o.fields);
    if (deep) throw new ValidationError(`${label}: ${deep}`);
    const spec = catalog.types[o.type];
    if (!spec) throw new ValidationError(`${label}: ${unknownType(catalog, o.type)}`);
    for (const [field, ref] of Object.entries(spec.refs)) {
      const v = o.fields[field];
      if (v === undefined || v === null) continue;
      const ok = ref.many ? Array.isArray(v) && v.every((x) => typeof x === 'string') : typeof v === 'string';
      if (!ok) throw new ValidationError(`${label}: ref field ${field} must be ${ref.many ? 'an array of ids' : 'an id string or null'}`);
    }
    const k = `${o.type}\u0000${o.id}`;
    if (seen.has(k)) throw new ValidationError(`${label}: ${o.type}:${o.id} appears twice in the input`);
    seen.add(k);
    out.push({ type: o.type, id: o.id, name: o.name, fields: o.fields });
  });
  return out;
}

function labelOf(raw: unknown, i: number): string {
  if (raw && typeof raw === 'object' && 'type' in raw && 'id' in raw) {
    const r = raw;
    return `object #${i + 1} (${String(r.type)}:${String(r.id)})`;
  }
  return `object #${i + 1}`;
}

/** Parse `TYPE:id[,id...]` selection arguments. */
export function parseSelection(specs: readonly string[], catalog: Catalog): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const s of specs) {
    const m = /^([A-Za-z][A-Za-z0-9_]*):(.+)$/.exec(s.trim());
    if (!m) throw new ValidationError(`bad selection "${s}": expected TYPE:id[,id...]`);
    const type = m[1]!.toUpperCase();
    if (!catalog.types[type]) throw new ValidationError(`bad selection "${s}": ${unknownType(catalog, type)}`);
    for (const id of m[2]!.split(',')) {
      const t = id.trim();
      if (t) out.push({ type, id: t });
    }
  }
  return out;
}

export const objectCollectionsSchema = z.array(
  z.object({
    objCode: z.string().min(1),
    entities: z.array(z.object({ ID: z.string().min(1), name: z.string().optional() }).passthrough()),
  }),
);

/**
 * NDJSON: one JSON value per non-empty line. A bad line throws a SyntaxError
 * naming it (`line 3, column 7: ...`), which the server answers as malformed JSON and
 * the CLI as a bad file.
 */
export function parseNdjson(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    try {
      out.push(parseJsonText(line));
    } catch (e) {
      // parseJsonText says "line 1, column C: ..." of the one line: name the line in the file.
      const where = /^line 1, (column \d+: .*)$/s.exec((e as Error).message);
      throw new SyntaxError(where ? `line ${i + 1}, ${where[1]}` : `line ${i + 1}: ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}
