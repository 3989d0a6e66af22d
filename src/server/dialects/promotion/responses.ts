/**
 * The promotion face's responses as the OpenAPI document shows them (see
 * ../responses.ts: they document, they never filter). Field names are 003's;
 * the examples are answers of a server holding the demo data.
 */
import { packageStatusSchema } from '../../schemas.js';
import { arrayOf, bool, errorResponses, int, json, mapOf, media, open, str, strOrNull, type FaceResponses } from '../responses.js';

const PKG = 'cb822c5b-09b5-4dc3-8141-fc794757db1c';
const INST = '11878ee3-3573-4c9a-87bb-59391a1263c9';
const WHEN = '2026-12-02T14:36:33.792Z';

const packageData = open({
  id: { ...str, description: 'Package id' },
  name: str,
  description: str,
  status: packageStatusSchema,
  version: int,
  installationCounts: mapOf(int, 'Installations of this package by status'),
  createdAt: str,
  createdById: { ...str, description: 'The user who created it' },
  publishedAt: { ...strOrNull, description: 'Set when the package becomes ACTIVE' },
  customerId: { ...str, description: "The source environment's uid" },
  retiredAt: { ...strOrNull, description: 'Set when the package becomes DISABLED' },
  updatedAt: str,
  source: { ...str, description: 'The source environment as a URL' },
  reason: { ...str, description: 'Why the assembly failed (ASSEMBLING_FAILED only)' },
  displayEntities: mapOf(arrayOf(open({ id: str, name: str, description: strOrNull })), 'The promotable objects by objCode (GET, PUT and PATCH answers)'),
});

const dataExample = {
  id: PKG,
  name: 'Vendor onboarding',
  description: 'Templates and groups for new vendors',
  status: 'DRAFT',
  version: 1,
  installationCounts: {},
  createdAt: WHEN,
  createdById: 'pat',
  publishedAt: null,
  customerId: '13da8ec427450179fb1ca56aa7edaf8a',
  retiredAt: null,
  updatedAt: '2026-12-02T14:36:33.931Z',
  source: 'http://dev.example.test',
};
const displayed = {
  ...dataExample,
  displayEntities: {
    TMPL: [
      { id: 'ae295b839f6c5919d49d57eca55d7425', name: 'Vendor Onboarding 1', description: 'Vendor Onboarding 1: standard template for the delivery teams.' },
    ],
    GROUP: [{ id: 'eaf0f1b0a90638be403b0fc69cb42174', name: 'Default Group', description: 'Default group of new users and objects.' }],
  },
};

const mapEntry = open({
  name: str,
  action: { ...str, enum: ['CREATE', 'USEEXISTING', 'IGNORE', 'OVERWRITING', 'UPDATE', 'MERGE'] },
  isValid: bool,
  targetId: { ...str, description: 'The matched (or, once installed, created) target record' },
  installationStatus: { ...str, enum: ['INSTALLED', 'REGISTERED', 'UPDATED', 'SKIPPED', 'REMOVED', 'FAILED'], description: 'After the install' },
  reason: { ...str, description: 'Why the record is invalid or failed, or a note' },
});

const installation = open({
  id: { ...str, description: 'Installation id' },
  environmentPromotionPackageId: str,
  environmentPromotionPackageVersion: int,
  userId: str,
  customerId: { ...str, description: "The target environment's uid" },
  status: { ...str, enum: ['PREPARING', 'INSTALLING', 'COMPLETED', 'FAILED', 'CANCELLED'] },
  environment: { ...str, description: 'The target environment: its host in the pre-run answer, its URL elsewhere' },
  registeredAt: str,
  updatedAt: str,
  reason: { ...str, description: 'Why a FAILED installation failed' },
  installBlocker: { ...str, description: 'Pre-run only: why the package cannot be installed there yet (its status)' },
  translationMap: mapOf(mapOf(mapEntry, 'Source id -> record'), 'objCode -> source id -> record'),
});

const prerun = {
  environmentPromotionPackageId: PKG,
  environmentPromotionPackageVersion: 2,
  id: INST,
  userId: 'pat',
  customerId: 'cb66e8b748e27a489eb0429a06843db5',
  status: 'PREPARING',
  environment: 'prod.example.test',
  registeredAt: '2026-12-02T14:36:34.539Z',
  updatedAt: '2026-12-02T14:36:34.539Z',
  translationMap: {
    GROUP: {
      '23e42679fc1f7ee741e690f9df445da2': { name: 'Marketing', action: 'CREATE', isValid: true },
      eaf0f1b0a90638be403b0fc69cb42174: { name: 'Default Group', action: 'USEEXISTING', isValid: true, targetId: 'd93b43cf24ed4e7304910d1408cd20bb' },
    },
  },
};
const record = {
  id: INST,
  environmentPromotionPackageId: PKG,
  environmentPromotionPackageVersion: 2,
  userId: 'pat',
  customerId: 'cb66e8b748e27a489eb0429a06843db5',
  status: 'COMPLETED',
  environment: 'http://prod.example.test',
  registeredAt: '2026-12-02T14:36:34.539Z',
  updatedAt: '2026-12-02T14:36:35.082Z',
  translationMap: {
    GROUP: {
      '23e42679fc1f7ee741e690f9df445da2': {
        name: 'Marketing',
        action: 'CREATE',
        isValid: true,
        targetId: '01a2372f937100000001df0920b8e6df',
        installationStatus: 'INSTALLED',
      },
      eaf0f1b0a90638be403b0fc69cb42174: {
        name: 'Default Group',
        action: 'USEEXISTING',
        isValid: true,
        targetId: 'd93b43cf24ed4e7304910d1408cd20bb',
        installationStatus: 'REGISTERED',
      },
    },
  },
};

