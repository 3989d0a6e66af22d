import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Package } from '../../../core/types.js';
import { ConflictError, ValidationError } from '../../../core/errors.js';
import { abandonAssembly } from '../../../engine/preflight.js';
import { createEmptyPackage, editPackage, restartAssembly, type PackageEdit } from '../../../engine/package-edits.js';
import { ShuttingDownError } from '../../../ops/embedded-worker.js';
import type { Access } from '../../auth.js';
import type { DialectContext } from '../types.js';
import { checkMetadata, createBody, objectsOf, replaceBody, selectionOf, updateBody, type CreateBody, type EditBody } from './bodies.js';
import { environmentOfSource } from './environments.js';
import { queueAssembly } from './operations.js';
import { packageEntitiesOf } from './shapes.js';
import { Views, sendJson } from './views.js';

type P = { id: string };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

/**
 * Packages visible to the caller: assembled from an environment they can
 * see, or prepared or installed into one (as the native list). 003 lists
 * "all packages created from any of the customer's ... instances"; a
 * caller's environments are their customer.
 */
async function visiblePackages(ctx: DialectContext, access: Access): Promise<Package[]> {
  const { engine } = ctx.ferry;
  const visible = access.visibleEnvIds();
  if (!visible) return engine.listPackages();
  if (visible.length === 0) return [];
  const own = await engine.listPackages({ sourceEnvIds: visible });
  const have = new Set(own.map((p) => p.id));
  const installed = new Set((await engine.listInstallations({ targetEnvIds: visible })).map((i) => i.packageId));
  if ([...installed].every((id) => have.has(id))) return own;
  return [...own, ...(await engine.listPackages()).filter((p) => installed.has(p.id) && !have.has(p.id))];
}

/**
 * A `source` sent with PUT or PATCH must name the package's own source: a
 * package is assembled from one environment and its history (the ID map of
 * every target) is keyed by it, so it never moves to another.
 */
async function checkSameSource(ctx: DialectContext, request: FastifyRequest, pkg: Package, source: string | undefined): Promise<void> {
  if (source === undefined) return;
  const env = await environmentOfSource(ctx, request, source);
  if (env && env.id !== pkg.sourceEnvId) {
    throw new ValidationError(
      `body.source names environment ${env.id}, but package ${pkg.id} is assembled from environment ${pkg.sourceEnvId} and its source cannot change; create a new package to promote from ${env.id}`,
    );
  }
}

