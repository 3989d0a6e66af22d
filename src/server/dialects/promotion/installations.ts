import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Environment } from '../../../core/types.js';
import { ConflictError, FerryError } from '../../../core/errors.js';
import { applyInstallEdits } from '../../../engine/install-edits.js';
import { ShuttingDownError } from '../../../ops/embedded-worker.js';
import { NoEnvironmentNamedError } from '../environment.js';
import type { DialectContext } from '../types.js';
import { installBody, overridesOf, prepareBody } from './bodies.js';
import { queueInstall, settled } from './operations.js';
import { Views, sendJson } from './views.js';

type P = { id: string };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

/**
 * How long an install call waits for the install to end before answering
 * `{}` anyway: most installs end well within it, so a client that reads the
 * installation details next sees the outcome; a longer one reads INSTALLING
 * until it ends.
 */
const INSTALL_WAIT_MS = 10_000;

/** The environment the request names (Host, X-Ferry-Environment, home), or null when it names none. */
async function namedEnvironment(ctx: DialectContext, request: FastifyRequest): Promise<Environment | null> {
  try {
    return await ctx.environment(request);
  } catch (e) {
    if (e instanceof NoEnvironmentNamedError) return null;
    throw e;
  }
}

/** 003's pre-run, install, and the installations of a package. */
export async function installationRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine } = ctx.ferry;

  app.post<{ Params: P; Body: { allowUpdate?: boolean; force?: boolean } | null | undefined }>(
    '/packages/:id/prepare-installation',
    {
      schema: {
        summary: 'The pre-run: the translation map of the package against the environment the request is made through',
        description:
          'CREATE when nothing matches, USEEXISTING with targetId when a record matches (it is not modified). `"allowUpdate": true` (Ferry): a matched record whose content differs is UPDATEd instead.',
        params: idParams,
        body: prepareBody,
      },
    },
    async (request, reply) => {
      const access = ctx.ferry.access(request);
      const pkg = await access.package(request.params.id);
      const target = await ctx.environment(request, 'promoter', 'preparing an installation');
      const b = request.body ?? {};
      const plan = await engine.prepare(pkg.id, target.id, { keepExisting: b.allowUpdate !== true, force: b.force === true }, access.actor);
      // Said at once rather than at install: a DRAFT package, or a TESTING one into production.
      const extra = plan.installBlocker ? { installBlocker: plan.installBlocker } : {};
      return sendJson(reply, await new Views(ctx, request).installationJson(plan.installation, 'pre-run', { extra, entries: plan.entries }));
    },
  );

  app.post<{ Params: P; Body: unknown }>(
    '/installations/:id/install',
    {
      schema: {
        summary: 'Install a pre-run: body {} or the edited translationMap (IGNORE, USEEXISTING with another targetId, CREATE, OVERWRITING)',
        description:
          'Refused (409) when the package status forbids the target, the package or the target changed since the pre-run (run it again), or the map has invalid records; 423 while another install runs there. Answers {} once the install has ended, or after 10 s.',
        params: idParams,
        body: installBody,
      },
    },
    async (request) => {
      const access = ctx.ferry.access(request);
      const inst = await access.installation(request.params.id, 'promoter', 'installing');
      // Before the edits are applied: a server that takes no install keeps the pre-run as it was.
      if (!ctx.ferry.runner.accepting) throw new ShuttingDownError();
      // 003 installs "into the target environment identified in the POST URL": one named otherwise is a mistake worth stopping.
      const named = await namedEnvironment(ctx, request);
      if (named && named.id !== inst.targetEnvId) {
        throw new ConflictError(
          'WRONG_ENVIRONMENT',
          `installation ${inst.id} was prepared for environment ${inst.targetEnvId}, but this request is made through environment ${named.id}; send it through ${inst.targetEnvId}, or run the pre-run through ${named.id}`,
        );
      }
      const overrides = overridesOf(request.body, await engine.getEntries(inst.id), engine.catalog);
      await applyInstallEdits(engine, inst.id, overrides, access.actor);
      const op = await queueInstall(ctx, access, inst);
      const end = await settled(ctx, op.id, INSTALL_WAIT_MS);
      if (end && end.status !== 'COMPLETED') {
        // An install that ran and failed is FAILED, with its reasons in the details; one refused before it wrote anything is still a pre-run.
        const now = await engine.getInstallation(inst.id);
        if (now.status === 'PREPARED') {
          const code = end.error?.code ?? 'INSTALL_REFUSED';
          throw new FerryError(code, code === 'ENVIRONMENT_LOCKED' ? 423 : 409, end.error?.message ?? `the install was ${end.status.toLowerCase()}`);
        }
      }
      return {};
    },
  );

  app.get<{ Querystring: { environmentPromotionPackageId: string } }>(
    '/installations',
    {
      schema: {
        summary: 'The installations of a package, into every environment you can see',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['environmentPromotionPackageId'],
          properties: { environmentPromotionPackageId: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (request, reply) => {
      const access = ctx.ferry.access(request);
      const pkg = await access.package(request.query.environmentPromotionPackageId);
      const list = await engine.listInstallations({ packageId: pkg.id, targetEnvIds: access.visibleEnvIds() });
      const views = new Views(ctx, request);
      const out: string[] = [];
      for (const inst of list) out.push(await views.installationJson(inst, 'record'));
      return sendJson(reply, `[${out.join(',')}]`);
    },
  );

  app.get<{ Params: P }>(
    '/installations/:id',
    { schema: { summary: 'An installation: its final translation map, each record with its installationStatus', params: idParams } },
    (request, reply) => {
      // Polled hard: the answer as built at most 250 ms ago with nothing written since (recent-answers.ts).
      return ctx.ferry.answers.send(request, reply, async () => {
        const inst = await ctx.ferry.access(request).installation(request.params.id);
        return new Views(ctx, request).installationJson(inst, 'record');
      });
    },
  );
}
