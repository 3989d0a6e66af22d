/**
 * Response schemas of the API faces, for the OpenAPI document only.
 *
 * Decision: a face's answer must stay byte for byte what its handler builds
 * (its clients are written against another product). Fastify would normally
 * serialize through a response schema with fast-json-stringify, which drops
 * properties the schema does not name and coerces types; this server instead
 * serializes every response with plain JSON.stringify
 * (`setSerializerCompiler` in ../app.ts, inherited by every face's scope), so
 * these schemas describe and never filter. test/dialects/faces-bodies.test.ts
 * calls every face route and compares each body with JSON.stringify of what
 * its handler built (with Fastify's default compiler that test fails: bodies
 * lose fields, and even `additionalProperties: true` does not keep the
 * handler's property order, so the serializer switch is what guarantees it).
 * The schemas say `additionalProperties: true` where a body carries more than
 * they name (the fields of configuration objects), so the document is honest.
 *
 * A face declares them apart from its routes, by `METHOD path` (the path
 * below the face's prefix, as registered); mount.ts attaches them.
 */

type Schema = Record<string, unknown>;

/** Responses of one route, by status code. */
export type Responses = Record<string, Schema>;

/** What a face declares: the responses of each route, keyed `METHOD path`. */
export type FaceResponses = Record<string, Responses>;

/** A JSON body: its schema with a description and an example taken from a real answer. */
export function json(description: string, schema: Schema, example: unknown): Schema {
  return { description, ...schema, example };
}

/** No body (204). */
export function empty(description: string): Schema {
  return { description, type: 'null' };
}

/** A body of another media type, e.g. text/plain or a file download. */
export function media(description: string, type: string, schema: Schema, example: unknown): Schema {
  return { description, content: { [type]: { schema: { ...schema, example } } } };
}

/** An object whose named properties are documented and whose others pass through untouched. */
export function open(properties: Record<string, Schema>, extra: Schema = {}): Schema {
  return { type: 'object', additionalProperties: true, properties, ...extra };
}

export const str = { type: 'string' } as const;
export const strOrNull = { type: ['string', 'null'] } as const;
export const int = { type: 'integer' } as const;
export const bool = { type: 'boolean' } as const;
export const arrayOf = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
/** A map from keys (type codes, ids) to values of one schema. */
export const mapOf = (values: Schema, description: string): Schema => ({ type: 'object', description, additionalProperties: values });

/** The error responses of a face: its error body schema with a real example per status. */
export function errorResponses(schema: Schema, examples: Record<string, { description: string; example: unknown }>, statuses: readonly number[]): Responses {
  const out: Responses = {};
  for (const s of statuses) {
    const e = examples[s];
    if (!e) throw new Error(`no example error for status ${s}`);
    out[s] = { ...schema, description: e.description, example: e.example };
  }
  return out;
}
