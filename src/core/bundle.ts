/**
 * The `.ferry` bundle codec (shared/DESIGN.md "Bundle format"): pure line
 * encoders and parsers. The file IO (gzip, streaming, temp files) lives in
 * src/engine/bundle-io.ts; this module only turns values into lines and lines
 * into values, so that both the `.ferry` writer and the directory writer hash
 * exactly the same bytes.
 *
 * A bundle is NDJSON: line 1 the header, then one canonical-JSON line per
 * entity, then the trailer `{"trailer":true,"count":N,"sha256":"<hex>"}` where
 * the hash is taken over every entity line's UTF-8 bytes followed by `\n`.
 */
import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { parseSignature, type BundleSignature } from './bundle-signature.js';
import { ValidationError } from './errors.js';
import { PROTO_KEY_REFUSED, parseJsonRefusingProto } from './json-syntax.js';
import { canonicalJson, sha256 as sha256Hex } from './hash.js';
import { fieldsTooDeep } from './limits.js';
import type { ObjectCollection, ObjectRef, PackageMetadata } from './types.js';

export const BUNDLE_FORMAT = 'ferry-bundle';
export const BUNDLE_FORMAT_VERSION = 1;

export interface BundleHeader {
  format: 'ferry-bundle';
  formatVersion: number;
  createdAt: string;
  catalogVersion: string;
  source: { envId: string; uid: string; name: string; tier: string; url: string };
  package: {
    id: string;
    name: string;
    description: string;
    version: number;
    status: string;
    objectCollections: ObjectCollection[];
    removals: ObjectRef[];
    metadata: PackageMetadata;
  };
  /** Entities by type code; must add up to `entityCount`. */
  counts: Record<string, number>;
  entityCount: number;
  /** A project duplication package (004): the source side of its record, so a restoration can show it. */
  duplication?: Record<string, unknown>;
}

export interface BundleEntity {
  type: string;
  id: string;
  name: string;
  fields: Record<string, unknown>;
}

export interface BundleTrailer {
  count: number;
  sha256: string;
  /** The exporting server's signature (src/core/bundle-signature.ts); absent in an unsigned bundle. */
  signature?: BundleSignature;
}

const count = z.number().int().nonnegative();

// Unknown keys are stripped, not refused: a later minor revision may add
// informative header fields without bumping formatVersion.
const headerSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  formatVersion: z.literal(BUNDLE_FORMAT_VERSION),
  createdAt: z.string(),
  catalogVersion: z.string(),
  source: z.object({
    envId: z.string(),
    uid: z.string(),
    name: z.string(),
    tier: z.string(),
    url: z.string(),
  }),
  package: z.object({
    id: z.string().min(1),
    name: z.string(),
    description: z.string(),
    version: count,
    status: z.string(),
    objectCollections: z.array(
      z.object({
        objCode: z.string(),
        entities: z.array(z.object({ ID: z.string(), name: z.string().optional() })),
      }),
    ),
    removals: z.array(z.object({ type: z.string(), id: z.string(), name: z.string().optional() })),
    metadata: z.object({
      installOrder: z.array(z.string()),
      displayOrder: z.array(z.string()),
      deferredRefs: count,
    }),
  }),
  counts: z.record(z.string(), count),
  entityCount: count,
  duplication: z.record(z.string(), z.unknown()).optional(),
});

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The header line: canonical JSON (sorted keys), no trailing newline. */
export function encodeHeader(header: BundleHeader): string {
  return canonicalJson(header);
}

/**
 * One entity line: canonical JSON of exactly `{fields, id, name, type}`, so
 * that extra properties a caller's object happens to carry (hash, ord, via)
 * never leak into the bundle or its digest.
 */
export function encodeEntity(entity: BundleEntity): string {
  return canonicalJson({ type: entity.type, id: entity.id, name: entity.name, fields: entity.fields });
}

/**
 * The trailer line. Its key order is fixed by the format
 * (`trailer`, `count`, `sha256`, then `signature` when signed), not sorted:
 * it is written, never hashed.
 */
export function encodeTrailer(count: number, sha256: string, signature?: BundleSignature): string {
  return JSON.stringify(signature === undefined ? { trailer: true, count, sha256 } : { trailer: true, count, sha256, signature });
}

/**
 * Validate the header line. Pure; the caller decides how to word the refusal
 * around these messages (they name no file).
 *
 * The checks run in order format, version, shape, so that a bundle from a
 * newer Ferry is refused for its version rather than for fields this version
 * does not know.
 *
 * @example
 * const r = parseHeader(firstLine);
 * if ('errors' in r) throw new ValidationError(`bundle ${path}: ${r.errors.join('; ')}`);
 */
