/**
 * The duplication face's responses as the OpenAPI document shows them (see
 * ../responses.ts: they document, they never filter). Field names are 004's
 * and those mstrio-py reads; the examples are answers of a server holding
 * the demo data.
 */
import { DUPLICATION_STATUSES } from '../../../engine/duplication.js';
import { arrayOf, bool, empty, errorResponses, int, json, media, open, str, type FaceResponses } from '../responses.js';

const SRC = '13da8ec427450179fb1ca56aa7edaf8a';
const DUP = '7C639708C01210C81E0A01190E7A604B';
const USER = 'B4CADCC0559548C1BF30AF13A3AB9A9B';

const named = open({ id: str, name: str });
const side = open({ environment: named, project: named, creator: named });
const record = open(
  {
    id: { ...str, description: 'Duplication id (32 hexadecimal digits)' },
    source: side,
    target: side,
    createdDate: { ...str, description: 'e.g. 2026-12-01T10:00:00.000+0000' },
    lastUpdatedDate: str,
    status: { ...str, enum: [...DUPLICATION_STATUSES] },
    progress: { ...int, description: '0-100' },
    message: { ...str, description: 'What happened, or what failed' },
    settings: open({ export: open({}), import: open({}) }),
  },
  { description: 'A project duplication' },
);
const recordExample = {
  id: DUP,
  source: {
    environment: { id: 'http://127.0.0.1:8080', name: 'Source' },
    project: { id: SRC, name: 'Development' },
    creator: { id: USER, name: 'ops' },
  },
  target: {
    environment: { id: 'http://127.0.0.1:8080', name: 'Target' },
    project: { id: '87a117ad7d1041e5ff5f6b472e581163', name: 'Development copy' },
    creator: { id: USER, name: 'ops' },
  },
  createdDate: '2026-12-02T14:36:44.555+0000',
  lastUpdatedDate: '2026-12-02T14:36:44.675+0000',
  status: 'COMPLETED',
  progress: 100,
  message: 'duplicated 289 objects into project Development copy',
  settings: {
    export: {
      projectObjectsPreference: { schemaObjectsOnly: false, skipEmptyProfileFolders: false },
      subscriptionPreferences: { includeUserSubscriptions: false, includeContactSubscriptions: false },
      configurationObjects: { rules: [], objects: [], includeAllUserGroups: false },
    },
    import: { description: '', defaultLocale: 0, locales: [0], configurationObjects: { conflictRules: [], matchUsersByLogin: false } },
  },
};

const project = open({ id: str, name: str, alias: str, description: str, status: { ...int, description: '0: loaded' }, dateCreated: str, dateModified: str });
const projectExample = {
  id: SRC,
  name: 'Development',
  alias: '',
  description: '',
  status: 0,
  dateCreated: '2026-12-02T14:36:32.084+0000',
  dateModified: '2026-12-02T14:36:32.426+0000',
};

const errorBody = {
  type: 'object',
  properties: {
    code: str,
    message: str,
    ticketId: { ...str, description: 'The request id' },
    iServerCode: { ...int, description: 'Always 0 (no Intelligence Server)' },
  },
};
const err = (description: string, code: string, message: string) => ({
  description,
  example: { code, message, ticketId: '5E8735022B2A4E24BC1F021FCCE4E033', iServerCode: 0 },
});
const ERRORS = {
  400: err('Invalid request (the message names the field)', 'INVALID_REQUEST', 'source is required'),
  401: err('No valid session', 'ERR009', 'unknown, revoked or expired credential'),
  403: err('The caller lacks the privilege', 'FORBIDDEN', 'cancelling a duplication needs the admin role on the project it concerns, or to have started it'),
  404: err('Not found (or not visible to the caller)', 'NOT_FOUND', 'duplication 00000000000000000000000000000000 not found'),
  409: err('The name (or id) is taken', 'PROJECT_NAME_EXISTS', 'a project named "Development copy" already exists on this server; choose another name'),
  413: err(
    'The package is larger than the upload limit',
    'PAYLOAD_TOO_LARGE',
    'the upload is larger than the 256 MiB limit (FERRY_UPLOAD_LIMIT); nothing was stored',
  ),
  429: err('Too many failed logins', 'TOO_MANY_REQUESTS', 'too many failed logins; try again in 60 s'),
};
const errors = (...statuses: number[]) => errorResponses(errorBody, ERRORS, [400, 401, ...statuses]);

const versions = open({ iServerVersion: str, packageFormat: str, packageFormatVersion: int, catalogVersion: str, types: arrayOf(str) });

