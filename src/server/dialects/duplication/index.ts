import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyRequest } from 'fastify';
import { ValidationError } from '../../../core/errors.js';
import { parseTrustedSources, TRUSTED_SOURCES_VARIABLE } from '../../../engine/duplication-remote.js';
import type { ErrorBody } from '../../errors.js';
import type { DialectSpec } from '../types.js';
import { duplicationRoutes } from './duplications.js';
import { projectRoutes } from './projects.js';
import { duplicationResponses } from './responses.js';
import { SESSION_COOKIE, sessionRoutes } from './sessions.js';

const MISLABELLED_FORM =
  'the body is multipart form data sent as Content-Type: application/json; send the restoration (file and metadata) as multipart/form-data (with curl: --form without -H "Content-Type: application/json")';

/** A multipart body: a boundary line, then a form-data part header. */
const looksLikeForm = (body: string): boolean => /^--[^\r\n]+\r?\ncontent-disposition:\s*form-data/i.test(body);

/**
 * 004's error codes by status. 401 has none in the document: the product's
 * own ERR003 (authentication failed) for a login, ERR009 (no valid session)
 * elsewhere, which the SDK's logout expects when a session has expired.
 */
function productCode(status: number, e: ErrorBody, request: FastifyRequest): string {
  switch (status) {
    case 400:
      return 'INVALID_REQUEST';
    case 401:
      return request.routeOptions.url === '/api/auth/login' ? 'ERR003' : 'ERR009';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return e.code === 'PROJECT_NOT_FOUND' ? e.code : 'NOT_FOUND';
    case 500:
      return 'INTERNAL_SERVER_ERROR';
    default:
      return e.code;
  }
}

/**
 * The duplication face (004 "Project Duplication (Cross Environment)" and
 * the vendor's SDK mstrio-py), at the server root: the SDK cuts its base URL
 * at the first `/api`. The native API keeps `/api/v1`; this face owns
 * `/api/auth`, `/api/sessions`, `/api/status`, `/api/projects`,
 * `/api/monitors/projects`, `/api/objects` and `/api/projectDuplications`.
 */
export const duplication: DialectSpec = {
  name: 'duplication',
  prefix: '',
  description: 'Project duplication within and across servers, drop-in for the vendor SDK mstrio-py',
  // Projects are named by id in bodies and headers, not by the plumbing's sources.
  environmentFrom: [],
  credentials: ['X-MSTR-AuthToken', 'bearer', { cookie: SESSION_COOKIE }],
  responses: duplicationResponses,
  errorBody: (status, e, request) => ({
    code: productCode(status, e, request),
    message: e.message,
    ticketId: request.id.replaceAll('-', '').toUpperCase(),
    // Ferry has no Intelligence Server behind it: no I-Server error code.
    iServerCode: 0,
  }),
  async routes(app, ctx) {
    // A malformed trust list stops the start with a message naming the variable, not the first duplication.
    parseTrustedSources(process.env[TRUSTED_SOURCES_VARIABLE]);
    // The document's restoration sample sends its form with `-H "Content-Type: application/json"`:
    // a form under a JSON content type is named for what it is, not "not valid JSON".
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (looksLikeForm(body as string)) done(new ValidationError(MISLABELLED_FORM), undefined);
      else void json(request, body as string, done);
    });
    await app.register(formbody);
    // The session cookie is set by this face's login: the plugin's hooks stay in this scope (auth reads the cookie header itself, auth.ts).
    await app.register(cookie);
    sessionRoutes(app, ctx);
    projectRoutes(app, ctx);
    await duplicationRoutes(app, ctx);
  },
};
