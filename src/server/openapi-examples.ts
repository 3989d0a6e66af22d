/**
 * Examples and parameter descriptions for the OpenAPI document, filled in
 * where a route's schema gives none (@fastify/swagger `transform`): a body's
 * example is built from its schema (each property's own `example`, else its
 * enum, default or format, else a value typical of its name, such as an
 * environment id of the demo), so that /docs shows a request that works
 * against the demo environments and a response as the server sends it.
 * Only the document changes: validation keeps the route's own schema.
 */

type Schema = Record<string, unknown>;

const ENV = '100000001';
const UUID = '8c1f3a5e-2b4d-4f6a-9c8e-1d2f3a4b5c6d';
const WHEN = '2026-01-27T09:44:00.000Z';

/** Typical values by property name (lower case), for properties without an example of their own. */
const BY_NAME: Record<string, unknown> = {
  id: UUID,
  envid: ENV,
  sourceenvid: ENV,
  targetenvid: '100000003',
  environmentid: ENV,
  otherid: '100000002',
  tenant_id: ENV,
  clonefrom: ENV,
  packageid: UUID,
  installationid: UUID,
  operationid: UUID,
  fileid: UUID,
  objectid: 'tmpl-onboarding',
  entityid: 'tmpl-onboarding',
  name: 'Onboarding',
  description: 'Templates and groups for new hires',
  username: 'pat',
  password: 'a long password',
  actor: 'pat',
  createdby: 'pat',
  type: 'TMPL',
  objcode: 'TMPL',
  tier: 'production',
  role: 'promoter',
  status: 'ACTIVE',
  kind: 'install',
  key: 'fry_3kZ9cXw2ParQ7vLm4tY8bN1e',
  token: 'fst_h7Kq2ZrX9wLm4tY8bN1eVc3s',
  message: 'done',
  code: 'INVALID_REQUEST',
  url: 'http://127.0.0.1:8080/api/v1/files/8c1f3a5e-2b4d-4f6a-9c8e-1d2f3a4b5c6d/content',
  host: 'prod.example.com',
  hosts: ['prod.example.com'],
  version: 7,
  total: 1,
  limit: 50,
  offset: 0,
  count: 3,
  progress: 1,
  size: 48213,
  bytes: 48213,
};

