import type { FastifyPluginAsync } from 'fastify';
import { ValidationError } from '../../core/errors.js';
import { ForbiddenError } from '../../engine/auth.js';
import type { Access } from '../auth.js';
import { envParams, errors, listOf, locked, objectInputSchema, objectSchema, pagingQuery } from '../schemas.js';

interface ObjectParams {
  envId: string;
  type: string;
  objectId: string;
}

/** Fields a GET answers that are computed, accepted back (round trip) and ignored. */
const COMPUTED = ['hash', 'updatedAt'];
const inputItem = {
  ...objectInputSchema,
  additionalProperties: false,
  properties: { ...objectInputSchema.properties, hash: { type: 'string' }, updatedAt: { type: 'string' } },
} as const;

function stripComputed(o: unknown): unknown {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
  const copy = { ...(o as Record<string, unknown>) };
  for (const k of COMPUTED) delete copy[k];
  return copy;
}

/** Configuration objects of one environment. */
export const objectRoutes: FastifyPluginAsync = async (app) => {
  const { engine } = app.ferry;

  /** Server-scoped types (users, groups, roles) are shared by every environment: only a server admin writes them. */
  const checkScope = (access: Access, types: Iterable<string>) => {
    if (access.isAdmin) return;
    for (const t of types) {
      if (engine.catalog.types[t]?.scope === 'server') {
        throw new ForbiddenError(`objects of type ${t} are shared by every environment of the server: writing them needs a server admin`);
      }
    }
  };

  app.post<{ Params: { envId: string }; Body: unknown[] }>(
    '/environments/:envId/objects',
    {
      schema: {
        tags: ['objects'],
        summary: 'Upsert objects: a JSON array, or NDJSON (Content-Type: application/x-ndjson), one transaction (environment admin)',
        params: envParams,
        body: { type: 'array', items: inputItem, description: 'Objects {type, id, name, fields}' },
        response: {
          200: {
            type: 'object',
            properties: { written: { type: 'integer' }, version: { type: 'integer', description: 'Environment version after the load' } },
          },
          ...errors,
          ...locked,
          413: { type: 'object', description: 'Body over the limit (FERRY_BODY_LIMIT); nothing written' },
        },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const env = await access.env(request.params.envId, 'admin', 'writing objects');
      const items = request.body.map(stripComputed);
      checkScope(
        access,
        items.map((o) => String((o as { type?: unknown }).type)),
      );
      return engine.loadObjects(env.id, items, access.actor);
    },
  );

  app.get<{ Params: { envId: string }; Querystring: { type?: string; limit: number; offset: number } }>(
    '/environments/:envId/objects',
    {
      schema: {
        tags: ['objects'],
        summary: 'List objects, by type and id, with paging',
        params: envParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { type: { type: 'string', description: 'Only this type code, e.g. TMPL' }, ...pagingQuery },
        },
        response: { 200: listOf(objectSchema), ...errors },
      },
    },
    async (request) => {
      const env = await app.ferry.access(request).env(request.params.envId);
      const { type, limit, offset } = request.query;
      return engine.listObjects(env.id, { type: type?.toUpperCase(), limit, offset });
    },
  );

  const objectParams = {
    type: 'object',
    required: ['envId', 'type', 'objectId'],
    properties: { envId: { type: 'string' }, type: { type: 'string', description: 'Type code, e.g. TMPL' }, objectId: { type: 'string' } },
  } as const;

  app.get<{ Params: ObjectParams }>(
    '/environments/:envId/objects/:type/:objectId',
    { schema: { tags: ['objects'], summary: 'One object', params: objectParams, response: { 200: objectSchema, ...errors } } },
    async (request) => {
      const env = await app.ferry.access(request).env(request.params.envId);
      return engine.getObject(env.id, request.params.type.toUpperCase(), request.params.objectId);
    },
  );

  app.put<{ Params: ObjectParams; Body: { type?: string; id?: string; name: string; fields?: Record<string, unknown> } }>(
    '/environments/:envId/objects/:type/:objectId',
    {
      schema: {
        tags: ['objects'],
        summary: 'Create or replace one object (environment admin)',
        params: objectParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            type: { type: 'string', description: 'Optional; must match the path' },
            id: { type: 'string', description: 'Optional; must match the path' },
            name: { type: 'string', maxLength: 1000 },
            fields: { type: 'object', additionalProperties: true },
            hash: { type: 'string' },
            updatedAt: { type: 'string' },
          },
        },
        response: { 200: objectSchema, ...errors, ...locked },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const env = await access.env(request.params.envId, 'admin', 'writing objects');
      const type = request.params.type.toUpperCase();
      const { objectId } = request.params;
      const b = request.body;
      if (b.type !== undefined && b.type.toUpperCase() !== type) throw new ValidationError(`body.type ${b.type} does not match the path (${type})`);
      if (b.id !== undefined && b.id !== objectId) throw new ValidationError(`body.id ${b.id} does not match the path (${objectId})`);
      checkScope(access, [type]);
      return engine.putObject(env.id, { type, id: objectId, name: b.name, fields: b.fields ?? {} }, access.actor);
    },
  );

  app.delete<{ Params: ObjectParams }>(
    '/environments/:envId/objects/:type/:objectId',
    {
      schema: {
        tags: ['objects'],
        summary: 'Delete one object (environment admin)',
        params: objectParams,
        response: { 204: { type: 'null' }, ...errors, ...locked },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const env = await access.env(request.params.envId, 'admin', 'deleting objects');
      const type = request.params.type.toUpperCase();
      checkScope(access, [type]);
      await engine.deleteObject(env.id, type, request.params.objectId, access.actor);
      return reply.status(204).send();
    },
  );
};
