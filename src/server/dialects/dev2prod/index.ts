/**
 * The Dev2Prod face (shared/reference 000 and 001): export a package to the
 * file repository, download and upload the bundle, import it (dry run or
 * not) into a tenant, each as an operation polled by id. The tenant is the
 * `{tenant_id}` of the path; credentials are a Bearer token (API key or
 * session) or the `SMAX_AUTH_TOKEN` cookie from the login in login.ts.
 * README.md beside this file lists what is implemented and every decision.
 */
import { locatingJsonParser } from '../../json-body.js';
import type { FastifyInstance } from 'fastify';
import type { DialectContext, DialectSpec } from '../types.js';
import { attachmentRoutes } from './attachments.js';
import { exportRoutes } from './exports.js';
import { importRoutes } from './imports.js';
import { SESSION_COOKIE, dev2prodLogin } from './login.js';

/** A JSON body may be empty (`POST .../export/types/{id}` with no `{}`): read as `{}`. */
function acceptEmptyJson(app: FastifyInstance): void {
  const json = locatingJsonParser(app, 'error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, {});
    else void json(request, body as string, done);
  });
}

export const dev2prod: DialectSpec = {
  name: 'dev2prod',
  prefix: '/rest',
  description: 'Dev2Prod REST API: export, import and dry run per tenant, with the file repository (ces/attachment)',
  environmentFrom: ['path'],
  envParam: 'tenant_id',
  credentials: ['bearer', { cookie: SESSION_COOKIE }],
  errorBody: (_status, e) => ({ code: e.code, message: e.message }),
  async routes(app: FastifyInstance, ctx: DialectContext) {
    acceptEmptyJson(app);
    exportRoutes(app, ctx);
    importRoutes(app, ctx);
    await attachmentRoutes(app, ctx);
  },
};

/** The face's two mounts: the `/rest` API and the login at the server root. */
export const DEV2PROD: readonly DialectSpec[] = [dev2prod, dev2prodLogin];