/** The `{code, message}` error answers, per status. */
const ERRORS: Record<string, { code: string; message: string }> = {
  '400': { code: 'INVALID_REQUEST', message: 'body.name is required' },
  '401': { code: 'UNAUTHORIZED', message: 'no credential: send an API key as Authorization: Bearer <key>' },
  '403': { code: 'FORBIDDEN', message: 'installing needs the promoter role on environment 100000003; you are viewer there' },
  '404': { code: 'NOT_FOUND', message: `package ${UUID} not found` },
  '409': { code: 'CONFLICT', message: 'the plan is stale: the target changed since it was prepared; prepare it again' },
  '413': { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the 32 MiB limit (FERRY_BODY_LIMIT); nothing was written' },
  '415': { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported Media Type: text/csv' },
  '423': { code: 'ENVIRONMENT_LOCKED', message: 'environment 100000003 is locked by a running installation' },
  '429': { code: 'TOO_MANY_REQUESTS', message: 'too many failed logins; try again in 60 s' },
  '500': { code: 'INTERNAL', message: 'internal error (request 9f1c...); the server log has the details' },
};

function isSchema(v: unknown): v is Schema {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * An example value for a schema, `name` being the property (or parameter)
 * it describes. `minimal` (request bodies) keeps to the required properties
 * and those with an example of their own: what a first request needs.
 */
export function exampleOf(schema: unknown, name = '', depth = 0, minimal = false): unknown {
  if (!isSchema(schema) || depth > 12) return null;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  for (const k of ['oneOf', 'anyOf', 'allOf'] as const) {
    const list = schema[k];
    if (Array.isArray(list) && list.length > 0) return exampleOf(list.find((s) => isSchema(s) && s.type !== 'null') ?? list[0], name, depth + 1, minimal);
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const type = types.find((t) => t && t !== 'null') ?? (schema.properties ? 'object' : schema.items ? 'array' : undefined);
  const known = BY_NAME[name.toLowerCase()];
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
      for (const [k, v] of Object.entries(isSchema(schema.properties) ? schema.properties : {})) {
        if (!minimal || required.has(k) || (isSchema(v) && v.example !== undefined)) out[k] = exampleOf(v, k, depth + 1, minimal);
      }
      if (Object.keys(out).length === 0 && isSchema(schema.additionalProperties)) {
        out[/roles|env/i.test(name) ? ENV : 'key'] = exampleOf(schema.additionalProperties, name === 'roles' ? 'role' : '', depth + 1, minimal);
      }
      return out;
    }
    case 'array':
      if (Array.isArray(known)) return known;
      return isSchema(schema.items) ? [exampleOf(schema.items, name.replace(/s$/, ''), depth + 1, minimal)] : [];
    case 'integer':
    case 'number':
      return typeof known === 'number' ? known : typeof schema.minimum === 'number' ? Math.max(schema.minimum, 1) : 1;
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time' || /(^at$|At$|since|until)/.test(name)) return WHEN;
      if (schema.format === 'uuid') return UUID;
      if (schema.format === 'uri' || schema.format === 'url') return 'http://127.0.0.1:8080';
      if (typeof known === 'string') return known;
      if (/Id$|ID$/.test(name)) return UUID;
      return name ? name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : 'text';
    default:
      return typeof known === 'string' || typeof known === 'number' ? known : null;
  }
}

/** `The package`, from `/packages/{id}`: the segment before a parameter names what it identifies. */
function describeParam(url: string, name: string, where: 'path' | 'query'): string {
  const words = (s: string) =>
    s
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .replace(/[_$-]+/g, ' ')
      .trim()
      .toLowerCase();
  const fixed: Record<string, string> = {
    limit: 'How many items to return at most',
    offset: 'How many items to skip (paging)',
    $top: 'How many items to return at most',
    $skip: 'How many items to skip (paging)',
    envId: 'Environment id, e.g. 100000001 (GET /api/v1/environments lists yours)',
    otherId: 'The other environment id, e.g. 100000002',
    environmentId: 'Environment id, e.g. 100000001',
    tenant_id: 'Environment (tenant) id, e.g. 100000001',
    sourceEnvId: 'Only packages assembled from this environment',
    packageId: 'Package id (a UUID)',
    username: 'User name',
    keyId: 'API key id',
    type: 'Object type code from the catalog, e.g. TMPL (GET /api/v1/catalog lists them)',
    objectId: 'Object id within its type',
    entityId: 'Object id within its type',
    operationId: 'Operation id (a UUID)',
    status: 'Only items in this status',
    installationStatus: 'Only installations in this status',
    kind: 'Only operations of this kind',
    dryRun: 'true: check and report only, change nothing',
    overwriteDrift: 'true: overwrite objects changed in the target since the last install',
    force: 'true: allow a push to a lower tier (needs admin on the target)',
    all: 'true: include objects that are the same on both sides',
    project: 'Project id',
    id: 'Id of the item (a UUID)',
  };
  if (name === 'id' && where === 'path') {
    const segs = url.split('/').filter(Boolean);
    const i = segs.findIndex((s) => s === '{id}' || s === ':id');
    const owner = i > 0 ? segs[i - 1]! : 'item';
    return `${words(owner.replace(/ies$/, 'y').replace(/s$/, ''))} id`.replace(/^./, (c) => c.toUpperCase());
  }
  if (fixed[name]) return fixed[name];
  return `${words(name)}`.replace(/^./, (c) => c.toUpperCase());
}

function withParamDescriptions(schema: unknown, url: string, where: 'path' | 'query'): unknown {
  if (!isSchema(schema) || !isSchema(schema.properties)) return schema;
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema.properties)) {
    properties[k] = isSchema(v) && !v.description ? { ...v, description: describeParam(url, k, where) } : v;
  }
  return { ...schema, properties };
}

function withExample(schema: unknown, status?: string, minimal = false): unknown {
  if (!isSchema(schema) || schema.example !== undefined) return schema;
  const props = isSchema(schema.properties) ? schema.properties : {};
  if (status && ERRORS[status] && 'code' in props && 'message' in props && Object.keys(props).length === 2) return { ...schema, example: ERRORS[status] };
  if (!schema.type && !schema.properties && !schema.items) return schema; // no body (204) or anything goes
  const example = exampleOf(schema, '', 0, minimal);
  return example === null ? schema : { ...schema, example };
}

/** The swagger `transform`: the route's schema with examples and parameter descriptions added where it has none. */
export function documentRoute({ schema, url }: { schema: unknown; url: string }): { schema: Schema; url: string } {
  if (!isSchema(schema)) return { schema: schema as Schema, url };
  const out: Schema = { ...schema };
  // Path parameters the route's schema does not declare are documented from the URL.
  const declared = isSchema(schema.params) && isSchema(schema.params.properties) ? schema.params.properties : {};
  const fromUrl = [...url.matchAll(/[:{]([A-Za-z_$][\w$]*)\}?/g)].map((m) => m[1]!).filter((n) => !(n in declared));
  const params = fromUrl.length
    ? {
        type: 'object',
        ...(isSchema(schema.params) ? schema.params : {}),
        properties: { ...declared, ...Object.fromEntries(fromUrl.map((n) => [n, { type: 'string' }])) },
        required: [...new Set([...(isSchema(schema.params) && Array.isArray(schema.params.required) ? (schema.params.required as string[]) : []), ...fromUrl])],
      }
    : schema.params;
  if (params) out.params = withParamDescriptions(params, url, 'path');
  if (schema.querystring) out.querystring = withParamDescriptions(schema.querystring, url, 'query');
  if (schema.body) out.body = withExample(schema.body, undefined, true);
  if (isSchema(schema.response)) {
    const response: Schema = {};
    for (const [status, r] of Object.entries(schema.response)) response[status] = withExample(r, status);
    out.response = response;
  }
  return { schema: out, url };
}
