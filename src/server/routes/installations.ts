import type { FastifyPluginAsync } from 'fastify';
import type { EntryStatus, InstallationStatus } from '../../core/types.js';
import type { Override } from '../../core/plan.js';
import { checkInstallable } from '../../engine/preflight.js';
import { submitInstall } from '../../ops/submit.js';
import { jsonWithArray } from '../json-stream.js';
import {
  accepted,
  conflict,
  errors,
  idParam,
  installationSchema,
  listOf,
  locked,
  overrideSchema,
  pagingQuery,
  planEntrySchema,
  planSchema,
} from '../schemas.js';

type P = { installationId: string };
const instParams = idParam('installationId', 'Installation (plan) id');

/** Installations: the prepared plan, overrides and re-validation, install (an operation), status, rollback. */
export const installationRoutes: FastifyPluginAsync = async (app) => {
  const { engine, runner } = app.ferry;

  app.get<{ Querystring: { packageId?: string; environmentId?: string; status?: InstallationStatus; limit: number; offset: number } }>(
    '/installations',
    {
      schema: {
        tags: ['installations'],
        summary: 'Installations into environments you can see, newest first; filter by package or target environment',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            packageId: { type: 'string' },
            environmentId: { type: 'string', description: 'Target environment' },
            status: { type: 'string', enum: ['PREPARED', 'INSTALLING', 'COMPLETED', 'FAILED', 'ROLLED_BACK'] },
            ...pagingQuery,
          },
        },
        response: { 200: listOf(installationSchema), 401: errors[401] },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const { packageId, environmentId, status, limit, offset } = request.query;
      let targets = access.visibleEnvIds();
      if (environmentId) targets = !targets || targets.includes(environmentId) ? [environmentId] : [];
      if (targets && targets.length === 0) return { items: [], total: 0 };
      const all = (await engine.listInstallations({ packageId, targetEnvIds: targets })).filter((i) => !status || i.status === status).reverse();
      return { items: all.slice(offset, offset + limit), total: all.length };
    },
  );

  app.get<{ Params: P; Querystring: { entries: boolean } }>(
    '/installations/:installationId',
    {
      schema: {
        tags: ['installations'],
        summary: 'One installation with its per-object entries (action, validity, target id, installation status)',
        params: instParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { entries: { type: 'boolean', default: true, description: 'false: leave the entries out' } },
        },
        response: { 200: { type: 'object', properties: { installation: installationSchema, entries: { type: 'array', items: planEntrySchema } } }, ...errors },
      },
    },
    async (request) => {
      const inst = await app.ferry.access(request).installation(request.params.installationId);
      return { installation: inst, ...(request.query.entries ? { entries: await engine.getEntries(inst.id) } : {}) };
    },
  );

  app.get<{ Params: P; Querystring: { type?: string; installationStatus?: EntryStatus; invalid?: boolean; limit: number; offset: number } }>(
    '/installations/:installationId/entries',
    {
      schema: {
        tags: ['installations'],
        summary: 'The entries of an installation, paged and filtered',
        params: instParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string' },
            installationStatus: { type: 'string', enum: ['PENDING', 'INSTALLED', 'UPDATED', 'REGISTERED', 'SKIPPED', 'REMOVED', 'FAILED'] },
            invalid: { type: 'boolean', description: 'true: only invalid entries' },
            ...pagingQuery,
          },
        },
        response: { 200: listOf(planEntrySchema), ...errors },
      },
    },
    async (request) => {
      const inst = await app.ferry.access(request).installation(request.params.installationId);
      const q = request.query;
      const all = (await engine.getEntries(inst.id)).filter(
        (e) =>
          (!q.type || e.type === q.type.toUpperCase()) &&
          (!q.installationStatus || e.installationStatus === q.installationStatus) &&
          (q.invalid === undefined || e.isValid === !q.invalid),
      );
      return { items: all.slice(q.offset, q.offset + q.limit), total: all.length };
    },
  );

  app.post<{ Params: P; Body: { overrides: Override[]; remember?: boolean } }>(
    '/installations/:installationId/revalidate',
    {
      schema: {
        tags: ['installations'],
        summary: 'Override actions of a prepared plan (IGNORE this, use that existing object) and validate it again (promoter on the target)',
        params: instParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['overrides'],
          properties: { overrides: { type: 'array', items: overrideSchema }, remember: { type: 'boolean', default: false } },
        },
        response: { 200: planSchema, ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const inst = await access.installation(request.params.installationId, 'promoter', 'changing a plan');
      const plan = await engine.revalidate(inst.id, request.body.overrides, { remember: request.body.remember }, access.actor);
      return reply
        .type('application/json; charset=utf-8')
        .send(jsonWithArray({ installation: plan.installation, installBlocker: plan.installBlocker }, 'entries', plan.entries));
    },
  );

  app.get<{ Params: P }>(
    '/installations/:installationId/steps',
    {
      schema: {
        tags: ['installations'],
        summary: 'The exact steps an install of this plan would run, computed from the target as it is now (nothing written)',
        params: instParams,
        response: {
          200: { type: 'object', properties: { steps: { type: 'array', items: { type: 'object', additionalProperties: true } } } },
          ...errors,
          ...conflict,
        },
      },
    },
    async (request) => {
      const inst = await app.ferry.access(request).installation(request.params.installationId);
      return { steps: await engine.installSteps(inst.id) };
    },
  );

  app.post<{ Params: P }>(
    '/installations/:installationId/install',
    {
      schema: {
        tags: ['installations'],
        summary: 'Install a prepared plan, atomically (promoter on the target, also for production); an operation',
        description:
          'Refused at once (409) when the plan has invalid entries, the package status forbids the target tier, or the package or target changed since prepare; 423 while another install runs there. Cancelling the operation rolls the whole install back.',
        params: instParams,
        response: { 202: accepted('the install', { installation: installationSchema }), ...errors, ...conflict, ...locked },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const inst = await access.installation(request.params.installationId, 'promoter', 'installing');
      await checkInstallable(engine, inst.id);
      const operation = await submitInstall(runner, inst, access.requester);
      return reply.status(202).send({ operation, installation: inst });
    },
  );

  app.post<{ Params: P }>(
    '/installations/:installationId/rollback',
    {
      schema: {
        tags: ['installations'],
        summary: 'Roll a completed installation back from its restore point (promoter on the target)',
        description: 'Refused (409) when objects it touched changed since, so later work is never thrown away.',
        params: instParams,
        response: { 200: installationSchema, ...errors, ...conflict, ...locked },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const inst = await access.installation(request.params.installationId, 'promoter', 'rolling back');
      return engine.rollback(inst.id, access.actor);
    },
  );
};
