/**
 * 001 `/export/types/{package_id}` (POST: export a package to the file
 * repository, as an operation) and `/export/{id}` (GET: its status).
 */
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import type { Package } from '../../../core/types.js';
import { OP } from '../../../ops/handlers.js';
import type { Operation } from '../../../ops/types.js';
import { submitExport } from '../../../ops/submit.js';
import { assertAssembled } from '../../../engine/packages.js';
import type { DialectContext } from '../types.js';
import { documentErrors, exportStatusSchema, idResponse, param, pathParams } from './schemas.js';
import { exportStatus, type ExportStatus } from './shapes.js';
import { FinishedCache } from './finished-cache.js';

interface ExportResult {
  file?: { id: string };
  countsByType?: Record<string, number>;
}

export function exportRoutes(app: FastifyInstance, ctx: DialectContext): void {
  const { engine, runner, operations } = ctx.ferry;
  const finished = new FinishedCache<ExportStatus>(operations, OP.export, 'export');

  app.post<{ Params: { tenant_id: string; package_id: string } }>(
    '/:tenant_id/dev2prod/export/types/:package_id',
    {
      schema: {
        summary: 'Export a package of this tenant to the file repository (promoter on the tenant); answers the export id',
        description: 'The body is `{}`; nothing is read from it, and it may be left out. The export runs as an operation: poll GET .../dev2prod/export/{id}.',
        params: pathParams({ package_id: param('The id of the package (a Ferry package id)') }),
        response: { 200: idResponse, ...documentErrors },
      },
    },
    async (request) => {
      const env = await ctx.environment(request, 'promoter', 'exporting a package');
      const access = ctx.ferry.access(request);
      let pkg: Package;
      try {
        pkg = await engine.getPackage(request.params.package_id);
      } catch (e) {
        throw e instanceof NotFoundError ? new NotFoundError('package', request.params.package_id) : e;
      }
      // A package of another tenant reads like a missing one, whoever asks.
      if (pkg.sourceEnvId !== env.id) throw new NotFoundError('package', request.params.package_id);
      // As the native route (routes/bundles.ts), but a 400 "Invalid Request": 001 has no 409 for the native PACKAGE_NOT_ASSEMBLED.
      assertAssembled(pkg, 'there is nothing to export yet', (m) => new ValidationError(m));
      const op = await submitExport(runner, pkg, access.requester);
      return { Id: op.id };
    },
  );

  app.get<{ Params: { tenant_id: string; id: string } }>(
    '/:tenant_id/dev2prod/export/:id',
    {
      schema: {
        summary: 'The status of an export: its bundle name, file, counts per package part',
        params: pathParams({ id: param('The export id') }),
        response: { 200: exportStatusSchema, ...documentErrors },
      },
    },
    (request, reply) =>
      // Polled hard: the answer as built at most 250 ms ago with nothing written since (recent-answers.ts).
      ctx.ferry.answers.send(request, reply, async () => {
        const env = await ctx.environment(request);
        const status = await finished.status(request.params.id, env.id, async (op) =>
          exportStatus(op, env.id, engine.catalog, await countsOf(op), (op.result as ExportResult | null)?.file?.id ?? null),
        );
        return JSON.stringify(status);
      }),
  );

  /** The package's entities by type: as exported once done, as the package holds them until then. */
  async function countsOf(op: Operation): Promise<Record<string, number>> {
    const done = (op.result as ExportResult | null)?.countsByType;
    if (done) return done;
    try {
      return (await engine.getPackage(String(op.params.packageId))).countsByType;
    } catch (e) {
      // The package was deleted since: nothing to count.
      if (e instanceof NotFoundError) return {};
      throw e;
    }
  }
}
