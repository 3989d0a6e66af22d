import type { FastifyPluginAsync } from 'fastify';
import { ConflictError } from '../../core/errors.js';
import type { EnvironmentInput, EnvironmentPatch } from '../../engine/engine.js';
import { createOrClone } from '../../engine/clone.js';
import {
  accepted,
  conflict,
  createEnvironmentBody,
  environmentSchema,
  envParams,
  errors,
  installationSchema,
  listOf,
  locked,
  updateEnvironmentBody,
} from '../schemas.js';

type PatchBody = EnvironmentPatch & { mergeParameters?: Record<string, string> };

/** Environments: create (or clone), list, show, change, delete when empty, history. */
export const environmentRoutes: FastifyPluginAsync = async (app) => {
  const { engine, auth } = app.ferry;

  app.post<{ Body: EnvironmentInput }>(
    '/environments',
    {
      schema: {
        tags: ['environments'],
        summary: 'Create an environment, optionally as a clone of another (same ids) (server admin)',
        description:
          'A clone of a big environment (over 10 000 objects), or any clone asked for with `Prefer: respond-async`, runs as an operation: 202, ' +
          'and the operation reports its progress; its result is the environment.',
        body: createEnvironmentBody,
        response: { 201: environmentSchema, 202: accepted('the clone'), ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      access.requireServerAdmin('creating environments');
      const preferAsync = /\brespond-async\b/i.test(String(request.headers.prefer ?? ''));
      const r = await createOrClone(engine, (op) => app.ferry.runner.submit(op), request.body, { preferAsync, actor: access.actor });
      if (r.operation) return reply.status(202).header('location', `/api/v1/operations/${r.operation.id}`).send({ operation: r.operation });
      return reply.status(201).send(r.environment);
    },
  );

  app.get(
    '/environments',
    {
      schema: {
        tags: ['environments'],
        summary: 'Environments you can see (all of them for a server admin)',
        response: { 200: listOf(environmentSchema), 401: errors[401] },
      },
    },
    async (request) => {
      const visible = app.ferry.access(request).visibleEnvIds();
      const all = await engine.listEnvironments();
      const items = visible ? all.filter((e) => visible.includes(e.id)) : all;
      return { items, total: items.length };
    },
  );

  app.get<{ Params: { envId: string } }>(
    '/environments/:envId',
    { schema: { tags: ['environments'], summary: 'One environment', params: envParams, response: { 200: environmentSchema, ...errors } } },
    async (request) => app.ferry.access(request).env(request.params.envId),
  );

  app.patch<{ Params: { envId: string }; Body: PatchBody }>(
    '/environments/:envId',
    {
      schema: {
        tags: ['environments'],
        summary: 'Change name, hosts, parameters, target-owned fields, trusted signing keys (environment admin) or tier (server admin)',
        description: 'Every change bumps the environment version, so plans prepared before it must be prepared again.',
        params: envParams,
        body: updateEnvironmentBody,
        response: { 200: environmentSchema, ...errors, ...conflict },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const env = await access.env(request.params.envId, 'admin', 'changing an environment');
      const b = request.body;
      // The tier decides where TESTING packages may go: only a server admin moves it.
      if (b.tier !== undefined && b.tier !== env.tier) access.requireServerAdmin('changing the tier of an environment');
      let hosts: string[] | undefined;
      if (b.hosts) {
        hosts = [...new Set(b.hosts.map((h) => h.toLowerCase()))];
        const others = (await engine.listEnvironments()).filter((e) => e.id !== env.id);
        const taken = hosts.find((h) => others.some((o) => o.hosts.includes(h)));
        if (taken) throw new ConflictError('HOST_TAKEN', `host ${taken} already selects another environment`);
      }
      const parameters = b.parameters || b.mergeParameters ? { ...(b.parameters ?? env.parameters), ...(b.mergeParameters ?? {}) } : undefined;
      return engine.updateEnvironment(
        env.id,
        { name: b.name, tier: b.tier, hosts, parameters, targetOwned: b.targetOwned, trustedSigningKeys: b.trustedSigningKeys },
        access.actor,
      );
    },
  );

  app.delete<{ Params: { envId: string } }>(
    '/environments/:envId',
    {
      schema: {
        tags: ['environments'],
        summary: 'Delete an environment that holds no objects (server admin)',
        params: envParams,
        response: { 204: { type: 'null' }, ...errors, ...conflict, ...locked },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      await access.env(request.params.envId);
      access.requireServerAdmin('deleting environments');
      await engine.deleteEnvironment(request.params.envId, access.actor);
      await auth.users.deleteRolesOn(request.params.envId);
      auth.invalidate();
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { envId: string } }>(
    '/environments/:envId/history',
    {
      schema: {
        tags: ['environments'],
        summary: 'Installations into this environment, newest first',
        params: envParams,
        response: { 200: listOf(installationSchema), ...errors },
      },
    },
    async (request) => {
      const env = await app.ferry.access(request).env(request.params.envId);
      const items = await engine.history(env.id);
      return { items, total: items.length };
    },
  );
};