/** 003's packages: create (assembly in the background), list, read, definition, replace, update, delete. */
export async function packageRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine, runner } = ctx.ferry;

  app.post<{ Body: CreateBody | undefined }>(
    '/packages',
    {
      schema: {
        summary: 'Create a package: ASSEMBLING at once, then DRAFT once assembled (or ASSEMBLING_FAILED with the reason)',
        description:
          'The source is the environment `source` names by host, else the one the request is made through. Without objectCollections the package is empty and DRAFT.',
        body: createBody,
      },
    },
    async (request) => {
      const b = request.body ?? {};
      const name = b.name ?? b.packageName;
      if (!name?.trim()) throw new ValidationError('body.name is required');
      const selection = selectionOf(b.objectCollections ?? [], engine.catalog);
      const access = ctx.ferry.access(request);
      const named = b.source !== undefined ? await environmentOfSource(ctx, request, b.source) : null;
      const what = 'creating a package';
      const source = named ? await access.env(named.id, 'promoter', what) : await ctx.environment(request, 'promoter', what);
      const input = { sourceEnvId: source.id, name, description: b.description ?? '' };
      const views = new Views(ctx, request);
      if (selection.length === 0) return { data: await views.package(await createEmptyPackage(engine, input, access.actor)) };
      if (!runner.accepting) throw new ShuttingDownError();
      const pkg = await engine.startPackage({ ...input, selection }, access.actor);
      try {
        await queueAssembly(ctx, access, pkg, selection);
      } catch (e) {
        await abandonAssembly(engine, pkg.id, 'the server could not queue the assembly', access.actor);
        throw e;
      }
      return { data: await views.package(pkg) };
    },
  );

  app.get('/packages', { schema: { summary: 'The packages you can see, from every environment' } }, async (request) => {
    const list = await visiblePackages(ctx, ctx.ferry.access(request));
    return { data: await new Views(ctx, request).packages(list) };
  });

  app.get<{ Params: P }>(
    '/packages/:id',
    { schema: { summary: 'A package with its displayEntities, through any environment', params: idParams } },
    (request, reply) => {
      // Polled hard: the answer as built at most 250 ms ago with nothing written since (recent-answers.ts).
      return ctx.ferry.answers.send(request, reply, async () => {
        const pkg = await ctx.ferry.access(request).package(request.params.id);
        return new Views(ctx, request).packageJson(pkg);
      });
    },
  );

  app.get<{ Params: P }>(
    '/packages/:id/definition',
    { schema: { summary: "The package's configuration definition: packageEntities by objCode", params: idParams } },
    async (request) => {
      const pkg = await ctx.ferry.access(request).package(request.params.id);
      return { packageEntities: packageEntitiesOf(await engine.getPackageEntities(pkg.id)) };
    },
  );

  app.put<{ Params: P; Body: EditBody }>(
    '/packages/:id',
    {
      schema: {
        summary: 'Replace the package details and definition: every editable attribute is required',
        description: 'Editable: name, description, source (its own, as a URL), status, version, packageEntities; metadata is checked.',
        params: idParams,
        body: replaceBody,
      },
    },
    async (request, reply) => {
      if (request.body.name === undefined && request.body.packageName === undefined) throw new ValidationError('body.name is required');
      const { access, pkg } = await packageToEdit(ctx, request);
      const next = await editPackage(engine, pkg.id, editOf(request.body), access.actor);
      return sendJson(reply, await new Views(ctx, request).packageJson(next));
    },
  );

  app.patch<{ Params: P; Body: EditBody }>(
    '/packages/:id',
    {
      schema: {
        summary: 'Update the given attributes; objectCollections (with source) extracts the package again',
        description:
          'packageEntities replaces the definition; objectCollections starts a new extraction from `source` (required with it): the package is ASSEMBLING, then DRAFT.',
        params: idParams,
        body: updateBody,
      },
    },
    async (request, reply) => {
      const { access, pkg } = await packageToEdit(ctx, request);
      const b = request.body;
      if (!b.objectCollections) return sendJson(reply, await new Views(ctx, request).packageJson(await editPackage(engine, pkg.id, editOf(b), access.actor)));

      if (b.packageEntities) throw new ValidationError('send either packageEntities (the definition) or objectCollections (extract again), not both');
      if (b.source === undefined) throw new ValidationError('body.source is required with objectCollections: the package is extracted again from it');
      if (b.status !== undefined && b.status !== 'DRAFT') {
        throw new ValidationError(`body.status ${b.status} cannot be set with objectCollections: extraction ends in DRAFT; set the status once it has`);
      }
      const selection = selectionOf(b.objectCollections, engine.catalog);
      if (pkg.status === 'ASSEMBLING') throw new ConflictError('PACKAGE_ASSEMBLING', `package ${pkg.id} is still ASSEMBLING; wait for it to end`);
      if (!runner.accepting) throw new ShuttingDownError();
      const name = b.name ?? b.packageName;
      if (name !== undefined || b.description !== undefined) await editPackage(engine, pkg.id, { name, description: b.description }, access.actor);
      const next = await restartAssembly(engine, pkg.id, selection, access.actor);
      try {
        await queueAssembly(ctx, access, next, selection);
      } catch (e) {
        await abandonAssembly(engine, pkg.id, 'the server could not queue the assembly', access.actor);
        throw e;
      }
      return sendJson(reply, await new Views(ctx, request).packageJson(next));
    },
  );

  // 003's status table says "DELETE /package"; its endpoint is /packages/{id}. Both answer.
  for (const path of ['/packages/:id', '/package/:id']) {
    app.delete<{ Params: P }>(
      path,
      { schema: { summary: 'Delete a package (irreversible; DISABLED keeps it and its history)', params: idParams, hide: path === '/package/:id' } },
      async (request, reply) => {
        const access = ctx.ferry.access(request);
        const pkg = await access.package(request.params.id, 'promoter', 'deleting a package');
        await engine.deletePackage(pkg.id, access.actor);
        return reply.type('text/plain; charset=utf-8').send('Deleted');
      },
    );
  }
}

/** The package a PUT or PATCH changes (promoter on its source), once what both check before writing anything passed: the id, the source, the metadata. */
async function packageToEdit(ctx: DialectContext, request: FastifyRequest<{ Params: P; Body: EditBody }>): Promise<{ access: Access; pkg: Package }> {
  const access = ctx.ferry.access(request);
  const pkg = await access.package(request.params.id, 'promoter', 'changing a package');
  const b = request.body;
  if (b.id !== undefined && b.id !== pkg.id) throw new ValidationError(`body.id ${b.id} is not this package (${pkg.id})`);
  checkMetadata(b.metadata, ctx.ferry.engine.catalog);
  await checkSameSource(ctx, request, pkg, b.source);
  return { access, pkg };
}

/** The engine's edit of a PUT or PATCH body. */
function editOf(b: EditBody): PackageEdit {
  return { name: b.name ?? b.packageName, description: b.description, status: b.status, entities: b.packageEntities && objectsOf(b.packageEntities) };
}