export function parseHeader(line: string): { value: BundleHeader } | { errors: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { errors: ['not a Ferry bundle (the first line is not JSON)'] };
  }
  if (!isPlainObject(json)) return { errors: ['not a Ferry bundle (the first line is not a JSON object)'] };
  if (json.format !== BUNDLE_FORMAT) {
    const what = json.format === undefined ? 'no "format" in the header' : `format is ${describe(json.format)}`;
    return { errors: [`not a Ferry bundle (${what})`] };
  }
  if (json.formatVersion === undefined) return { errors: ['invalid bundle header: no "formatVersion"'] };
  if (json.formatVersion !== BUNDLE_FORMAT_VERSION) {
    return {
      errors: [`bundle format version ${describe(json.formatVersion)} is not supported (this Ferry reads version ${BUNDLE_FORMAT_VERSION})`],
    };
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((i) => `invalid bundle header: ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const value: BundleHeader = parsed.data;
  const sum = Object.values(value.counts).reduce((a, b) => a + b, 0);
  if (sum !== value.entityCount) {
    return { errors: [`invalid bundle header: counts add up to ${sum} but entityCount is ${value.entityCount}`] };
  }
  return { value };
}

/**
 * Parse one line after the header: an entity, or the trailer. The reader
 * needs this combined form because it cannot know which line is the last
 * before it has parsed it, and parsing 1M lines twice would be wasteful.
 * Throws ValidationError naming the line (1-based, header = line 1).
 */
export function parseBundleLine(line: string, lineNo: number): { entity: BundleEntity; trailer?: undefined } | { trailer: BundleTrailer; entity?: undefined } {
  let json: unknown;
  try {
    json = parseBundleJson(line);
  } catch (e) {
    // Refused as the API refuses it: a reader's first copy of the fields would set a prototype, not keep a field.
    if (e instanceof SyntaxError && e.message === PROTO_KEY_REFUSED) throw new ValidationError(`line ${lineNo}: ${PROTO_KEY_REFUSED}`);
    throw new ValidationError(`line ${lineNo} is not valid JSON`);
  }
  if (!isPlainObject(json)) throw new ValidationError(`line ${lineNo} is not a JSON object`);
  if (Object.hasOwn(json, 'trailer')) return { trailer: checkTrailer(json, lineNo) };
  return { entity: checkEntity(json, `line ${lineNo}`) };
}

/**
 * JSON.parse refusing `__proto__` keys. Its reviver recurses, so a line
 * nested deeper than the stack allows is parsed without it: checkEntity then
 * refuses the line for its depth (MAX_FIELD_DEPTH is far below the stack's).
 */
function parseBundleJson(line: string): unknown {
  try {
    return parseJsonRefusingProto(line);
  } catch (e) {
    if (e instanceof RangeError) return JSON.parse(line) as unknown;
    throw e;
  }
}

/** Parse one entity line; throws ValidationError naming the line on bad JSON or shape. */
export function parseEntity(line: string, lineNo: number): BundleEntity {
  const r = parseBundleLine(line, lineNo);
  if (r.entity === undefined) throw new ValidationError(`line ${lineNo} is a trailer, not an entity`);
  return r.entity;
}

/**
 * Check that a value is a well-formed entity, exactly `{type, id, name,
 * fields}`. Hand-written rather than zod: it runs once per entity on the hot
 * path of a 1M-entity import. `where` prefixes the message (`line 12`).
 */
export function checkEntity(value: unknown, where: string): BundleEntity {
  if (!isPlainObject(value)) throw new ValidationError(`${where} is not an entity object`);
  for (const key of Object.keys(value)) {
    if (key !== 'type' && key !== 'id' && key !== 'name' && key !== 'fields') {
      throw new ValidationError(`${where} has an unexpected key ${JSON.stringify(key)}`);
    }
  }
  const { type, id, name, fields } = value;
  if (typeof type !== 'string' || type === '') throw new ValidationError(`${where} has no "type" string`);
  if (typeof id !== 'string' || id === '') throw new ValidationError(`${where} has no "id" string`);
  if (typeof name !== 'string') throw new ValidationError(`${where} has no "name" string`);
  if (!isPlainObject(fields)) throw new ValidationError(`${where} has no "fields" object`);
  // Before the fields reach anything recursive (hashing, planning, export).
  const deep = fieldsTooDeep(fields);
  if (deep !== null) throw new ValidationError(`${where}: ${deep}`);
  return { type, id, name, fields };
}

function checkTrailer(json: Record<string, unknown>, lineNo: number): BundleTrailer {
  const { trailer, count: n, sha256 } = json;
  const extra = Object.keys(json).find((k) => k !== 'trailer' && k !== 'count' && k !== 'sha256' && k !== 'signature');
  if (
    trailer !== true ||
    extra !== undefined ||
    typeof n !== 'number' ||
    !Number.isSafeInteger(n) ||
    n < 0 ||
    typeof sha256 !== 'string' ||
    !SHA256_HEX.test(sha256)
  ) {
    throw new ValidationError(`line ${lineNo} is a malformed trailer`);
  }
  if (!Object.hasOwn(json, 'signature')) return { count: n, sha256 };
  const signature = parseSignature(json.signature);
  if (signature === null) {
    throw new ValidationError(
      `line ${lineNo} is a malformed trailer: its signature is not {"alg":"ed25519","key":<32 bytes base64>,"value":<64 bytes base64>}`,
    );
  }
  return { count: n, sha256, signature };
}

/**
 * Incremental SHA-256 over entity lines, each line's UTF-8 bytes followed by
 * `\n`: the trailer's `sha256`. Accepts raw bytes too, so that the reader
 * hashes exactly what is in the file rather than a decoded-and-re-encoded
 * copy (invalid UTF-8 must not hash like U+FFFD).
 */
export class EntityDigest {
  readonly #hash: Hash = createHash('sha256');
  #count = 0;
  #hex: string | undefined;

  add(line: string | Uint8Array): void {
    if (this.#hex !== undefined) throw new Error('EntityDigest.add after digest()');
    this.#hash.update(line);
    this.#hash.update('\n');
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** Hex digest; idempotent (node's Hash can only be finalised once). */
  digest(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }
}

/**
 * Pretty JSON for files people review in Git: keys sorted in the same order
 * as canonicalJson (UTF-16 code units), 2-space indent, trailing newline.
 * Not `JSON.stringify(JSON.parse(canonical), null, 2)`: JS objects enumerate
 * integer-like keys first, which would break the sorted order.
 */
export function prettyJson(value: unknown): string {
  return `${pretty(value, '')}\n`;
}

function pretty(value: unknown, indent: string): string {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') {
    // undefined/functions/symbols have no JSON form; inside arrays JSON says null.
    return JSON.stringify(value) ?? 'null';
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => {
      const t = typeof record[k];
      return t !== 'undefined' && t !== 'function' && t !== 'symbol';
    })
    .sort();
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pretty(record[k], inner)}`).join(',\n')}\n${indent}}`;
}

const FILE_NAME_KEEP = /^[A-Za-z0-9_.-]$/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const MAX_FILE_NAME = 200;
const utf8 = new TextEncoder();

/**
 * A file-name-safe, reversible spelling of an id or type code, for the
 * `<type>/<id>.json` directory layout. The rule:
 *
 * - ASCII letters, digits, `-`, `_` and `.` stay; every other UTF-8 byte
 *   (including `/`, `\`, `%`, NUL, spaces, non-ASCII) becomes `%XX`, upper-case
 *   hex. `%` itself is encoded, so distinct ids give distinct names.
 * - A leading or trailing `.` is encoded (`..` -> `%2E%2E`, `.git` -> `%2Egit`):
 *   no hidden files, no `.`/`..`, nothing Windows would strip.
 * - A Windows device name (`CON`, `nul.txt`, `COM1`...) gets its first letter
 *   encoded, so the tree can be checked out on Windows.
 * - A name longer than 200 bytes is cut to 180 and suffixed `~` plus 16 hex of
 *   the SHA-256 of the id (`~` never appears otherwise); the file's content
 *   holds the real id, so nothing is lost.
 *
 * Case-insensitive file systems can still collide (`a` and `A`): the writer
 * creates files exclusively and refuses the collision rather than overwrite.
 */
export function safeFileName(id: string): string {
  let out = '';
  for (const byte of utf8.encode(id)) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && FILE_NAME_KEEP.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.startsWith('.')) out = `%2E${out.slice(1)}`;
  if (out.endsWith('.')) out = `${out.slice(0, -1)}%2E`;
  const stem = out.split('.')[0] ?? '';
  if (WINDOWS_DEVICE.test(stem)) {
    out = `%${out.charCodeAt(0).toString(16).toUpperCase()}${out.slice(1)}`;
  }
  if (out.length > MAX_FILE_NAME) {
    let cut = 180;
    // Do not split a %XX triple.
    if (out[cut - 1] === '%') cut -= 1;
    else if (out[cut - 2] === '%') cut -= 2;
    out = `${out.slice(0, cut)}~${sha256Hex(id).slice(0, 16)}`;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
