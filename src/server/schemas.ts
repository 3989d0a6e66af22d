/**
 * JSON schemas of the native API: they validate requests (a bad body is a
 * 400 naming the field) and are the OpenAPI document at /docs. Responses are
 * documented here but serialized with plain JSON.stringify (see app.ts), so
 * an incomplete response schema can never drop a field.
 */
import { TIERS, PACKAGE_STATUSES } from '../core/types.js';
import { OPERATION_STATUSES } from '../store/operations-store.js';

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;

export const errorSchema = {
  type: 'object',
  description: 'Every error of the native API.',
  properties: { code: { ...str, example: 'NOT_FOUND' }, message: str },
  required: ['code', 'message'],
} as const;

/** Error responses every authenticated route may give. */
export const errors = {
  400: { ...errorSchema, description: 'Invalid request (the message names the field)' },
  401: { ...errorSchema, description: 'Missing or invalid credentials' },
  403: { ...errorSchema, description: 'Authenticated, but without the role this needs on that environment' },
  404: { ...errorSchema, description: 'Not found, or not visible to the caller (indistinguishable on purpose)' },
} as const;
export const conflict = { 409: { ...errorSchema, description: 'Refused by the current state (stale plan, status gate, not empty...)' } } as const;
export const locked = { 423: { ...errorSchema, description: 'The environment is locked by a running installation' } } as const;

export const tierSchema = { type: 'string', enum: [...TIERS] } as const;
export const packageStatusSchema = { type: 'string', enum: [...PACKAGE_STATUSES] } as const;
export const roleSchema = { type: 'string', enum: ['admin', 'promoter', 'viewer'] } as const;

const stringMap = { type: 'object', additionalProperties: str } as const;
const targetOwnedSchema = {
  type: 'object',
  additionalProperties: { type: 'array', items: str },
  description: 'Per type, fields an UPDATE never overwrites here',
} as const;

const trustedSigningKeysSchema = {
  type: 'array',
  maxItems: 100,
  items: { type: 'string', minLength: 1, maxLength: 1000 },
  description:
    'Keys whose signed bundles an import into this environment accepts (GET /api/v1/signing-key of the exporting server): fingerprints ' +
    '(SHA256:...), raw keys (base64) or PEM public keys, stored as fingerprints. Empty: any intact bundle, signed or not.',
} as const;

export const environmentSchema = {
  type: 'object',
  properties: {
    id: str,
    uid: str,
    name: str,
    tier: tierSchema,
    hosts: { type: 'array', items: str },
    version: int,
    parameters: stringMap,
    targetOwned: targetOwnedSchema,
    clonedFrom: strOrNull,
    trustedSigningKeys: {
      type: 'array',
      items: str,
      description: 'Fingerprints of the keys whose signed bundles an import here accepts; empty: any intact bundle',
    },
    lockedBy: { ...strOrNull, description: 'Installation holding the install lock' },
    createdAt: str,
    updatedAt: str,
  },
} as const;

export const lockSchema = {
  type: 'object',
  description: "An environment's install lock: held by an installation while it installs or rolls back; writes get 423 meanwhile.",
  properties: {
    environmentId: str,
    locked: bool,
    holder: { ...strOrNull, description: 'Installation holding it' },
    purpose: { type: ['string', 'null'], enum: ['install', 'rollback', null] },
    owner: {
      type: ['object', 'null'],
      description: 'The process holding it',
      properties: { host: str, pid: int, instance: str },
    },
    acquiredAt: strOrNull,
    heartbeatAt: { ...strOrNull, description: 'Last time the holder said it is alive' },
    stale: { ...bool, description: 'Its holder is gone (process exited, or silent past the bound): the next writer releases it; an admin may break it' },
    reason: { ...strOrNull, description: 'Why it is or is not stale' },
  },
} as const;