export const duplicationResponses: FaceResponses = {
  'POST /api/auth/login': {
    204: empty('Logged in: the token is in the X-MSTR-AuthToken header (and a JSESSIONID cookie)'),
    ...errorResponses(errorBody, { ...ERRORS, 401: err('Wrong user name or password', 'ERR003', 'wrong user name or password') }, [400, 401, 429]),
  },
  'POST /api/auth/logout': { 204: empty('Logged out'), ...errors() },
  'GET /api/sessions': {
    200: json('The session', open({ username: str, userId: str, userFullName: str, locale: int, maxSearch: int, workingSet: int, timeout: int }), {
      username: 'ops',
      userId: USER,
      userFullName: 'ops',
      locale: 1033,
      maxSearch: 3,
      workingSet: 10,
      timeout: 3600,
    }),
    ...errors(),
  },
  'PUT /api/sessions': { 204: empty('The session is valid'), ...errors() },
  'GET /api/sessions/userInfo': {
    200: json('The logged-in user', open({ id: str, name: str, username: str, fullName: str, initials: str, metadataUser: bool }), {
      id: USER,
      name: 'ops',
      username: 'ops',
      fullName: 'ops',
      initials: 'OP',
      metadataUser: true,
    }),
    ...errors(),
  },
  'GET /api/status': {
    200: json('Server versions', open({ webVersion: str, iServerVersion: str, iServerRunning: bool }), {
      webVersion: '11.5.1200.0000',
      iServerVersion: '11.5.1200.0000',
      iServerRunning: true,
    }),
  },
  'GET /api/projects': { 200: json('The projects you can see', arrayOf(project), [projectExample]), ...errors() },
  'GET /api/projects/:project': { 200: json('The project', project, projectExample), ...errors(404) },
  'GET /api/monitors/projects': {
    200: json('A page of projects; the total is in X-MSTR-Total-Count', open({ projects: arrayOf(project) }), { projects: [projectExample] }),
    ...errors(),
  },
  'GET /api/objects/:id': {
    200: json(
      'The project as an object (type 32)',
      open({
        id: str,
        name: str,
        type: int,
        subtype: int,
        extType: int,
        description: str,
        dateCreated: str,
        dateModified: str,
        ancestors: arrayOf(open({})),
        hidden: bool,
      }),
      {
        id: SRC,
        name: 'Development',
        type: 32,
        subtype: 8192,
        extType: 0,
        description: '',
        dateCreated: '2026-12-02T14:36:32.084+0000',
        dateModified: '2026-12-02T14:36:32.426+0000',
        ancestors: [],
        hidden: false,
      },
    ),
    ...errors(404),
  },
  'POST /api/projectDuplications': {
    201: json('The duplication, once it ended or after a short wait (at once with Prefer: respond-async)', record, {
      ...recordExample,
      status: 'EXPORTING',
      progress: 0,
      message: '',
    }),
    ...errors(403, 404, 409),
  },
  'GET /api/projectDuplications': {
    200: json(
      'Duplications you can see, newest first: the page under both names',
      open({ total: int, duplications: arrayOf(record), projectDuplications: arrayOf(record) }),
      {
        total: 1,
        duplications: [recordExample],
        projectDuplications: [recordExample],
      },
    ),
    ...errors(),
  },
  'GET /api/projectDuplications/versions': {
    200: json('What another server needs to know', versions, {
      iServerVersion: '11.5.1200.0000',
      packageFormat: 'ferry-bundle',
      packageFormatVersion: 1,
      catalogVersion: '2026.1',
      types: ['GROUP', 'PROJ', 'ROLE', 'TMPL'],
    }),
    ...errors(),
  },
  'POST /api/projectDuplications/validations': {
    200: json('Compatible', open({ compatible: bool, warnings: arrayOf(str) }), { compatible: true, warnings: [] }),
    ...errors(),
  },
  'POST /api/projectDuplications/restoration': {
    201: json('The target-side duplication restoring the package', record, recordExample),
    ...errors(403, 409, 413),
  },
  'GET /api/projectDuplications/:id': { 200: json('The duplication', record, recordExample), ...errors(403, 404) },
  'PUT /api/projectDuplications/:id': {
    201: json('The target side of a duplication from another server', record, { ...recordExample, status: 'IMPORT_SYNCING', progress: 0, message: '' }),
    204: empty('Cancelled ({"status": "cancelled"})'),
    ...errors(403, 404, 409, 413),
  },
  'DELETE /api/projectDuplications/:id': { 204: empty('Deleted (the project stays)'), ...errors(403, 404, 409) },
  'PUT /api/projectDuplications/:id/status': { 204: empty('Cancelled'), ...errors(403, 404) },
  'GET /api/projectDuplications/:id/backup': {
    200: media('The package file (.projdup), as an attachment', 'application/octet-stream', { type: 'string', format: 'binary' }, `${DUP}.projdup (binary)`),
    ...errors(403, 404),
  },
};
