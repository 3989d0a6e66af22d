import type { FastifyPluginAsync } from 'fastify';
import type { ObjectRef, Package, PackageStatus } from '../../core/types.js';
import type { Access } from '../auth.js';
import type { Override } from '../../core/plan.js';
import { ValidationError } from '../../core/errors.js';
import { pushRefusal } from '../../core/rules.js';
import { fromCollections } from '../../engine/engine.js';
import { abandonAssembly } from '../../engine/preflight.js';
import { ShuttingDownError } from '../../ops/embedded-worker.js';
import { submitAssembly } from '../../ops/submit.js';
import { jsonWithArray } from '../json-stream.js';
import {
  accepted,
  conflict,
  errorSchema,
  errors,
  idParam,
  listOf,
  objectCollectionsSchema,
  objectInputSchema,
  objectRefSchema,
  objectSchema,
  overrideSchema,
  packageSchema,
  packageStatusSchema,
  pagingQuery,
  planSchema,
} from '../schemas.js';

interface CreateBody {
  sourceEnvId: string;
  name: string;
  description?: string;
  objectCollections: { objCode: string; entities: { ID: string; name?: string }[] }[];
  removals?: ObjectRef[];
}
interface PlanBody {
  targetEnvId: string;
  overrides?: Override[];
  force?: boolean;
  remember?: boolean;
  policy?: 'default' | 'id+name';
}
type P = { packageId: string };
const pkgParams = idParam('packageId', 'Package id');