export const createEnvironmentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'tier'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'Tenant id, e.g. 123456789' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    tier: tierSchema,
    hosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 } },
    cloneFrom: { type: ['string', 'null'], description: 'Copy every object of this environment, ids unchanged' },
    parameters: stringMap,
    targetOwned: targetOwnedSchema,
    trustedSigningKeys: trustedSigningKeysSchema,
  },
} as const;

export const updateEnvironmentBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    tier: { ...tierSchema, description: 'Changing the tier needs a server admin' },
    hosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 } },
    parameters: { ...stringMap, description: 'Replaces every parameter' },
    mergeParameters: { ...stringMap, description: 'Set these parameters, keep the others' },
    targetOwned: targetOwnedSchema,
    trustedSigningKeys: { ...trustedSigningKeysSchema, description: `${trustedSigningKeysSchema.description} Replaces the list; [] accepts any bundle again.` },
  },
} as const;

export const objectSchema = {
  type: 'object',
  properties: { type: str, id: str, name: str, fields: { type: 'object', additionalProperties: true }, hash: str, updatedAt: str },
} as const;

export const objectInputSchema = {
  type: 'object',
  required: ['type', 'id', 'name'],
  properties: {
    type: { type: 'string', minLength: 1 },
    id: { type: 'string', minLength: 1, maxLength: 200 },
    name: { type: 'string', maxLength: 1000 },
    fields: { type: 'object', additionalProperties: true },
  },
} as const;

/**
 * The largest offset a list accepts. Every numeric parameter has a maximum:
 * a coerced 2^63 or 1e309 (Infinity) is otherwise a valid "integer" to the
 * schema and reaches the database as a float it refuses (a 500).
 */
export const MAX_OFFSET = 2_147_483_647;

export const offsetQuery = { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 } as const;

export const pagingQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
  offset: offsetQuery,
} as const;

/** A list answer: `{items, total}` (total counts every match, not just this page). */
export const listOf = (item: object) => ({ type: 'object', properties: { items: { type: 'array', items: item }, total: int } }) as const;

export const objectRefSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'id'],
  properties: { type: { type: 'string', minLength: 1 }, id: { type: 'string', minLength: 1 }, name: str },
} as const;

export const objectCollectionsSchema = {
  type: 'array',
  minItems: 1,
  description: 'objectCollections (as in the Environment Promotion API): the selected objects by type',
  items: {
    type: 'object',
    required: ['objCode', 'entities'],
    additionalProperties: false,
    properties: {
      objCode: { type: 'string', minLength: 1 },
      entities: {
        type: 'array',
        minItems: 1,
        items: { type: 'object', required: ['ID'], additionalProperties: true, properties: { ID: { type: 'string', minLength: 1 }, name: str } },
      },
    },
  },
} as const;

export const packageSchema = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    description: str,
    sourceEnvId: str,
    sourceEnvUid: str,
    sourceUrl: str,
    sourceTier: tierSchema,
    status: packageStatusSchema,
    version: int,
    objectCollections: objectCollectionsSchema,
    removals: { type: 'array', items: objectRefSchema },
    metadata: { type: 'object', additionalProperties: true },
    entityCount: int,
    countsByType: { type: 'object', additionalProperties: int },
    assemblyError: strOrNull,
    createdAt: str,
    updatedAt: str,
    publishedAt: strOrNull,
    retiredAt: strOrNull,
    createdBy: strOrNull,
  },
} as const;

export const overrideSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'sourceId', 'action'],
  properties: {
    type: { type: 'string', minLength: 1 },
    sourceId: { type: 'string', minLength: 1 },
    action: { type: 'string', enum: ['CREATE', 'UPDATE', 'USEEXISTING', 'MERGE', 'IGNORE'] },
    targetId: { type: ['string', 'null'], description: 'With USEEXISTING/UPDATE/MERGE: the target object to use' },
  },
} as const;

export const planEntrySchema = {
  type: 'object',
  properties: {
    type: str,
    sourceId: str,
    name: str,
    action: str,
    autoAction: str,
    isValid: bool,
    reason: strOrNull,
    targetId: strOrNull,
    match: str,
    drift: bool,
    changes: { type: 'array', items: str },
    ord: int,
    installationStatus: str,
    statusReason: strOrNull,
  },
} as const;

