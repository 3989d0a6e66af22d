import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FerryError, ValidationError } from '../../../core/errors.js';
import type { Environment } from '../../../core/types.js';
import { roleOn, type Role } from '../../../engine/auth.js';
import { projectProperties } from '../../../engine/duplication.js';
import type { DialectContext } from '../types.js';
import { projectObjectShape, projectShape } from './shapes.js';

/** 004's 404 for a project: one the caller cannot see reads exactly like one that does not exist. */
const projectNotFound = (id: string) => new FerryError('PROJECT_NOT_FOUND', 404, `project ${id} not found`);

/** Environments the caller can see, in name order. */
async function visibleProjects(ctx: DialectContext, request: FastifyRequest): Promise<Environment[]> {
  const p = request.principal!;
  const all = await ctx.ferry.engine.listEnvironments();
  return all.filter((e) => roleOn(p, e.id) !== null).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A project by its id (its environment's uid, any case) or, where `byName`,
 * its name; visible to the caller and with at least `need` there (403
 * otherwise, naming the role).
 */
export async function findProject(
  ctx: DialectContext,
  request: FastifyRequest,
  idOrName: string,
  need: Role = 'viewer',
  what = 'this',
  byName = false,
): Promise<Environment> {
  const wanted = idOrName.trim().toLowerCase();
  const env = (await visibleProjects(ctx, request)).find((e) => e.uid.toLowerCase() === wanted || (byName && e.name.trim().toLowerCase() === wanted));
  if (!env) throw projectNotFound(idOrName);
  return ctx.ferry.access(request).env(env.id, need, what);
}

/** Projects: the environments of this server, as 004 and the SDK's Project class see them. */
export function projectRoutes(app: FastifyInstance, ctx: DialectContext): void {
  const { engine } = ctx.ferry;
  const shaped = async (envs: Environment[]) => Promise.all(envs.map(async (e) => projectShape(e, await projectProperties(engine, e))));

  app.get('/api/projects', { schema: { summary: 'The projects you can see (a JSON array)' } }, async (request) => shaped(await visibleProjects(ctx, request)));

  app.get<{ Params: { project: string } }>('/api/projects/:project', { schema: { summary: 'One project, by id or name' } }, async (request) => {
    const env = await findProject(ctx, request, request.params.project, 'viewer', 'this', true);
    return projectShape(env, await projectProperties(engine, env));
  });

  // The SDK looks projects up by name here (Project(connection, name=...)), paging with offset and limit.
  app.get<{ Querystring: { offset?: string; limit?: string } }>(
    '/api/monitors/projects',
    { schema: { summary: 'The projects you can see, paged: {projects}, total in X-MSTR-Total-Count' } },
    async (request, reply) => {
      const offset = Number(request.query.offset ?? 0);
      const limit = Number(request.query.limit ?? -1);
      if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('offset must be an integer >= 0');
      if (!Number.isInteger(limit) || (limit < 1 && limit !== -1)) throw new ValidationError('limit must be an integer >= 1, or -1 for all');
      const all = await visibleProjects(ctx, request);
      const page = all.slice(offset, limit === -1 ? undefined : offset + limit);
      return reply.header('X-MSTR-Total-Count', String(all.length)).send({ projects: await shaped(page) });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { type?: string } }>(
    '/api/objects/:id',
    { schema: { summary: 'A project as an object (type=32); X-MSTR-ProjectID may name it too' } },
    async (request) => {
      const type = request.query.type;
      if (type === undefined || type === '') throw new ValidationError('type is required (32 for a project)');
      if (type !== '32') throw new ValidationError(`type ${type} is not available here: this server answers projects (type 32) only`);
      const env = await findProject(ctx, request, request.params.id);
      return projectObjectShape(env, await projectProperties(engine, env));
    },
  );
}