/** Packages: create (assembly runs as an operation), list, read, edit, status, delete, removals, entities, plans. */
export const packageRoutes: FastifyPluginAsync = async (app) => {
  const { engine, runner } = app.ferry;

  /** Queue the assembly of a package (create and re-assemble share it). */
  const queueAssembly = (pkg: Package, selection: ObjectRef[], access: Access, message?: string) =>
    submitAssembly(runner, pkg, selection, access.requester, message);

  app.post<{ Body: CreateBody }>(
    '/packages',
    {
      schema: {
        tags: ['packages'],
        summary: 'Create a package from a selection in a source environment (promoter there); assembly runs as an operation',
        description:
          'Answers 202 with the package (status ASSEMBLING) and the assembly operation. The package becomes DRAFT, or ASSEMBLING_FAILED with the reason.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['sourceEnvId', 'name', 'objectCollections'],
          properties: {
            sourceEnvId: { type: 'string', minLength: 1 },
            name: { type: 'string', minLength: 1, maxLength: 500 },
            description: { type: 'string', maxLength: 10000 },
            objectCollections: objectCollectionsSchema,
            removals: { type: 'array', items: objectRefSchema, description: 'Objects to delete in the target' },
          },
        },
        response: { 202: accepted('assembly', { package: packageSchema }), ...errors, 503: { ...errorSchema, description: 'The server is shutting down' } },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const b = request.body;
      await access.envIn('sourceEnvId', b.sourceEnvId, 'promoter', 'creating a package');
      if (!runner.accepting) throw new ShuttingDownError();
      const selection = fromCollections(b.objectCollections).map((s) => ({ ...s, type: s.type.toUpperCase() }));
      const removals = (b.removals ?? []).map((r) => ({ ...r, type: r.type.toUpperCase() }));
      const pkg = await engine.startPackage({ sourceEnvId: b.sourceEnvId, name: b.name, description: b.description, selection, removals }, access.actor);
      try {
        const operation = await queueAssembly(pkg, selection, access, `assembly of package ${pkg.name} queued`);
        return reply.status(202).send({ package: pkg, operation });
      } catch (e) {
        await abandonAssembly(engine, pkg.id, 'the server could not queue the assembly', access.actor);
        throw e;
      }
    },
  );

  app.get<{ Querystring: { sourceEnvId?: string; status?: PackageStatus } }>(
    '/packages',
    {
      schema: {
        tags: ['packages'],
        summary: 'Packages you can see: from environments you can see, or installed into one',
        querystring: { type: 'object', additionalProperties: false, properties: { sourceEnvId: { type: 'string' }, status: packageStatusSchema } },
        response: { 200: listOf(packageSchema), 401: errors[401] },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const visible = access.visibleEnvIds();
      if (visible && visible.length === 0) return { items: [], total: 0 };
      let items = await engine.listPackages(visible ? { sourceEnvIds: visible } : {});
      if (visible) {
        const installed = new Set((await engine.listInstallations({ targetEnvIds: visible })).map((i) => i.packageId));
        const have = new Set(items.map((p) => p.id));
        const extra = (await engine.listPackages()).filter((p) => installed.has(p.id) && !have.has(p.id));
        items = [...items, ...extra];
      }
      const { sourceEnvId, status } = request.query;
      items = items.filter((p) => (!sourceEnvId || p.sourceEnvId === sourceEnvId) && (!status || p.status === status));
      return { items, total: items.length };
    },
  );

  app.get<{ Params: P }>(
    '/packages/:packageId',
    { schema: { tags: ['packages'], summary: 'One package', params: pkgParams, response: { 200: packageSchema, ...errors } } },
    async (request) => app.ferry.access(request).package(request.params.packageId),
  );

  app.patch<{ Params: P; Body: { name?: string; description?: string; status?: PackageStatus } }>(
    '/packages/:packageId',
    {
      schema: {
        tags: ['packages'],
        summary: 'Edit name and description, or set the status (promoter on the source)',
        description:
          'Statuses: DRAFT and DISABLED install nowhere, TESTING everywhere but production, ACTIVE anywhere (sets publishedAt); DISABLED sets retiredAt.',
        params: pkgParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 500 },
            description: { type: 'string', maxLength: 10000 },
            status: packageStatusSchema,
          },
        },
        response: { 200: packageSchema, ...errors, ...conflict },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      let pkg = await access.package(request.params.packageId, 'promoter', 'changing a package');
      const { name, description, status } = request.body;
      if (name !== undefined || description !== undefined) pkg = await engine.updatePackageDetails(pkg.id, { name, description }, access.actor);
      if (status !== undefined) pkg = await engine.setPackageStatus(pkg.id, status, access.actor);
      return pkg;
    },
  );

  app.delete<{ Params: P }>(
    '/packages/:packageId',
    {
      schema: {
        tags: ['packages'],
        summary:
          'Delete a package (promoter on the source); its PREPARED installations go with it, installed ones stay on record; 409 while one of its installs runs. DISABLED keeps history and is usually better',
        params: pkgParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const pkg = await access.package(request.params.packageId, 'promoter', 'deleting a package');
      await engine.deletePackage(pkg.id, access.actor);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: P }>(
    '/packages/:packageId/definition',
    {
      schema: {
        tags: ['packages'],
        summary: 'The configuration definition: packageEntities by type, selection, removals, metadata',
        params: pkgParams,
        response: {
          200: {
            type: 'object',
            properties: {
              packageEntities: { type: 'object', additionalProperties: { type: 'array', items: objectSchema } },
              objectCollections: objectCollectionsSchema,
              removals: { type: 'array', items: objectRefSchema },
              metadata: { type: 'object', additionalProperties: true },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const pkg = await app.ferry.access(request).package(request.params.packageId);
      const byType: Record<string, unknown[]> = {};
      for await (const e of engine.iteratePackageEntities(pkg.id))
        (byType[e.type] ??= []).push({ type: e.type, id: e.id, name: e.name, fields: e.fields, via: e.via });
      return { packageEntities: byType, objectCollections: pkg.objectCollections, removals: pkg.removals, metadata: pkg.metadata };
    },
  );

  app.get<{ Params: P; Querystring: { type?: string; limit: number; offset: number } }>(
    '/packages/:packageId/entities',
    {
      schema: {
        tags: ['packages'],
        summary: 'Entities in install order, with why each is included (via)',
        params: pkgParams,
        querystring: { type: 'object', additionalProperties: false, properties: { type: { type: 'string' }, ...pagingQuery } },
        response: {
          200: listOf({ ...objectSchema, properties: { ...objectSchema.properties, ord: { type: 'integer' }, via: { type: ['object', 'null'] } } }),
          ...errors,
        },
      },
    },
    async (request) => {
      const pkg = await app.ferry.access(request).package(request.params.packageId);
      const all = await engine.getPackageEntities(pkg.id, { type: request.query.type?.toUpperCase() });
      const { limit, offset } = request.query;
      return { items: all.slice(offset, offset + limit), total: all.length };
    },
  );

  app.put<{ Params: P; Body: unknown[] }>(
    '/packages/:packageId/entities',
    {
      schema: {
        tags: ['packages'],
        summary: 'Replace the entities by hand (promoter on the source); bumps the version',
        params: pkgParams,
        body: { type: 'array', items: objectInputSchema },
        response: { 200: packageSchema, ...errors, ...conflict },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const pkg = await access.package(request.params.packageId, 'promoter', 'changing a package');
      return engine.replacePackageEntities(pkg.id, request.body, access.actor);
    },
  );

  app.get<{ Params: P & { type: string; entityId: string } }>(
    '/packages/:packageId/entities/:type/:entityId/explain',
    {
      schema: {
        tags: ['packages'],
        summary: 'Why an entity is in the package: the path of refs from a selected object',
        params: {
          type: 'object',
          required: ['packageId', 'type', 'entityId'],
          properties: { packageId: { type: 'string' }, type: { type: 'string' }, entityId: { type: 'string' } },
        },
        response: { 200: { type: 'object', properties: { path: { type: 'array', items: { type: 'string' } } } }, ...errors },
      },
    },
    async (request) => {
      const pkg = await app.ferry.access(request).package(request.params.packageId);
      return { path: await engine.explain(pkg.id, request.params.type.toUpperCase(), request.params.entityId) };
    },
  );

  app.put<{ Params: P; Body: { removals: ObjectRef[] } }>(
    '/packages/:packageId/removals',
    {
      schema: {
        tags: ['packages'],
        summary: 'Replace the removals: objects the install deletes in the target (promoter on the source); bumps the version',
        params: pkgParams,
        body: { type: 'object', additionalProperties: false, required: ['removals'], properties: { removals: { type: 'array', items: objectRefSchema } } },
        response: { 200: packageSchema, ...errors },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const pkg = await access.package(request.params.packageId, 'promoter', 'changing a package');
      return engine.setRemovals(
        pkg.id,
        request.body.removals.map((r) => ({ ...r, type: r.type.toUpperCase() })),
        access.actor,
      );
    },
  );

  app.post<{ Params: P }>(
    '/packages/:packageId/assemble',
    {
      schema: {
        tags: ['packages'],
        summary: 'Assemble again from the source as it is now (promoter on the source); an operation, bumps the version',
        params: pkgParams,
        response: { 202: accepted('assembly'), ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const pkg = await access.package(request.params.packageId, 'promoter', 'assembling a package');
      const selection = fromCollections(pkg.objectCollections);
      if (selection.length === 0) throw new ValidationError(`package ${pkg.id} has no selection to assemble`);
      const operation = await queueAssembly(pkg, selection, access);
      await engine.store.audit.append({
        actor: access.principal.username,
        address: access.address,
        action: 'package.assemble',
        envId: pkg.sourceEnvId,
        subject: pkg.id,
        result: 'queued',
        detail: { operationId: operation.id },
      });
      return reply.status(202).send({ operation });
    },
  );

  app.post<{ Params: P; Body: PlanBody }>(
    '/packages/:packageId/plans',
    {
      schema: {
        tags: ['installations'],
        summary: 'Prepare the package against a target (dry run; promoter on the target): the plan, stored as a PREPARED installation',
        description:
          'For every entity: the target object (same id, ID map, natural key) and the action (CREATE, UPDATE, USEEXISTING, MERGE; IGNORE by override), validity with a reason, drift. Install it with POST /api/v1/installations/{id}/install.',
        params: pkgParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['targetEnvId'],
          properties: {
            targetEnvId: { type: 'string', minLength: 1 },
            overrides: { type: 'array', items: overrideSchema },
            force: { type: 'boolean', default: false, description: 'Allow promotion to a lower tier (one-way push)' },
            remember: { type: 'boolean', default: false, description: 'Remember IGNORE and chosen targets for later plans into this target' },
            policy: {
              type: 'string',
              enum: ['default', 'id+name'],
              default: 'default',
              description: 'id+name: match only when id and name agree (the sync rule)',
            },
          },
        },
        response: { 201: planSchema, ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const pkg = await access.package(request.params.packageId);
      const b = request.body;
      const target = await access.envIn('targetEnvId', b.targetEnvId, 'promoter', 'preparing an installation');
      // One-way push (002): only an admin of the target may force a package down to a lower tier.
      if (b.force && pushRefusal(pkg.sourceTier, target.tier, false)) await access.env(target.id, 'admin', 'forcing a push to a lower tier');
      const plan = await engine.prepare(
        pkg.id,
        b.targetEnvId,
        { overrides: b.overrides, force: b.force, remember: b.remember, policy: b.policy },
        access.actor,
      );
      return reply
        .status(201)
        .type('application/json; charset=utf-8')
        .send(jsonWithArray({ installation: plan.installation, installBlocker: plan.installBlocker }, 'entries', plan.entries));
    },
  );
};
