import type { FastifyPluginAsync } from 'fastify';
import { compareEnvironments } from '../../engine/compare.js';
import { parseSelection } from '../../engine/validate-input.js';
import { conflict, errors, installationSchema, locked, objectRefSchema } from '../schemas.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const pairParams = {
  type: 'object',
  required: ['envId', 'otherId'],
  properties: { envId: { type: 'string', minLength: 1, maxLength: 64 }, otherId: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const copySchema = { type: ['object', 'null'], properties: { name: str, hash: str, updatedAt: str } } as const;
const resultSchema = {
  type: 'object',
  properties: {
    type: str,
    id: str,
    name: str,
    result: { type: 'string', enum: ['created', 'updated', 'unchanged', 'conflict', 'drift'] },
    reason: { type: ['string', 'null'] },
  },
} as const;
const countsOf = (names: readonly string[]) => ({ type: 'object', properties: Object.fromEntries(names.map((n) => [n, int])) }) as const;
const envBrief = { type: 'object', properties: { id: str, name: str, tier: str } } as const;

interface SyncBody {
  select?: string[];
  selection?: { type: string; id: string }[];
  dryRun?: boolean;
  overwriteDrift?: boolean;
  force?: boolean;
}

/** Environment sync (002) on the native API: sync one environment into another, compare two. */
export const syncRoutes: FastifyPluginAsync = async (app) => {
  const { engine } = app.ferry;

  app.post<{ Params: { envId: string; otherId: string }; Body: SyncBody }>(
    '/environments/:envId/sync/:otherId',
    {
      schema: {
        tags: ['environments'],
        summary: 'Sync environment envId into otherId (viewer on the source, promoter on the destination): strict id+name matching, drift left alone',
        description:
          'The whole source, or the selected objects with what they need. An object is updated only when its id and its name both match in the destination; ' +
          'a conflict, or a copy edited in the destination since the last sync (drift, unless overwriteDrift), is left alone and reported. ' +
          'Refused (409) from a higher tier to a lower one unless an admin of the destination passes force. One transaction; dryRun writes nothing there.',
        params: pairParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            select: { type: 'array', items: { type: 'string', minLength: 3 }, description: 'TYPE:id or TYPE:id1,id2' },
            selection: { type: 'array', items: objectRefSchema },
            dryRun: { type: 'boolean', default: false },
            overwriteDrift: { type: 'boolean', default: false },
            force: { type: 'boolean', default: false },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              dryRun: { type: 'boolean' },
              installation: installationSchema,
              packageId: str,
              summary: countsOf(['created', 'updated', 'unchanged', 'conflict', 'drift']),
              results: { type: 'array', items: resultSchema },
            },
          },
          ...errors,
          ...conflict,
          ...locked,
        },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const source = await access.env(request.params.envId, 'viewer', 'syncing from an environment');
      const target = await access.env(request.params.otherId, 'promoter', 'syncing into an environment');
      const b = request.body ?? {};
      const selection = [...parseSelection(b.select ?? [], engine.catalog), ...(b.selection ?? [])];
      return engine.run(
        'syncEnvironments',
        {},
        source.id,
        target.id,
        selection,
        { dryRun: b.dryRun, overwriteDrift: b.overwriteDrift, force: b.force, mayForce: access.can(target.id, 'admin') },
        access.actor,
      );
    },
  );

  app.get<{ Params: { envId: string; otherId: string }; Querystring: { type?: string; all?: boolean; limit?: number; offset?: number } }>(
    '/environments/:envId/compare/:otherId',
    {
      schema: {
        tags: ['environments'],
        summary: 'Compare two environments (viewer on both): which objects differ, which side is ahead, which exist on one side only',
        description:
          'Objects are matched by id, as sync matches them. `ahead` says which side holds the newer copy: against what the last sync gave the destination ' +
          '(basis `sync`: the side still holding it is behind; both moved: `both`), else the later edit (basis `updatedAt`). ' +
          'Lists differing and one-sided objects (`all`: every object); the summary counts them all.',
        params: pairParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', minLength: 1 },
            all: { type: 'boolean', default: false },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              a: envBrief,
              b: envBrief,
              summary: countsOf(['same', 'differs', 'aheadInA', 'aheadInB', 'aheadInBoth', 'onlyInA', 'onlyInB']),
              total: int,
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    type: str,
                    id: str,
                    name: str,
                    status: { type: 'string', enum: ['same', 'differs', 'only-in-a', 'only-in-b'] },
                    ahead: { type: ['string', 'null'], enum: ['a', 'b', 'both', null] },
                    basis: { type: ['string', 'null'], enum: ['sync', 'updatedAt', null] },
                    changes: { type: 'array', items: str },
                    a: copySchema,
                    b: copySchema,
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const a = await access.env(request.params.envId);
      const b = await access.env(request.params.otherId);
      const q = request.query;
      return compareEnvironments(engine, a.id, b.id, { type: q.type?.toUpperCase(), all: q.all, limit: q.limit, offset: q.offset });
    },
  );
};
