import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '../core/errors.js';
import { formatBytes } from '../core/limits.js';
import { databaseError } from '../store/db-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Code of the error answered, for the access log and the audit of refused changes. */
    errorCode: string | null;
  }
}

/** The one error shape of the native API (DESIGN.md "API faces"). */
export interface ErrorBody {
  code: string;
  message: string;
}

/** Fastify's own request errors, mapped to our codes (everything else keeps Fastify's status). */
const FRAMEWORK: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_BAD_URL: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, code: 'INVALID_REQUEST' },
  // @fastify/multipart's part counts (it answers 413 "reach files limit"): a form with more parts than the route takes.
  FST_FILES_LIMIT: { status: 400, code: 'INVALID_REQUEST' },
  FST_FIELDS_LIMIT: { status: 400, code: 'INVALID_REQUEST' },
  FST_PARTS_LIMIT: { status: 400, code: 'INVALID_REQUEST' },
};

/** What a multipart form with too many parts is told. */
const TOO_MANY_PARTS: Record<string, string> = {
  FST_FILES_LIMIT: 'the multipart form has more file parts than this request takes (one file)',
  FST_FIELDS_LIMIT: 'the multipart form has more fields than this request takes',
  FST_PARTS_LIMIT: 'the multipart form has more parts than this request takes',
};

/**
 * Map any error to a status and `{code, message}`: FerryError keeps its code
 * and status, schema validation is a 400 naming the field, Fastify's body
 * errors get stable codes, anything else is a 500 whose message carries the
 * request id and never a stack trace (the log has it).
 */
export function toErrorResponse(error: unknown, requestId: string, bodyLimit?: number): { status: number; body: ErrorBody; internal: boolean } {
  // The database gone, read-only or full, or a transaction it killed: 503/507 in words, whatever layer it surfaced through.
  const db = databaseError(error);
  if (db) return { status: db.status, body: { code: db.code, message: db.message }, internal: true };
  if (error instanceof FerryError) return { status: error.status, body: { code: error.code, message: error.message }, internal: error.status >= 500 };
  const e = error as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) return { status: 400, body: { code: 'INVALID_REQUEST', message: e.message ?? 'invalid request' }, internal: false };
  if (e.code && FRAMEWORK[e.code]) {
    const m = FRAMEWORK[e.code]!;
    const message =
      e.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? 'the body is not valid JSON'
        : e.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `the request body is larger than the ${bodyLimit ? `${formatBytes(bodyLimit)} ` : ''}limit (FERRY_BODY_LIMIT); nothing was written`
          : (TOO_MANY_PARTS[e.code] ?? e.message ?? m.code);
    return { status: m.status, body: { code: m.code, message }, internal: false };
  }
  // A SyntaxError from a body parser is the client's malformed JSON.
  if (error instanceof SyntaxError)
    return { status: 400, body: { code: 'INVALID_JSON', message: `the body is not valid JSON: ${error.message}` }, internal: false };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { code: e.code ?? 'INVALID_REQUEST', message: e.message ?? 'bad request' }, internal: false };
  }
  return { status: 500, body: { code: 'INTERNAL', message: `internal error (request ${requestId}); the server log has the details` }, internal: true };
}

/** The body limit of the request's route (FERRY_BODY_LIMIT unless the route sets its own); none before routing. */
export function bodyLimitOf(request: FastifyRequest): number | undefined {
  return request.routeOptions?.bodyLimit;
}

/** The one place errors become responses, plus the JSON 404 for unknown routes. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    request.errorCode = 'NOT_FOUND';
    return reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${path}` } satisfies ErrorBody);
  });
}

/**
 * Send any error as `{code, message}`. Also Fastify's `frameworkErrors`
 * (a bad URL encoding, an over-long path parameter), which the router
 * answers before any route or error handler is involved.
 */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, internal } = toErrorResponse(error, request.id, bodyLimitOf(request));
  request.errorCode = body.code;
  if (internal) request.log.error({ err: error }, 'request failed');
  if (status === 413) reply.header('connection', 'close');
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="ferry"');
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}
