import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { ValidationError } from '../core/errors.js';
import { MAX_BODY_DEPTH, MAX_FIELD_DEPTH } from '../core/limits.js';
import { hasLoneSurrogate } from '../core/printable.js';

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
  // Checked on every route (and every API face registered later) before its
  // schema runs: PostgreSQL cannot store a NUL in text and SQLite can, so it
  // is refused on both, up front, naming where it is; and a body nested past
  // MAX_BODY_DEPTH never reaches code that walks it recursively.
  app.addHook('preValidation', (request, _reply, done) => {
    const body = request.body;
    const problem =
      findUnacceptable(request.params, 'params') ??
      findUnacceptable(request.query, 'querystring') ??
      (body !== null && typeof body === 'object' && typeof (body as { pipe?: unknown }).pipe === 'function' ? null : findUnacceptable(body, 'body'));
    done(problem ? new ValidationError(problem) : undefined);
  });
}

/** A NUL, or any surrogate (a lone one is refused; a pair, an emoji, only sends the value down the full walk). */
const suspect = (text: string) => text.includes('\u0000') || SURROGATE.test(text);
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Nothing to walk: absent, or an object of plain strings (path parameters,
 * most query strings) with no suspect character in a key or a value. Every
 * request's params and query come this way, without the walk's allocations.
 */
function plainlyAcceptable(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v !== 'string' || suspect(k) || suspect(v)) return false;
  }
  return true;
}

/**
 * What no route accepts in a request's values, as a message naming where it
 * is, or null: a NUL or a lone surrogate in a string or a key, nesting deeper
 * than MAX_BODY_DEPTH. Run on whatever a body parser produced (JSON, NDJSON,
 * forms, and the parsers API faces add), so every route gets it. Iterative: a body nested 10^5 levels deep (JSON.parse
 * builds it happily) is measured without recursion.
 */
export function findUnacceptable(value: unknown, root: string): string | null {
  if (plainlyAcceptable(value)) return null;
  const stack: [unknown, string, number][] = [[value, root, 1]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return nulAt(path);
      if (hasLoneSurrogate(v)) return loneSurrogateAt(path);
    } else if (v !== null && typeof v === 'object') {
      if (depth > MAX_BODY_DEPTH) {
        return `${root} is nested deeper than ${MAX_BODY_DEPTH} levels (at ${path.length > 80 ? `${path.slice(0, 80)}...` : path}); object fields may nest at most ${MAX_FIELD_DEPTH} levels`;
      }
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`, depth + 1]);
      } else {
        for (const [k, x] of Object.entries(v)) {
          if (k.includes('\u0000')) return nulAt(`${path} (a key)`);
          if (hasLoneSurrogate(k)) return loneSurrogateAt(`${path} (a key)`);
          stack.push([x, `${path}.${k}`, depth + 1]);
        }
      }
    }
  }
  return null;
}

// JSON can spell a lone surrogate (`"\ud800"`); it has no UTF-8 form, so storing it would silently change it to U+FFFD.
const loneSurrogateAt = (where: string) => `${where} is not valid UTF-16: it holds a lone surrogate (an unpaired \\ud800-\\udfff escape); nothing was written`;
const nulAt = (where: string) => `${where} contains a NUL character (\\u0000), which Ferry does not store`;

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
