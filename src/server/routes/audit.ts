import type { FastifyPluginAsync } from 'fastify';
import { ForbiddenError } from '../../engine/auth.js';
import { isoTime } from '../auth.js';
import { auditSchema, errors } from '../schemas.js';

/** The audit log: every change, who made it, from where, and the result. */
export const auditRoutes: FastifyPluginAsync = async (app) => {
  const { engine } = app.ferry;

  app.get<{ Querystring: { environmentId?: string; actor?: string; since?: string; until?: string; limit: number } }>(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit entries, newest first: all (server admin), one environment (its admins), or your own (actor = you)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            environmentId: { type: 'string' },
            actor: { type: 'string', description: 'User name' },
            since: { type: 'string', description: 'ISO-8601 time, inclusive' },
            until: { type: 'string', description: 'ISO-8601 time, inclusive' },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: auditSchema } } }, ...errors },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const q = request.query;
      if (!access.isAdmin) {
        if (q.environmentId) await access.env(q.environmentId, 'admin', 'reading the audit log of an environment');
        else if (q.actor !== access.principal.username) {
          throw new ForbiddenError('the whole audit log needs a server admin: filter by environmentId (as its admin) or by actor=<you>');
        }
      }
      const items = await engine.store.audit.list({
        envId: q.environmentId,
        actor: q.actor,
        since: isoTime(q.since, 'since'),
        until: isoTime(q.until, 'until'),
        limit: q.limit,
      });
      return { items };
    },
  );
};
