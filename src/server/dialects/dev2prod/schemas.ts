/**
 * JSON schemas of the dev2prod face: they validate requests (a bad one is a
 * 400 naming the field) and document the routes under the `dev2prod` tag at
 * /docs. Responses are documented only (the server serializes with plain
 * JSON.stringify).
 */
import { errorSchema } from '../../schemas.js';

export { errorSchema };

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;

/** The documents show no error body: Ferry's own `{code, message}`. */
const error = (description: string) => ({ ...errorSchema, description }) as const;

/** The error codes 001 lists for every endpoint. */
export const documentErrors = {
  400: error('Invalid Request (the message says what is wrong)'),
  401: error('Unauthorized: no credential, or an unknown, revoked or expired one'),
  403: error('Forbidden: the tenant is not permitted to the caller for this'),
  404: error('Page/Resource was not found (or not visible to the caller: indistinguishable on purpose)'),
} as const;

const param = (description: string) => ({ type: 'string', minLength: 1, maxLength: 200, description }) as const;
export const tenantParam = { tenant_id: param('The tenant ID of the tenant') } as const;

export const pathParams = (extra: Record<string, ReturnType<typeof param>> = {}) =>
  ({ type: 'object', required: ['tenant_id', ...Object.keys(extra)], properties: { ...tenantParam, ...extra } }) as const;

export { param };

export const idResponse = {
  type: 'object',
  description: 'The id of what was started or stored',
  properties: { Id: { ...str, example: '66fabdf1e4b06908b04d4051' } },
} as const;

export const exportStatusSchema = {
  type: 'object',
  properties: {
    id: { ...str, description: 'The export id (the `Id` the POST answered)' },
    PackageBundleName: { ...str, example: 'Package-54321-123456789-2025-01-27 09-44' },
    Status: { ...str, enum: ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] },
    FileId: { ...strOrNull, description: 'The bundle in the file repository once COMPLETED (GET .../ces/attachment/{FileId})' },
    StartTime: { ...int, description: 'Epoch milliseconds' },
    LastUpdateTime: { ...int, description: 'Epoch milliseconds' },
    ItemCount: int,
    Statistics: { type: 'array', items: { type: 'object', properties: { PackageName: str, ItemCount: int } } },
    OperationType: { ...str, enum: ['Export'] },
    Progress: { ...int, description: "Ferry's addition: 0-100" },
  },
} as const;

const counts = (names: string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => [n, int])) }) as const;

export const importStatusSchema = {
  type: 'object',
  properties: {
    TimeToLive: {
      ...int,
      description: 'Milliseconds until the file repository removes the imported file (FERRY_FILE_RETENTION); 0 once gone, -1 when it is kept for good',
    },
    StudioLocked: { ...bool, description: 'True while an install writes this tenant (its configuration cannot be edited meanwhile)' },
    SystemLocked: { ...bool, description: 'True while an install writes this tenant' },
    id: str,
    FileId: str,
    Status: { ...str, enum: ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] },
    DryRun: bool,
    PackageManagerId: { ...strOrNull, description: 'The package the bundle was stored as on this server' },
    StartTime: { ...int, description: 'Epoch milliseconds' },
    LastUpdateTime: { ...int, description: 'Epoch milliseconds' },
    ProcessingServerName: { ...strOrNull, description: 'Host name of the server process that ran it' },
    Results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          PackageName: str,
          Statistics: counts(['Added', 'Modified', 'Removed', 'Failed', 'Skipped']),
          Errors: { type: 'array', items: str },
          Warnings: { type: 'array', items: str },
        },
      },
    },
    Totals: counts(['Added', 'Modified', 'Removed', 'Failed', 'Skipped']),
    OperationType: { ...str, enum: ['Import'] },
    Progress: { ...int, description: "Ferry's addition: 0-100" },
  },
} as const;
