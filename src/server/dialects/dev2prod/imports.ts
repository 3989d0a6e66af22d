/**
 * 001 `/import` (POST, `?dryRun=true` to simulate: import a bundle of the
 * file repository into this tenant, as an operation) and `/import/{id}`
 * (GET: its status, with what it did per package part).
 */
import type { FastifyInstance } from 'fastify';
import { NotFoundError, ValidationError } from '../../../core/errors.js';
import { readImportableHeader } from '../../../engine/bundles.js';
import { withFileName } from '../../../engine/bundle-files.js';
import { importOutcome } from '../../../engine/import-outcome.js';
import { OP, type ImportParams } from '../../../ops/handlers.js';
import type { Operation } from '../../../ops/types.js';
import { submitImport } from '../../../ops/submit.js';
import type { DialectContext } from '../types.js';
import { FinishedCache } from './finished-cache.js';
import { documentErrors, idResponse, importStatusSchema, param, pathParams } from './schemas.js';
import { epochMs, importResults, startOf, type ImportStatus } from './shapes.js';

/** A status body without the parts that change while it is kept: `TimeToLive` and the locks. */
type KeptStatus = Omit<ImportStatus, 'TimeToLive' | 'StudioLocked' | 'SystemLocked'> & { fileExpiresAt: string | null | undefined };

export function importRoutes(app: FastifyInstance, ctx: DialectContext): void {
  const { engine, runner, operations, files } = ctx.ferry;
  const finished = new FinishedCache<KeptStatus>(operations, OP.import, 'import');

  app.post<{ Params: { tenant_id: string }; Querystring: { dryRun?: string }; Body: { FileId: string } }>(
    '/:tenant_id/dev2prod/import',
    {
      schema: {
        summary: 'Import a bundle of the file repository into this tenant (promoter on it); dryRun=true changes nothing and reports what the import would do',
        description:
          'Answers the import id at once; the import runs as an operation: poll GET .../dev2prod/import/{id}. A FileId that names no file you can see, a file that is not a Ferry bundle, or a bundle holding types this server does not know is a 400.',
        params: pathParams(),
        querystring: {
          type: 'object',
          properties: {
            // 001 writes `dryRun=true`; clients that print booleans their own way send True or TRUE: any case is read.
            dryRun: {
              type: 'string',
              pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$',
              default: 'false',
              description: 'true (any case) to simulate: find conflicts and errors without committing any change',
            },
          },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['FileId'],
          properties: {
            FileId: { type: 'string', minLength: 1, maxLength: 200, description: "A file of the repository: an export's FileId or an upload's Id" },
          },
        },
        response: { 200: idResponse, ...documentErrors },
      },
    },
    async (request) => {
      const env = await ctx.environment(request, 'promoter', 'importing');
      const access = ctx.ferry.access(request);
      const fileId = request.body.FileId;
      let file;
      try {
        file = access.file(await files.get(fileId), fileId);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        // 001's 400 "Invalid Request": the body names a file that is not there (or not the caller's to read).
        throw new ValidationError(`body.FileId ${fileId} names no file of the repository (unknown, expired, or not visible to you)`);
      }
      // Answered now rather than by a failed operation: not a bundle, or not one this catalog can hold.
      await files.withLocalFile(file.id, (path) => withFileName(path, file.name, () => readImportableHeader(engine, path)));
      const dryRun = request.query.dryRun?.toLowerCase() === 'true';
      const params: ImportParams = { fileId: file.id, targetEnvId: env.id, dryRun, overrides: [], force: false };
      const op = await submitImport(runner, params, file.name, access.requester);
      return { Id: op.id };
    },
  );

  app.get<{ Params: { tenant_id: string; id: string } }>(
    '/:tenant_id/dev2prod/import/:id',
    {
      schema: {
        summary: 'The status of an import or a dry run: what it did (would do) per package part, errors, warnings, totals',
        params: pathParams({ id: param('The import id') }),
        response: { 200: importStatusSchema, ...documentErrors },
      },
    },
    (request, reply) =>
      // Polled hard: the answer as built at most 250 ms ago with nothing written since (recent-answers.ts), from the
      // tenant (and its lock, SystemLocked) as read at most 250 ms ago; TimeToLive is as old as the answer.
      ctx.ferry.answers.send(request, reply, async () => {
        const env = await ctx.recentEnvironment(request);
        const { fileExpiresAt, ...body } = await finished.status(request.params.id, env.id, statusOf);
        const locked = env.lockedBy !== null;
        const status: ImportStatus = { TimeToLive: timeToLive(fileExpiresAt), StudioLocked: locked, SystemLocked: locked, ...body };
        return JSON.stringify(status);
      }),
  );

  async function statusOf(op: Operation): Promise<KeptStatus> {
    const p = op.params as unknown as ImportParams;
    const outcome = await importOutcome(engine, op);
    const { Results, Totals } = importResults(engine.catalog, outcome.parts);
    // A run refused before it had a plan names no part: every part says why.
    if (outcome.refusal && outcome.parts.size === 0) for (const r of Results) r.Errors = [outcome.refusal];
    return {
      fileExpiresAt: (await files.get(p.fileId))?.expiresAt,
      id: op.id,
      FileId: p.fileId,
      Status: outcome.status,
      DryRun: p.dryRun,
      PackageManagerId: outcome.packageId,
      StartTime: epochMs(startOf(op)),
      LastUpdateTime: epochMs(op.updatedAt),
      ProcessingServerName: op.server,
      Results,
      Totals,
      OperationType: 'Import',
      Progress: op.progress,
    };
  }
}

/** Milliseconds the file has left: 0 once it is gone, -1 when the repository keeps it for good (FERRY_FILE_RETENTION=0). */
function timeToLive(expiresAt: string | null | undefined): number {
  if (expiresAt === undefined) return 0;
  if (expiresAt === null) return -1;
  return Math.max(0, Date.parse(expiresAt) - Date.now());
}
