/**
 * The sync pack of 002 (`projects/sync/export` answers it, `projects/sync/import`
 * takes it back): a plain JSON object whose arrays hold flat objects
 * (`id`, `name`, then the object's fields), one array per kind. Clients edit
 * packs between export and import (the product's own sample rewrites every
 * `dataSources[].connectionString`), so a pack carries no checksum: it is
 * read back here as data, every problem named by its array and position.
 * Pure: no IO.
 */
import type { Catalog, FerryObject, Tier, TypeSpec } from './types.js';
import { TIERS } from './types.js';

/**
 * The arrays of the product's sync pack (the Admin API Postman sample), in
 * its order. Every pack has them all, empty when nothing travels there, so a
 * client written against the product can index them without checking.
 */
export const PACK_ARRAYS = [
  'projects',
  'contentLibraryItems',
  'dataSources',
  'dataObjects',
  'contentFolders',
  'publishedProjects',
  'publishFolders',
  'users',
  'groups',
  'roles',
  'customFields',
  'connectorSettings',
] as const;

/**
 * The source uid under which a destination's ID map remembers what sync
 * wrote there (002 "avoid making changes in downstream environments"). One
 * for every sync, whatever environment or server the pack came from: what
 * matters is whether the destination's copy is still what sync gave it.
 * A clone records its copies under it too, so drift shows from the first sync.
 */
export const SYNC_SOURCE_UID = 'sync';

/** Where a pack says it came from (set by Ferry's export; a hand-written pack has none). */
export interface PackSource {
  environment: string;
  uid: string;
  name: string;
  /** Null when the pack does not say (then only an environment of this server with its uid gives one). */
  tier: Tier | null;
  server: string;
}

export interface ReadPack {
  /** The pack's objects, array by array in pack order. */
  objects: FerryObject[];
  source: PackSource | null;
}

/** The array a type travels in. */
export function packArrayOf(spec: TypeSpec): string {
  return spec.pack?.array ?? spec.code;
}

/** Pack array -> the type travelling in it (the catalog allows one type per array). */
export function typesByPackArray(catalog: Catalog): Map<string, TypeSpec> {
  const out = new Map<string, TypeSpec>();
  for (const spec of Object.values(catalog.types)) out.set(packArrayOf(spec), spec);
  return out;
}

/** The flat pack form of an object: `id`, `name`, then its fields (a field called `id` or `name` cannot override them). */
export function toPackObject(o: FerryObject): Record<string, unknown> {
  const out: Record<string, unknown> = { id: o.id, name: o.name };
  for (const [k, v] of Object.entries(o.fields)) if (k !== 'id' && k !== 'name') out[k] = v;
  return out;
}

/**
 * A pack of objects: the product's arrays and one per catalog type, each
 * present (empty when nothing), objects in the order given.
 */
