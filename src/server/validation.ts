import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { ValidationError } from '../core/errors.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/**
 * Two validators: bodies are checked strictly (a number where a string is
 * expected is a 400, never silently coerced; unknown fields are refused so a
 * typo is not ignored), while query strings and path parameters, which are
 * text on the wire, are coerced to the declared types.
 */
export function registerValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false }));
  const coercing = addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  app.setSchemaErrorFormatter((errors, dataVar) => new Error(errors.map((e) => describeError(e, dataVar)).join('; ')));
  // PostgreSQL cannot store a NUL in text and SQLite can: refuse it on both, up front, naming where it is.
  app.addHook('preValidation', async (request) => {
    const body = request.body;
    const where =
      findNul(request.params, 'params') ??
      findNul(request.query, 'querystring') ??
      (body !== null && typeof body === 'object' && typeof (body as { pipe?: unknown }).pipe === 'function' ? null : findNul(body, 'body'));
    if (where) throw new ValidationError(`${where} contains a NUL character (\\u0000), which Ferry does not store`);
  });
}

/** The path of the first string (value or key) holding a NUL, or null. */
export function findNul(value: unknown, root: string): string | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return `${path} (a key)`;
        stack.push([x, `${path}.${k}`]);
      }
    }
  }
  return null;
}

/** `body.roles.100000001 must be one of admin, promoter, viewer`: the message names the field. */
export function describeError(e: FastifySchemaValidationError | ErrorObject, dataVar: string): string {
  const path =
    dataVar +
    (e.instancePath ?? '')
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
      .join('');
  const params = (e.params ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${path}.${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${path}.${String(params.additionalProperty)} is not a known field`;
    case 'enum':
      return `${path} must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'type':
      return `${path} must be ${String(params.type)}`;
    default:
      return `${path} ${e.message ?? 'is invalid'}`;
  }
}
