import type { DialectSpec } from '../types.js';
import { promotionErrorBody } from './errors.js';
import { installationRoutes } from './installations.js';
import { packageRoutes } from './packages.js';
import { promotionResponses } from './responses.js';

/**
 * The Environment Promotion API of 003 (Workfront): packages assembled from
 * a source environment, a pre-run that computes the translation map against
 * the environment the request is made through, the install, and the
 * installation records. See README.md beside this file.
 */
export const promotion: DialectSpec = {
  name: 'promotion',
  prefix: '/environment-promotion/api/v1',
  description: 'Drop-in compatible with the Environment Promotion API: packages, pre-run, install, installations',
  environmentFrom: ['host', 'header', 'home'],
  credentials: ['apikey', 'sessionID', 'bearer'],
  errorBody: (status, e) => promotionErrorBody(status, e),
  responses: promotionResponses,
  async routes(app, ctx) {
    await packageRoutes(app, ctx);
    await installationRoutes(app, ctx);
  },
};
