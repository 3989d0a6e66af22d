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

/** The documents show no error body: Ferry's own `{code, message}`, with an answer of a server holding the demo data. */
const error = (description: string, code: string, message: string) => ({ ...errorSchema, description, example: { code, message } }) as const;

/** The error codes 001 lists for every endpoint. */
export const documentErrors = {
  400: error(
    'Invalid Request (the message says what is wrong)',
    'INVALID_REQUEST',
    'body.FileId 572b5b66-b2c1-488a-826f-62f8acee1e7b names no file of the repository (unknown, expired, or not visible to you)',
  ),
  401: error(
    'Unauthorized: no credential, or an unknown, revoked or expired one',
    'UNAUTHORIZED',
    'missing credentials: send Authorization: Bearer <API key or session token>, or the SMAX_AUTH_TOKEN cookie (session token or API key)',
  ),
  403: error(
    'Forbidden: the tenant is not permitted to the caller for this',
    'FORBIDDEN',
    'importing needs the promoter role on environment 100000003; you are viewer there',
  ),
  404: error(
    'Page/Resource was not found (or not visible to the caller: indistinguishable on purpose)',
    'NOT_FOUND',
    'import c507706b-5562-4c10-83db-be87c8919962 not found',
  ),
} as const;

const param = (description: string) => ({ type: 'string', minLength: 1, maxLength: 200, description }) as const;
export const tenantParam = { tenant_id: param('The tenant ID of the tenant') } as const;

export const pathParams = (extra: Record<string, ReturnType<typeof param>> = {}) =>
  ({ type: 'object', required: ['tenant_id', ...Object.keys(extra)], properties: { ...tenantParam, ...extra } }) as const;

export { param };

/** A bundle downloaded from the file repository. */
export const bundleDownload = {
  description: 'The bundle file (gzip), as an attachment named in Content-Disposition',
  content: {
    'application/octet-stream': {
      schema: { type: 'string', format: 'binary', example: 'Package-19212cb7-401e-4c60-b948-40c7ee56dcf5-100000001-2026-12-02 14-54.ferry (binary)' },
    },
  },
} as const;

export const idResponse = {
  type: 'object',
  description: 'The id of what was started or stored',
  properties: { Id: str },
  example: { Id: 'c2897918-8a4a-4eeb-94b4-b5370e5a547a' },
} as const;

export const exportStatusSchema = {
  type: 'object',
  description: 'The export: its status, the bundle (FileId) once COMPLETED, and what it holds per package part',
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
  example: {
    id: 'c2897918-8a4a-4eeb-94b4-b5370e5a547a',
    PackageBundleName: 'Package-19212cb7-401e-4c60-b948-40c7ee56dcf5-100000001-2026-12-02 14-54',
    Status: 'COMPLETED',
    FileId: 'ced59522-ee4a-4b7b-800d-062594e27ba4',
    StartTime: 1796223247385,
    LastUpdateTime: 1796223247552,
    ItemCount: 97,
    Statistics: [
      { PackageName: 'metadata', ItemCount: 25 },
      { PackageName: 'workflow', ItemCount: 57 },
      { PackageName: 'formLayouts', ItemCount: 15 },
      { PackageName: 'uiComponentConfig', ItemCount: 0 },
      { PackageName: 'securityConfiguration', ItemCount: 0 },
    ],
    OperationType: 'Export',
    Progress: 100,
  },
} as const;

const counts = (names: string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => [n, int])) }) as const;

export const importStatusSchema = {
  type: 'object',
  description: 'The import (or dry run): its status, and what it did (or would do) per package part',
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
  example: {
    TimeToLive: 604799682,
    StudioLocked: false,
    SystemLocked: false,
    id: 'c507706b-5562-4c10-83db-be87c8919962',
    FileId: '572b5b66-b2c1-488a-826f-62f8acee1e7b',
    Status: 'COMPLETED',
    DryRun: true,
    PackageManagerId: '19212cb7-401e-4c60-b948-40c7ee56dcf5',
    StartTime: 1796223247833,
    LastUpdateTime: 1796223247906,
    ProcessingServerName: 'vm',
    Results: [
      { PackageName: 'metadata', Statistics: { Added: 0, Modified: 1, Removed: 0, Failed: 0, Skipped: 24 }, Errors: [], Warnings: [] },
      { PackageName: 'workflow', Statistics: { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 57 }, Errors: [], Warnings: [] },
      { PackageName: 'formLayouts', Statistics: { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 15 }, Errors: [], Warnings: [] },
      { PackageName: 'uiComponentConfig', Statistics: { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 0 }, Errors: [], Warnings: [] },
      { PackageName: 'securityConfiguration', Statistics: { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 0 }, Errors: [], Warnings: [] },
    ],
    Totals: { Added: 0, Modified: 1, Removed: 0, Failed: 0, Skipped: 96 },
    OperationType: 'Import',
    Progress: 100,
  },
} as const;
