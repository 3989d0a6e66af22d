import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FerryError } from '../core/errors.js';
import { describeJsonSyntaxError, findJsonSyntaxError, PROTO_KEY_REFUSED } from '../core/json-syntax.js';

type JsonParser = (request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * Fastify's JSON parser (prototype poisoning handled as asked), whose syntax
 * errors name the line and column: `the body is not valid JSON: line 3,
 * column 5: expected ',' or '}' after a property value`.
 */
export function locatingJsonParser(app: FastifyInstance, onProto: 'error' | 'ignore', onConstructor: 'error' | 'ignore'): JsonParser {
  // Fastify's default parser is the callback kind (its type also admits the promise kind).
  const parser = app.getDefaultJsonParser(onProto, onConstructor) as JsonParser;
  return (request, body, done) => {
    parser(request, body, (err, value) => {
      if (err && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        // Well-formed JSON refused all the same: a key that would poison a prototype, not a syntax error.
        if (findJsonSyntaxError(body) === null) {
          done(new FerryError('INVALID_REQUEST', 400, `body: ${PROTO_KEY_REFUSED}, as is a "constructor" key holding "prototype"`, { cause: err }));
          return;
        }
        done(new FerryError('INVALID_JSON', 400, `the body is not valid JSON: ${describeJsonSyntaxError(body, err)}`, { cause: err }));
      } else done(err, value);
    });
  };
}

/** Replace the app's `application/json` parser by the locating one (at the root: every route inherits it). */
export function registerJsonParser(app: FastifyInstance): void {
  const json = locatingJsonParser(app, 'error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => json(request, body as string, done));
}
