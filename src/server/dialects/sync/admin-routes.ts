import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import { toPackObject, typesByPackArray } from '../../../core/sync-pack.js';
import { createOrClone } from '../../../engine/clone.js';
import { credentialOf } from '../../auth.js';
import type { DialectContext } from '../types.js';
import { MANAGE_ROOTS } from './roots.js';

const str = { type: 'string' } as const;

/** A body member by name, whatever its casing (`UserName` in the C# sample, `username` in the Postman collection). */
function member(body: unknown, name: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const want = name.toLowerCase();
  const k = Object.keys(body).find((key) => key.toLowerCase() === want);
  return k === undefined ? undefined : (body as Record<string, unknown>)[k];
}

/**
 * The Admin API around sync: forms login and logoff, projects (list and
 * one), and, Ferry's own, a clone of this Manage root's environment and the
 * status of the operation a big clone runs as.
 */
export async function adminRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine, auth } = ctx.ferry;
  /** The catalog type that travels in the pack's `projects` (PROJ by default, PROJECT in catalogs/smartiq.json). */
  const projectType = typesByPackArray(engine.catalog).get('projects')?.code;

  for (const root of MANAGE_ROOTS) {
    app.post(
      `${root}/login/forms`,
      {
        config: { public: true },
        schema: {
          summary: 'Forms login: {"UserName","Password"} or {"username","password"} -> {"authorizationToken"}, sent back as Authorization: Bearer',
          security: [],
          response: { 200: { type: 'object', properties: { authorizationToken: str } } },
        },
      },
      async (request) => {
        const username = member(request.body, 'username');
        const password = member(request.body, 'password');
        if (typeof username !== 'string' || !username || typeof password !== 'string') {
          throw new ValidationError('login/forms needs a JSON body {"UserName": "...", "Password": "..."} (or "username"/"password")');
        }
        const session = await auth.login(username, password, request.ip ?? null);
        return { authorizationToken: session.token };
      },
    );

    app.post(
      `${root}/logoff`,
      {
        // The Postman collection's logoff carries no Authorization header: with
        // nothing to expire the answer is the same, and it says nothing about anyone.
        config: { public: true },
        schema: { summary: 'Expire the session token this request carries as Bearer, if any (an API key stays valid); always 204', security: [] },
      },
      async (request, reply) => {
        let cred: ReturnType<typeof credentialOf> = null;
        try {
          cred = credentialOf(request.headers, ['bearer']);
        } catch {
          // A malformed Authorization header expires nothing either.
        }
        const principal = cred ? await auth.authenticateSession(cred.value) : null;
        if (cred && principal) await auth.logout(cred.value, { actor: principal.username, address: request.ip ?? null });
        return reply.status(204).send();
      },
    );

    app.get<{ Querystring: { $skip?: number; $top?: number } }>(
      `${root}/projects`,
      {
        schema: {
          summary: "The environment's projects, as a JSON list of flat objects; $skip and $top page it (a Link header names the next page)",
          querystring: {
            type: 'object',
            properties: { $skip: { type: 'integer', minimum: 0 }, $top: { type: 'integer', minimum: 1, maximum: 10000 } },
          },
        },
      },
      async (request, reply) => {
        const env = await ctx.environment(request);
        if (!projectType) return [];
        const skip = request.query.$skip ?? 0;
        const top = request.query.$top;
        const items: Record<string, unknown>[] = [];
        let total = 0;
        for (let offset = skip; top === undefined || items.length < top;) {
          const limit = Math.min(10_000, top === undefined ? 10_000 : top - items.length);
          const page = await engine.listObjects(env.id, { type: projectType, limit, offset });
          total = page.total;
          for (const o of page.items) items.push(toPackObject(o));
          offset += page.items.length;
          if (page.items.length < limit) break;
        }
        if (top !== undefined && skip + items.length < total) reply.header('link', `<${nextLink(request, skip + items.length, top)}>; rel="next"`);
        return items;
      },
    );

    app.get<{ Params: { id: string } }>(`${root}/projects/:id`, { schema: { summary: "One project's details, flat as in a sync pack" } }, async (request) => {
      const env = await ctx.environment(request);
      if (!projectType) throw new NotFoundError('project', request.params.id);
      try {
        return toPackObject(await engine.getObject(env.id, projectType, request.params.id));
      } catch (e) {
        // Named as this API names it, not by the catalog type.
        if (e instanceof NotFoundError) throw new NotFoundError('project', request.params.id);
        throw e;
      }
    });

    app.post<{ Body: { id: string; name: string; tier: string; hosts?: string[] } }>(
      `${root}/clone`,
      {
        schema: {
          summary: "Ferry: create an environment as a clone of this one, same ids ('start from a clone'); server admin",
          description: 'A big environment (or `Prefer: respond-async`) is cloned by an operation: 202, poll operations/{id}.',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'name', 'tier'],
            properties: {
              id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
              name: { type: 'string', minLength: 1, maxLength: 200 },
              tier: { type: 'string', enum: ['development', 'testing', 'preview', 'production'] },
              hosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 253 } },
            },
          },
        },
      },
      async (request, reply) => {
        const source = await ctx.environment(request);
        const access = ctx.ferry.access(request);
        access.requireServerAdmin('creating environments');
        const preferAsync = /\brespond-async\b/i.test(String(request.headers.prefer ?? ''));
        const r = await createOrClone(
          engine,
          (op) => ctx.ferry.runner.submit(op),
          { ...request.body, cloneFrom: source.id },
          { preferAsync, actor: access.actor },
        );
        if (r.operation) return reply.status(202).send({ operation: r.operation });
        return reply.status(201).send(r.environment);
      },
    );

    app.get<{ Params: { id: string } }>(
      `${root}/operations/:id`,
      { schema: { summary: 'Ferry: an operation (a big clone): status, progress 0-100, result' } },
      async (request) => {
        const access = ctx.ferry.access(request);
        return access.operation(await ctx.ferry.operations.get(request.params.id), request.params.id);
      },
    );
  }
}

function nextLink(request: FastifyRequest, skip: number, top: number): string {
  const url = new URL(request.url, 'http://x');
  url.searchParams.set('$skip', String(skip));
  url.searchParams.set('$top', String(top));
  return `${url.pathname}${url.search}`;
}
