/**
 * The sync face's responses as the OpenAPI document shows them (see
 * ../responses.ts: they document, they never filter). A sync pack is a plain
 * JSON object of arrays (PACK_ARRAYS, plus one array per other type of the
 * catalog), each object flat: `id`, `name`, its fields. The examples are
 * answers of a server holding the demo data.
 */
import { PACK_ARRAYS } from '../../../core/sync-pack.js';
import { environmentSchema, operationSchema } from '../../schemas.js';
import { arrayOf, empty, errorResponses, json, open, str, strOrNull, type FaceResponses } from '../responses.js';
import { MANAGE_ROOTS } from './roots.js';

/** The native operation, of any kind (a clone is `environment.clone`). */
const operation = { ...operationSchema, properties: { ...operationSchema.properties, kind: { ...str, example: 'environment.clone' } } };

const flat = open({ id: str, name: str }, { description: 'An object, flat: id, name and its fields' });
const project = {
  id: '4ebdbb9ae3ac1df837c868e22d166c4e',
  name: 'Acme Corp Vendor Onboarding',
  categoryID: 'f8341e828a9921b7ec74f30ed8d47969',
  currency: 'GBP',
  description: 'Acme Corp Vendor Onboarding: standard project for the delivery teams.',
  groupID: 'eaf0f1b0a90638be403b0fc69cb42174',
  plannedStartDate: '2026-02-15',
  priority: 3,
  status: 'CUR',
};

const pack = open(
  {
    source: open({ environment: str, uid: str, name: str, tier: str, server: str }, { description: 'Where the pack was exported from' }),
    ...Object.fromEntries(PACK_ARRAYS.map((a) => [a, arrayOf(flat)])),
  },
  { description: 'The sync pack: one array per kind (every array present), plus one per other catalog type that travels' },
);
const packExample = {
  source: { environment: '100000001', uid: '13da8ec427450179fb1ca56aa7edaf8a', name: 'Development', tier: 'development', server: 'http://127.0.0.1:8080' },
  ...Object.fromEntries(PACK_ARRAYS.map((a) => [a, a === 'projects' ? [project] : []])),
};

const result = {
  type: 'object',
  properties: {
    type: { ...str, description: 'The pack array the object travels in' },
    id: str,
    name: str,
    result: { ...str, enum: ['created', 'updated', 'unchanged', 'conflict', 'drift'] },
    reason: strOrNull,
  },
};

const errorBody = { type: 'object', properties: { code: str, message: str } };
const ERRORS = {
  400: {
    description: 'Invalid request or pack (the message says what)',
    example: { code: 'INVALID_REQUEST', message: 'the sync pack is not valid: projects must be an array' },
  },
  401: {
    description: 'No credential, or an unknown, revoked or expired one',
    example: { code: 'UNAUTHORIZED', message: 'missing credentials: send Authorization: Bearer <API key or session token>' },
  },
  403: { description: 'The caller lacks the role this needs', example: { code: 'FORBIDDEN', message: 'creating environments needs a server admin' } },
  404: {
    description: 'Not found (or not visible to the caller)',
    example: { code: 'NOT_FOUND', message: 'project 4ebdbb9ae3ac1df837c868e22d166c4e not found' },
  },
  409: {
    description: 'Refused: a push to a lower tier without force, an id already taken',
    example: {
      code: 'PUSH_ONE_WAY',
      message:
        'push one-way: environment 100000003 is production and 100000001 is development, a lower tier; sync from lower tiers to higher ones (an admin may force it)',
    },
  },
  423: {
    description: 'Another install runs in the environment',
    example: { code: 'ENVIRONMENT_LOCKED', message: 'environment 100000003 is locked by a running installation' },
  },
  429: { description: 'Too many failed logins', example: { code: 'TOO_MANY_REQUESTS', message: 'too many failed logins; try again in 60 s' } },
};
const errors = (...statuses: number[]) => errorResponses(errorBody, ERRORS, [400, 401, ...statuses]);

const environmentExample = {
  id: 'clone-0',
  uid: 'cfb394ae1c892db9b292ec5b4b25b19a',
  name: 'Clone 0',
  tier: 'development',
  hosts: [],
  version: 1,
  parameters: {},
  targetOwned: {},
  clonedFrom: '100000001',
  createdAt: '2026-12-02T14:36:36.522Z',
  updatedAt: '2026-12-02T14:36:36.663Z',
  trustedSigningKeys: [],
  lockedBy: null,
};
const operationExample = {
  id: '1d78cc09-4da3-41eb-8bca-804513f1b258',
  kind: 'environment.clone',
  status: 'QUEUED',
  progress: 0,
  message: 'clone of 100000001 (289 objects) into clone-async-0 queued',
  environmentId: 'clone-async-0',
  subject: null,
  params: { input: { id: 'clone-async-0', name: 'Async 0', tier: 'development', cloneFrom: '100000001' } },
  result: null,
  error: null,
  createdBy: 'admin',
  address: '127.0.0.1',
  server: null,
  worker: null,
  attempts: 0,
  cancelRequested: false,
  createdAt: '2026-12-02T14:36:36.685Z',
  startedAt: null,
  finishedAt: null,
  updatedAt: '2026-12-02T14:36:36.685Z',
  heartbeatAt: null,
};

const packRoutes = (root: string): FaceResponses => ({
  [`POST ${root}/export`]: { 200: json('The sync pack', pack, packExample), ...errors(403, 404) },
  [`POST ${root}/import`]: {
    200: json('Per object: what the import did (or, with dryRun, would do)', arrayOf(result), [
      { type: 'projects', id: project.id, name: project.name, result: 'created', reason: null },
    ]),
    ...errors(403, 404, 409, 423),
  },
});

const adminRoutes = (root: string): FaceResponses => ({
  [`POST ${root}/login/forms`]: {
    200: json(
      'The session token, to send as Authorization: Bearer',
      { type: 'object', properties: { authorizationToken: str } },
      {
        authorizationToken: 'frs_yOsAS7kjeB2pwf9pFymTwGAE1YCN_b_8SEnpt-UMZiU',
      },
    ),
    ...errorResponses(
      errorBody,
      { ...ERRORS, 401: { description: 'Wrong user name or password', example: { code: 'UNAUTHORIZED', message: 'wrong user name or password' } } },
      [400, 401, 429],
    ),
  },
  [`POST ${root}/logoff`]: { 204: empty('Logged off (always)') },
  [`GET ${root}/projects`]: { 200: json("The environment's projects, flat", arrayOf(flat), [project]), ...errors(403, 404) },
  [`GET ${root}/projects/:id`]: { 200: json('The project, flat', flat, project), ...errors(403, 404) },
  [`POST ${root}/clone`]: {
    201: json('The clone, made at once', environmentSchema, environmentExample),
    202: json('A big clone (or Prefer: respond-async): the operation to poll', { type: 'object', properties: { operation } }, { operation: operationExample }),
    ...errors(403, 404, 409),
  },
  [`GET ${root}/operations/:id`]: {
    200: json('The operation', operation, { ...operationExample, status: 'COMPLETED', progress: 100, message: 'completed' }),
    ...errors(403, 404),
  },
});

export const syncResponses: FaceResponses = Object.fromEntries(
  [...MANAGE_ROOTS.map(adminRoutes), ...[...MANAGE_ROOTS.map((r) => `${r}/projects/sync`), '/projects/sync'].map(packRoutes)].flatMap((r) => Object.entries(r)),
);
