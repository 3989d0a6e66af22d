import type { FastifyPluginAsync } from 'fastify';
import { conflict, envParams, errors, lockSchema } from '../schemas.js';

/**
 * An environment's install lock, for its admins: see who holds it and
 * whether the holder is gone; break a stale one (a live one only with
 * `force`). Each break is audited (`environment.unlock`). The engine
 * decides staleness (engine/locks.ts).
 */
export const lockRoutes: FastifyPluginAsync = async (app) => {
  const { engine } = app.ferry;

  app.get<{ Params: { envId: string } }>(
    '/environments/:envId/lock',
    {
      schema: {
        tags: ['environments'],
        summary: "The environment's install lock: holder, owning process, heartbeat, and whether it is stale (environment admin)",
        params: envParams,
        response: { 200: lockSchema, ...errors },
      },
    },
    async (request) => {
      const env = await app.ferry.access(request).env(request.params.envId, 'admin', 'looking at the install lock');
      return engine.getLock(env.id);
    },
  );

  app.delete<{ Params: { envId: string }; Querystring: { force?: boolean } }>(
    '/environments/:envId/lock',
    {
      schema: {
        tags: ['environments'],
        summary: "Break the environment's install lock (environment admin)",
        description:
          'A lock whose holder is gone (its process exited, or on another host stopped beating for 2 minutes) is broken; ' +
          'one whose holder is alive is refused (409 LOCK_HELD) unless `force=true`, meant for a holder known to be hung. ' +
          '409 NOT_LOCKED when nothing holds it. Answers the lock as it was; the break is in the audit log.',
        params: envParams,
        querystring: {
          type: 'object',
          properties: { force: { type: 'boolean', default: false, description: 'Break it even though its holder looks alive' } },
        },
        response: { 200: lockSchema, ...errors, ...conflict },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const env = await access.env(request.params.envId, 'admin', 'breaking the install lock');
      return engine.breakLock(env.id, { force: request.query.force === true }, access.actor);
    },
  );
};
