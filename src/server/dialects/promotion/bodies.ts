/**
 * 003's request bodies: their JSON schemas (a bad body is a 400 naming the
 * field, in the face's error shape) and their translation into what the
 * engine takes.
 */
import type { Catalog, FerryObject, ObjectRef, PackageStatus, PlanEntry } from '../../../core/types.js';
import { PACKAGE_STATUSES } from '../../../core/types.js';
import { ValidationError } from '../../../core/errors.js';
import type { Override } from '../../../core/plan.js';
import { ACTION_WORDS } from './shapes.js';

const str = { type: 'string' } as const;

const objectCollections = {
  type: 'array',
  description: 'The selected objects by objCode (a promotable object of the catalog), each `{ID, name?}`',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['objCode', 'entities'],
    properties: {
      objCode: { type: 'string', minLength: 1, maxLength: 40 },
      entities: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['ID'],
          properties: { ID: { type: 'string', minLength: 1, maxLength: 200 }, name: { type: ['string', 'null'], maxLength: 1000 } },
        },
      },
    },
  },
} as const;

const typeList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 40 }, maxItems: 1000 } as const;

/**
 * 003's `metadata`: its five known members are checked; others (a later
 * revision's) are accepted. Ferry computes the install order from the
 * references, so a given order is checked, never used.
 */
const metadata = {
  type: 'object',
  additionalProperties: true,
  properties: { displayOrder: typeList, historyOrder: typeList, installOrder: typeList, summaryOrder: typeList, shapeVersion: { type: 'integer', minimum: 1 } },
} as const;

const packageEntities = {
  type: 'object',
  description: 'The definition: objCode -> objects `{id, name, ...fields}`',
  additionalProperties: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } },
} as const;

/** Package fields a client reads and may send back unchanged: accepted, never written. */
const readOnly = {
  id: str,
  installationCounts: { type: 'object' },
  createdAt: {},
  createdById: {},
  publishedAt: {},
  retiredAt: {},
  updatedAt: {},
  customerId: {},
  displayEntities: { type: 'object' },
  reason: {},
} as const;

const editable = {
  name: { type: 'string', minLength: 1, maxLength: 500 },
  description: { type: 'string', maxLength: 10000 },
  source: { type: 'string', minLength: 1, maxLength: 2000, description: 'The source environment, as a URL' },
  status: { type: 'string', enum: [...PACKAGE_STATUSES] },
  version: { type: 'integer', minimum: 1 },
  packageEntities,
  metadata,
} as const;

/** The later revision's name for `name` (create, PUT and PATCH). */
const packageName = { ...editable.name, description: "The later revision's name for `name`; `name` wins when both are given" } as const;

export const createBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: editable.name,
    packageName,
    description: { type: ['string', 'null'], maxLength: 10000 },
    source: editable.source,
    objectCollections,
  },
} as const;

/** `name` is required too, as `name` or the later revision's `packageName` (checked by the route: a schema would word it worse). */
export const replaceBody = {
  type: 'object',
  description: 'Every editable attribute: `name` (or `packageName`), description, source, status, version, packageEntities; metadata is optional.',
  additionalProperties: false,
  required: ['description', 'source', 'status', 'version', 'packageEntities'],
  properties: { ...editable, packageName, ...readOnly },
} as const;

export const updateBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { ...editable, packageName, objectCollections, ...readOnly },
} as const;

export const prepareBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    allowUpdate: {
      type: 'boolean',
      description: 'Ferry: a matched record whose content differs is UPDATEd (replaced) instead of used as it is (the Environment Promotion API has no UPDATE)',
    },
    force: { type: 'boolean', description: 'Ferry: allow a promotion from a higher tier to a lower one (refused otherwise: one-way push)' },
  },
} as const;

/** The pre-run answer's own fields, which a client may send back with the edited map. */
const prerunFields = [
  'environmentPromotionPackageId',
  'environmentPromotionPackageVersion',
  'id',
  'userId',
  'customerId',
  'status',
  'environment',
  'registeredAt',
  'updatedAt',
  'installBlocker',
  'reason',
] as const;

export const installBody = {
  type: ['object', 'null'],
  description: '`{}`, or the edited `translationMap` (in `translationMap`, or as the whole body)',
  additionalProperties: true,
} as const;

export interface CreateBody {
  name?: string;
  packageName?: string;
  description?: string | null;
  source?: string;
  objectCollections?: { objCode: string; entities: { ID: string; name?: string | null }[] }[];
}

export interface EditBody {
  name?: string;
  packageName?: string;
  description?: string;
  source?: string;
  status?: PackageStatus;
  version?: number;
  packageEntities?: Record<string, Record<string, unknown>[]>;
  metadata?: Record<string, unknown>;
  objectCollections?: CreateBody['objectCollections'];
  id?: string;
}

/** objCodes a client may select: the catalog's promotable objects (003 "Supported objects"). */
function promotableCodes(catalog: Catalog): string[] {
  return Object.values(catalog.types)
    .filter((t) => t.promotable)
    .map((t) => t.code);
}