export const installationSchema = {
  type: 'object',
  properties: {
    id: str,
    packageId: str,
    packageVersion: int,
    targetEnvId: str,
    sourceEnvUid: str,
    status: { type: 'string', enum: ['PREPARED', 'INSTALLING', 'COMPLETED', 'FAILED', 'ROLLED_BACK'] },
    preparedAtVersion: int,
    force: bool,
    userId: strOrNull,
    summary: { type: 'object', additionalProperties: int },
    error: strOrNull,
    registeredAt: str,
    updatedAt: str,
    installedAt: strOrNull,
    rolledBackAt: strOrNull,
  },
} as const;

export const planSchema = {
  type: 'object',
  properties: {
    installation: installationSchema,
    installBlocker: { ...strOrNull, description: 'Why an install would be refused right now (package status), or null' },
    entries: { type: 'array', items: planEntrySchema },
  },
} as const;

export const operationSchema = {
  type: 'object',
  properties: {
    id: str,
    kind: { type: 'string', enum: ['package.assemble', 'package.export', 'bundle.import', 'install'] },
    status: { type: 'string', enum: [...OPERATION_STATUSES] },
    progress: { type: 'integer', minimum: 0, maximum: 100 },
    message: str,
    environmentId: strOrNull,
    subject: strOrNull,
    params: { type: 'object', additionalProperties: true },
    result: { description: 'Set when COMPLETED; its shape depends on the kind' },
    error: { type: ['object', 'null'], properties: { code: str, message: str } },
    createdBy: strOrNull,
    server: { ...strOrNull, description: 'Host name (FERRY_SERVER_NAME) of the server process running it' },
    worker: {
      ...strOrNull,
      description:
        'The server process that runs it, or ran its last attempt: `<server>:<pid>:<instance>` (several processes may share a host); null while it waits for one',
    },
    attempts: int,
    cancelRequested: bool,
    createdAt: str,
    startedAt: strOrNull,
    finishedAt: strOrNull,
    updatedAt: str,
  },
} as const;

/** A 202 answer: the operation that does the work (and whatever else the route returns). */
export const accepted = (what: string, extra: Record<string, unknown> = {}) =>
  ({
    type: 'object',
    description: `Accepted: ${what} runs as an operation; poll GET /api/v1/operations/{id}`,
    properties: { operation: operationSchema, ...extra },
  }) as const;

export const fileSchema = {
  type: 'object',
  properties: {
    id: str,
    name: str,
    kind: str,
    bytes: int,
    sha256: str,
    environmentId: strOrNull,
    packageId: strOrNull,
    createdBy: strOrNull,
    createdAt: str,
    expiresAt: { ...strOrNull, description: 'When the file store removes it (FERRY_FILE_RETENTION)' },
  },
} as const;

export const userSchema = {
  type: 'object',
  properties: {
    id: str,
    username: str,
    admin: bool,
    roles: { type: 'object', additionalProperties: roleSchema },
    hasPassword: bool,
    createdAt: str,
    updatedAt: str,
  },
} as const;

export const apiKeySchema = {
  type: 'object',
  properties: { id: str, userId: str, username: str, name: str, prefix: str, createdAt: str, lastUsedAt: strOrNull, revokedAt: strOrNull },
} as const;

export const auditSchema = {
  type: 'object',
  properties: {
    seq: int,
    at: str,
    actor: strOrNull,
    address: strOrNull,
    action: str,
    envId: strOrNull,
    subject: strOrNull,
    result: str,
    detail: { type: 'object', additionalProperties: true },
  },
} as const;

/** Path parameters holding one id. */
export const idParam = (name: string, description?: string) =>
  ({
    type: 'object',
    required: [name],
    properties: { [name]: { type: 'string', minLength: 1, maxLength: 200, ...(description ? { description } : {}) } },
  }) as const;

export const envParams = idParam('envId', 'Environment (tenant) id');
