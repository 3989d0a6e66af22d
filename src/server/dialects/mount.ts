import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyLimitOf, toErrorResponse } from '../errors.js';
import { resolveEnvironment } from './environment.js';
import type { DialectContext, DialectSpec } from './types.js';

/** Send any error in the face's own shape (the native `{code, message}` mapping decides status and words). */
function sendDialectError(spec: DialectSpec, error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, internal } = toErrorResponse(error, request.id, bodyLimitOf(request));
  request.errorCode = body.code;
  if (internal) request.log.error({ err: error }, 'request failed');
  if (status === 413) reply.header('connection', 'close');
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send(spec.errorBody(status, body, request));
}

/**
 * Mount a face as an encapsulated Fastify plugin under its prefix: its routes
 * take credentials where its clients send them, carry its OpenAPI tag, and
 * answer errors (including 401s from authentication, bad bodies and unknown
 * routes under the prefix) in its document's shape.
 */
export async function mountDialect(app: FastifyInstance, spec: DialectSpec): Promise<void> {
  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, credentials: route.config?.credentials ?? spec.credentials };
        // The face's documented responses (responses.ts: they document, the server serializes with JSON.stringify).
        const documented = spec.responses?.[`${String(route.method)} ${route.url.startsWith(spec.prefix) ? route.url.slice(spec.prefix.length) : route.url}`];
        if (documented) route.schema = { ...route.schema, response: { ...(route.schema?.response as object | undefined), ...documented } };
        // A public route (a login) says so in the OpenAPI document too: no security requirement.
        if (!route.schema?.hide) route.schema = { ...route.schema, tags: route.schema?.tags ?? [spec.name], ...(route.config?.public ? { security: [] } : {}) };
      });
      scope.setErrorHandler((error, request, reply) => sendDialectError(spec, error, request, reply));
      if (spec.prefix) {
        scope.setNotFoundHandler((request, reply) => {
          const path = request.url.split('?')[0];
          return sendDialectError(spec, Object.assign(new Error(`no route ${request.method} ${path}`), { statusCode: 404, code: 'NOT_FOUND' }), request, reply);
        });
      }
      const ctx: DialectContext = {
        ferry: app.ferry,
        environment: (request, need = 'viewer', what = 'this') => resolveEnvironment(request, app.ferry, spec.environmentFrom, spec.envParam, need, what),
        recentEnvironment: (request) => resolveEnvironment(request, app.ferry, spec.environmentFrom, spec.envParam, 'viewer', 'this', { recent: true }),
      };
      await spec.routes(scope, ctx);
    },
    { prefix: spec.prefix },
  );
}
