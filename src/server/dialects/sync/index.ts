import { syncResponses } from './responses.js';
import { locatingJsonParser } from '../../json-body.js';
import type { DialectSpec } from '../types.js';
import { adminRoutes } from './admin-routes.js';
import { packRoutes } from './pack-routes.js';

/**
 * The sync face (002 + the product's Admin API samples): a client written
 * like Intelledox/Infiniti's `ApiExamples/AdminApi` works with its Manage URL
 * pointed at `<server>/sync/<environment id>`. Mounted at the server root,
 * since 002 also names the bare `/projects/sync/export|import`.
 */
export const syncDialect: DialectSpec = {
  name: 'sync',
  prefix: '',
  description: "Environment sync: the product's Admin API at each environment's Manage root /sync/{env}/api/v1/admin/, and /projects/sync/*",
  environmentFrom: ['path', 'host', 'header', 'home'],
  envParam: 'envId',
  // The samples send `Authorization: Bearer <authorizationToken>`; a Ferry API key works there too.
  credentials: ['bearer'],
  // 002 and the samples show no error body (their clients only check the status): the native shape.
  errorBody: (_status, e) => ({ code: e.code, message: e.message }),
  responses: syncResponses,
  async routes(app, ctx) {
    // The Postman collection sends `Content-Type: application/json` on POSTs
    // without a body (logoff): an empty JSON body is no body here, not a 400.
    const json = locatingJsonParser(app, 'error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '') done(null, undefined);
      else void json(request, body as string, done);
    });
    await adminRoutes(app, ctx);
    await packRoutes(app, ctx);
  },
};