export function buildPack(catalog: Catalog, objects: Iterable<FerryObject>, source: PackSource | null): Record<string, unknown> {
  const arrays = new Map<string, unknown[]>();
  for (const a of PACK_ARRAYS) arrays.set(a, []);
  for (const spec of Object.values(catalog.types)) if (!arrays.has(packArrayOf(spec))) arrays.set(packArrayOf(spec), []);
  for (const o of objects) {
    const spec = catalog.types[o.type];
    if (spec) arrays.get(packArrayOf(spec))!.push(toPackObject(o));
  }
  const pack: Record<string, unknown> = {};
  if (source) pack.source = source;
  for (const [a, list] of arrays) pack[a] = list;
  return pack;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what an id may not hold
const OBJECT_ID = /^[^\u0000-\u001f]{1,200}$/;
const MAX_ERRORS = 20;

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value at a dotted path (`metadata.description`) of an object. */
function at(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/**
 * Read a pack back into objects. Keys other than arrays are ignored (`options`
 * travels beside the pack in an import body), as are arrays no type travels
 * in while they are empty (the product's arrays under a catalog without those
 * kinds); everything else must be well-formed, or the whole pack is refused
 * with the problems listed (`dataSources[2]: id must be ...`).
 *
 * @param skip pack arrays to leave out (an import option set to "Never").
 */
export function readPack(json: unknown, catalog: Catalog, skip: ReadonlySet<string> = new Set()): { value: ReadPack } | { errors: string[] } {
  if (!isPlainObject(json)) return { errors: ['a sync pack is a JSON object of arrays (projects, dataSources, ...)'] };
  const byArray = typesByPackArray(catalog);
  const errors: string[] = [];
  const objects: FerryObject[] = [];
  const fail = (msg: string) => {
    if (errors.length < MAX_ERRORS) errors.push(msg);
  };
  for (const [array, value] of Object.entries(json)) {
    if (array === 'options' || array === 'source') continue;
    const spec = byArray.get(array);
    if (!Array.isArray(value)) {
      if (spec) fail(`${array} must be an array`);
      continue;
    }
    if (value.length === 0 || skip.has(array)) continue;
    if (!spec) {
      fail(`${array}: no type of this server's catalog travels in this array (${[...byArray.keys()].slice(0, 12).join(', ')}, ...)`);
      continue;
    }
    const seen = new Set<string>();
    value.forEach((raw, i) => {
      const where = `${array}[${i}]`;
      if (!isPlainObject(raw)) return fail(`${where} must be an object`);
      const id = raw.id;
      if (typeof id !== 'string' || !OBJECT_ID.test(id)) return fail(`${where}: id must be a string of 1-200 printable characters`);
      if (seen.has(id)) return fail(`${where}: id ${id} appears twice in ${array}`);
      seen.add(id);
      const name = typeof raw.name === 'string' ? raw.name : spec.pack?.name ? at(raw, spec.pack.name) : undefined;
      if (raw.name !== undefined && typeof raw.name !== 'string') return fail(`${where} (${id}): name must be a string`);
      if (typeof name !== 'string' || name.length > 1000) {
        return fail(`${where} (${id}): needs a name of up to 1000 characters (a string \`name\`${spec.pack?.name ? ` or \`${spec.pack.name}\`` : ''})`);
      }
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) if (k !== 'id' && k !== 'name') fields[k] = v;
      objects.push({ type: spec.code, id, name, fields });
    });
  }
  const source = readSource(json.source, fail);
  if (errors.length > 0) return { errors };
  return { value: { objects, source } };
}

/**
 * The `source` a Ferry export wrote, read as data like the rest: absent (or
 * null) is no source; present, it must be an object whose `tier`, when
 * given, is a tier. Its other members are strings or left out. Dropping
 * `tier` leaves the uid, so an environment of this server still decides.
 */
function readSource(v: unknown, fail: (msg: string) => void): PackSource | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) {
    fail('source must be an object (where the pack was exported)');
    return null;
  }
  const { environment, uid, name, tier, server } = v;
  if (tier !== undefined && tier !== null && (typeof tier !== 'string' || !(TIERS as readonly string[]).includes(tier))) {
    fail(`source.tier must be one of ${TIERS.join(', ')} (or left out)`);
  }
  const s = (x: unknown) => (typeof x === 'string' ? x : '');
  return { environment: s(environment), uid: s(uid), name: s(name), tier: typeof tier === 'string' ? (tier as Tier) : null, server: s(server) };
}

// ------------------------------------------------------------------ compare

/** One side's copy of an object, as compare needs it. */
export interface CompareCopy {
  name: string;
  hash: string;
  updatedAt: string;
}

/** Which side of a pair holds the newer copy, and how Ferry knows. */
export interface Ahead {
  /** `a`, `b`, `both` (each changed since the last sync), or null (cannot tell). */
  ahead: 'a' | 'b' | 'both' | null;
  /** `sync`: against the content the last sync gave one side; `updatedAt`: the later edit. */
  basis: 'sync' | 'updatedAt';
}

/**
 * Which of two differing copies is ahead (002 "knowing which environment of a
 * pair has newer copies"). When the last sync between them is remembered
 * (the hash it gave the destination), a side that still holds that content
 * is behind and the other is ahead; both moved away from it, both are. With
 * no sync remembered, the copy edited last is ahead.
 *
 * @param givenToB the hash sync last wrote into b's copy (a -> b), if any
 * @param givenToA the hash sync last wrote into a's copy (b -> a), if any
 */
export function whichIsAhead(a: CompareCopy, b: CompareCopy, givenToB?: string, givenToA?: string): Ahead {
  const given = givenToB ?? givenToA;
  if (given !== undefined) {
    const aMoved = a.hash !== given;
    const bMoved = b.hash !== given;
    if (aMoved && bMoved) return { ahead: 'both', basis: 'sync' };
    return { ahead: aMoved ? 'a' : 'b', basis: 'sync' };
  }
  if (a.updatedAt === b.updatedAt) return { ahead: null, basis: 'updatedAt' };
  return { ahead: a.updatedAt > b.updatedAt ? 'a' : 'b', basis: 'updatedAt' };
}
