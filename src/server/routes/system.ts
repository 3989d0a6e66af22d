import { hostname } from 'node:os';
import { sql } from 'kysely';
import type { FastifyPluginAsync } from 'fastify';
import { VERSION } from '../version.js';
import { errors } from '../schemas.js';

/** Health (no credential), the type catalog, Prometheus metrics. */
export const systemRoutes: FastifyPluginAsync = async (app) => {
  const { engine, metrics, runner } = app.ferry;

  app.get(
    '/api/v1/health',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Is the server up and its database reachable? (no credential needed)',
        security: [],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['ok'] },
              version: { type: 'string' },
              database: { type: 'string', enum: ['sqlite', 'postgres'] },
              server: { type: 'string' },
              acceptingOperations: { type: 'boolean' },
              time: { type: 'string' },
            },
          },
          503: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
    async (_request, reply) => {
      try {
        // The read connection: on SQLite the writer is held by an install for as long as it runs.
        await sql`select 1`.execute(engine.store.readDb);
      } catch {
        return reply.status(503).send({ status: 'unavailable', code: 'DATABASE_UNAVAILABLE', message: 'the database does not answer' });
      }
      return {
        status: 'ok',
        version: VERSION,
        database: engine.store.caps.name,
        server: app.ferry.config.serverName ?? hostname(),
        acceptingOperations: runner.accepting,
        time: new Date().toISOString(),
      };
    },
  );

  app.get(
    '/api/v1/ready',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary:
          'Should a load balancer send requests here? 200 while the database answers and this process takes work; 503 while it shuts down (no credential needed)',
        description:
          'For a load balancer in front of several server processes: a process answers 503 from the moment it begins to shut down (it still finishes the requests and operations it has), so new requests go to the others.',
        security: [],
        response: {
          200: { type: 'object', properties: { status: { type: 'string', enum: ['ready'] }, server: { type: 'string' }, worker: { type: 'string' } } },
          503: { type: 'object', properties: { status: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
    async (_request, reply) => {
      if (!runner.accepting) return reply.status(503).send({ status: 'unavailable', code: 'SHUTTING_DOWN', message: 'this server process is shutting down' });
      try {
        await sql`select 1`.execute(engine.store.db);
      } catch {
        return reply.status(503).send({ status: 'unavailable', code: 'DATABASE_UNAVAILABLE', message: 'the database does not answer' });
      }
      return { status: 'ready', server: app.ferry.config.serverName ?? hostname(), worker: runner.workerId };
    },
  );

  app.get(
    '/api/v1/catalog',
    {
      schema: {
        tags: ['system'],
        summary: 'The type catalog: types with their refs, includes, natural keys, parts and scope',
        response: {
          200: {
            type: 'object',
            properties: { version: { type: 'string' }, types: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } } },
          },
          401: errors[401],
        },
      },
    },
    async () => engine.catalog,
  );

  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics: requests (count, duration), operations by kind and status, objects installed',
        security: [],
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