const errorBody = {
  type: 'object',
  properties: { error: { type: 'object', properties: { class: str, message: str, code: { ...str, description: "Ferry's stable error code" } } } },
};
const err = (status: string, cls: string, code: string, message: string) => ({
  description: status,
  example: { error: { class: `com.attask.common.${cls}`, message, code } },
});
const ERRORS = {
  400: err('Invalid request (the message names the field)', 'InvalidParameterException', 'INVALID_REQUEST', 'body.name is required'),
  401: err(
    'No credential, or an unknown one',
    'AuthenticationException',
    'UNAUTHORIZED',
    'missing credentials: send an API key in the apikey header, or a session token in the sessionID header, or Authorization: Bearer <API key or session token>',
  ),
  403: err(
    'The caller lacks the role this needs',
    'SecurityException',
    'FORBIDDEN',
    'creating a package needs the promoter role on environment 100000001; you are viewer there',
  ),
  404: err('Not found (or not visible to the caller)', 'NotFoundException', 'NOT_FOUND', `package ${PKG} not found`),
  409: err('Refused in this state', 'ConflictException', 'NOT_PREPARED', `installation ${INST} is COMPLETED; prepare the package again to install it`),
  423: err(
    'Another install runs in the target environment',
    'LockedException',
    'ENVIRONMENT_LOCKED',
    'environment 100000003 is locked by a running installation',
  ),
  503: err(
    'The server is shutting down',
    'ServiceUnavailableException',
    'SHUTTING_DOWN',
    'the server is shutting down and takes no new operations; retry against another server or after the restart',
  ),
};
const errors = (...statuses: number[]) => errorResponses(errorBody, ERRORS, [400, 401, ...statuses]);

const one = (description: string, example: unknown) => json(description, { type: 'object', properties: { data: packageData } }, { data: example });
const deleted = media('Deleted (as plain text)', 'text/plain', str, 'Deleted');

export const promotionResponses: FaceResponses = {
  'POST /packages': { 200: one('The package: ASSEMBLING, or DRAFT when empty', { ...dataExample, status: 'ASSEMBLING' }), ...errors(403, 404, 503) },
  'GET /packages': {
    200: json('The packages you can see', { type: 'object', properties: { data: arrayOf(packageData) } }, { data: [dataExample] }),
    ...errors(),
  },
  'GET /packages/:id': { 200: one('The package with its displayEntities', displayed), ...errors(404) },
  'GET /packages/:id/definition': {
    200: json(
      'packageEntities: objCode -> the objects, each with its fields',
      { type: 'object', properties: { packageEntities: mapOf(arrayOf(open({ id: str, name: str })), 'objCode -> objects') } },
      {
        packageEntities: {
          GROUP: [
            {
              id: 'eaf0f1b0a90638be403b0fc69cb42174',
              name: 'Default Group',
              categoryID: '69a5237d5435e244245d738143ea66e2',
              description: 'Default group of new users and objects.',
            },
          ],
        },
      },
    ),
    ...errors(404),
  },
  'PUT /packages/:id': { 200: one('The package as replaced', { ...displayed, version: 2 }), ...errors(403, 404, 409) },
  'PATCH /packages/:id': {
    200: one('The package as updated (ASSEMBLING again when objectCollections was sent)', {
      ...displayed,
      status: 'ACTIVE',
      publishedAt: '2026-12-02T14:36:34.343Z',
    }),
    ...errors(403, 404, 409, 503),
  },
  'DELETE /packages/:id': { 200: deleted, ...errors(403, 404, 409) },
  'DELETE /package/:id': { 200: deleted, ...errors(403, 404, 409) },
  'POST /packages/:id/prepare-installation': { 200: json('The pre-run: the translation map', installation, prerun), ...errors(403, 404, 409, 423) },
  'POST /installations/:id/install': {
    200: json('The install has ended (or runs on after 10 s): read the installation for the outcome', { type: 'object', additionalProperties: true }, {}),
    ...errors(403, 404, 409, 423, 503),
  },
  'GET /installations': { 200: json('The installations of the package', arrayOf(installation), [record]), ...errors(404) },
  'GET /installations/:id': { 200: json('The installation, each record with its installationStatus', installation, record), ...errors(404) },
};