/** `objectCollections` -> the selection, objCodes upper-cased and checked against the promotable objects. */
export function selectionOf(collections: NonNullable<CreateBody['objectCollections']>, catalog: Catalog): ObjectRef[] {
  const out: ObjectRef[] = [];
  collections.forEach((c, i) => {
    const code = c.objCode.toUpperCase();
    if (!catalog.types[code]?.promotable) {
      throw new ValidationError(
        `body.objectCollections[${i}].objCode ${c.objCode} is not a promotable object; one of ${promotableCodes(catalog).join(', ')}` +
          (catalog.types[code] ? ` (${code} comes with the object that includes it)` : ''),
      );
    }
    for (const e of c.entities) out.push({ type: code, id: e.ID, ...(e.name ? { name: e.name } : {}) });
  });
  return out;
}

/** Check what 003 says `metadata` holds: orders of known objCodes. */
export function checkMetadata(meta: Record<string, unknown> | undefined, catalog: Catalog): void {
  if (!meta) return;
  for (const field of ['displayOrder', 'historyOrder', 'installOrder', 'summaryOrder']) {
    const list = meta[field] as string[] | undefined;
    if (!list) continue;
    const seen = new Set<string>();
    list.forEach((code, i) => {
      if (!catalog.types[code.toUpperCase()]) throw new ValidationError(`body.metadata.${field}[${i}] ${code} is not an objCode of the catalog`);
      if (seen.has(code.toUpperCase())) throw new ValidationError(`body.metadata.${field} lists ${code} twice`);
      seen.add(code.toUpperCase());
    });
  }
}

/** `packageEntities` (objCode -> `{id, name, ...fields}`) -> objects the engine validates and stores. */
export function objectsOf(entities: NonNullable<EditBody['packageEntities']>): FerryObject[] {
  const out: FerryObject[] = [];
  for (const [objCode, list] of Object.entries(entities)) {
    list.forEach((raw, i) => {
      const { id, name, ...fields } = raw;
      if (name !== undefined && name !== null && typeof name !== 'string')
        throw new ValidationError(`body.packageEntities.${objCode}[${i}].name must be string`);
      out.push({ type: objCode.toUpperCase(), id: id as string, name: name ?? '', fields });
    });
  }
  return out;
}

/**
 * The client's edits in a translation map sent to `/install`: an override
 * for each record whose action (or chosen target) differs from the plan.
 * Records left out, or sent back as they were, change nothing; what the
 * client cannot set (`isValid`, `name`, `installationStatus`) is ignored.
 */
export function overridesOf(body: unknown, entries: readonly PlanEntry[], catalog: Catalog): Override[] {
  const map = translationMapOf(body, catalog);
  if (!map) return [];
  const plan = new Map(entries.map((e) => [`${e.type}\u0000${e.sourceId}`, e]));
  const out: Override[] = [];
  for (const [objCode, records] of Object.entries(map)) {
    const where = `translationMap.${objCode}`;
    if (!records || typeof records !== 'object' || Array.isArray(records)) throw new ValidationError(`${where} must be an object of records by source id`);
    for (const [sourceId, rec] of Object.entries(records as Record<string, unknown>)) {
      const at = `${where}.${sourceId}`;
      if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new ValidationError(`${at} must be an object {action, targetId?}`);
      const e = plan.get(`${objCode.toUpperCase()}\u0000${sourceId}`);
      if (!e) throw new ValidationError(`${at} is not in this installation's translation map`);
      const { action: word, targetId } = rec as { action?: unknown; targetId?: unknown };
      if (word === undefined) continue;
      const action = typeof word === 'string' ? ACTION_WORDS[word.toUpperCase()] : undefined;
      if (!action) throw new ValidationError(`${at}.action must be one of ${Object.keys(ACTION_WORDS).join(', ')}`);
      if (targetId !== undefined && targetId !== null && (typeof targetId !== 'string' || !targetId)) throw new ValidationError(`${at}.targetId must be an id`);
      if (e.action === 'REMOVE') throw new ValidationError(`${at} is a removal of the package; its action cannot be changed`);
      const chosen = typeof targetId === 'string' && action !== 'CREATE' && targetId !== e.targetId ? targetId : null;
      if (action !== e.action || chosen) out.push({ type: e.type, sourceId: e.sourceId, action, targetId: chosen });
    }
  }
  return out;
}

/**
 * Where the map is in an `/install` body: `translationMap` (or the prose's
 * spelling, `translationmap`); or the whole body when every key is an
 * objCode. The pre-run answer's other fields may come along and are
 * ignored; anything else is refused, so a typo is not taken for "no edits".
 */
function translationMapOf(body: unknown, catalog: Catalog): Record<string, unknown> | null {
  if (body === null || body === undefined) return null;
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('body must be an object: {} or {"translationMap": {...}}');
  const b = body as Record<string, unknown>;
  const keys = Object.keys(b);
  if (keys.length === 0) return null;
  const given = b.translationMap ?? b.translationmap;
  if (given !== undefined) {
    if (!given || typeof given !== 'object' || Array.isArray(given))
      throw new ValidationError('body.translationMap must be an object (objCode -> source id -> record)');
    const unknown = keys.filter((k) => k !== 'translationMap' && k !== 'translationmap' && !(prerunFields as readonly string[]).includes(k));
    if (unknown.length > 0) throw new ValidationError(`body.${unknown[0]} is not a known field`);
    return given as Record<string, unknown>;
  }
  if (keys.every((k) => catalog.types[k.toUpperCase()])) return b;
  const unknown = keys.filter((k) => !(prerunFields as readonly string[]).includes(k));
  if (unknown.length > 0) throw new ValidationError(`body.${unknown[0]} is not a known field`);
  return null;
}
