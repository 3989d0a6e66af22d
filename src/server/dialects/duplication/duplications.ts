import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError, NotFoundError, ValidationError } from '../../../core/errors.js';
import { parseDuplicationRequest, parseRestorationMetadata, parseTargetRequest } from '../../../core/duplication-settings.js';
import { ForbiddenError } from '../../../engine/auth.js';
import {
  canManage,
  cancelDuplication,
  deleteDuplication,
  FINAL,
  findDuplication,
  getVisibleDuplication,
  HEX32,
  listDuplications,
  sameServer,
  startRestoration,
  startSourceDuplication,
  startTargetDuplication,
  type DuplicationDeps,
  type DuplicationRecord,
} from '../../../engine/duplication.js';
import { readProjectPackageHeader } from '../../../engine/duplication-package.js';
import { RESTORATION_UPLOAD } from '../../../engine/duplication-work.js';
import { normalizeServerUrl, SourceServer } from '../../../engine/duplication-remote.js';
import { fieldText, multipartReadError, withMultipart } from '../../multipart.js';
import { findUnacceptable } from '../../validation.js';
import type { DialectContext } from '../types.js';
import { findProject } from './projects.js';
import { creatorOf, recordShape } from './shapes.js';
import { compatibility, validateCompatibility } from './versions.js';

/** The restoration's metadata field (a small JSON document): larger is refused with a 413. */
const METADATA_LIMIT = 1024 * 1024;

/** Without `Prefer: respond-async` a start answers once the duplication has settled, or after this long. */
const SYNC_WAIT_MS = 10 * 60_000;

/** The answer to a start: 201 with the record, at once when the client prefers it asynchronous (both the document and the SDK do). */
async function created(ctx: DialectContext, request: FastifyRequest, reply: FastifyReply, r: DuplicationRecord): Promise<FastifyReply> {
  let record = r;
  if (/\brespond-async\b/i.test(String(request.headers.prefer ?? ''))) {
    reply.header('Preference-Applied', 'respond-async');
  } else {
    const until = Date.now() + SYNC_WAIT_MS;
    while (!FINAL.includes(record.status) && Date.now() < until && !request.socket.destroyed) {
      await sleep(200);
      record = (await findDuplication(ctx.ferry.engine, r.id)) ?? record;
    }
  }
  return reply.status(201).send(recordShape(record));
}

function pageOf(query: { offset?: string; limit?: string }): { offset: number; limit: number } {
  const offset = query.offset === undefined || query.offset === '' ? 0 : Number(query.offset);
  const limit = query.limit === undefined || query.limit === '' ? 100 : Number(query.limit);
  if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('offset must be an integer >= 0');
  if (!Number.isInteger(limit) || (limit < 1 && limit !== -1) || limit > 10_000)
    throw new ValidationError('limit must be an integer from 1 to 10000, or -1 for all');
  return { offset, limit: limit === -1 ? 10_000 : limit };
}

/** A record the caller may act on: 404 when it cannot see it, 403 when it sees it but lacks the admin role where it belongs. */
async function manageable(ctx: DialectContext, request: FastifyRequest, id: string, what: string): Promise<DuplicationRecord> {
  const p = request.principal!;
  const r = await getVisibleDuplication(ctx.ferry.engine, p, id);
  if (!canManage(p, r)) throw new ForbiddenError(`${what} needs the admin role on the project it concerns, or to have started it`);
  return r;
}

function isCancelBody(body: unknown): body is { status: unknown } {
  return !!body && typeof body === 'object' && 'status' in body && !('source' in body);
}

function cancelTo(body: { status: unknown }): void {
  if (typeof body.status !== 'string' || body.status.toLowerCase() !== 'cancelled') {
    throw new ValidationError(`status can only be set to "cancelled" (got ${JSON.stringify(body.status)})`);
  }
}

/** 004's project duplication routes (and the SDK's: /status for a cancel, versions and validations). */
export async function duplicationRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine, files, runner, config } = ctx.ferry;
  const deps: DuplicationDeps = { engine, files, runner };
  const actor = (request: FastifyRequest) => ({ actor: request.principal!.username, address: request.ip ?? null });
  const base = '/api/projectDuplications';

  app.post(base, { schema: { summary: 'Start a duplication on the source server (Prefer: respond-async -> 201 at once)' } }, async (request, reply) => {
    const body = parseDuplicationRequest(request.body);
    const sourceEnv = await findProject(ctx, request, body.source.project.id, 'admin', 'duplicating a project');
    const local = sameServer(body.source.environment.id, body.target.environment.id);
    if (local) ctx.ferry.access(request).requireServerAdmin('duplicating a project within this server (it creates a project)');
    else if (!normalizeServerUrl(body.source.environment.id)) {
      throw new ValidationError(
        `source.environment.id "${body.source.environment.id}" must be this server's base URL (http:// or https://): the target server pulls the package from there`,
      );
    }
    const r = await startSourceDuplication(deps, { request: body, sourceEnv, creator: creatorOf(request.principal!), actor: actor(request), local });
    return created(ctx, request, reply, r);
  });

  app.get<{ Querystring: { offset?: string; limit?: string } }>(
    base,
    { schema: { summary: 'Duplications you can see, newest first: {total, duplications, projectDuplications}' } },
    async (request) => {
      const page = await listDuplications(engine, request.principal!, pageOf(request.query));
      const items = page.items.map(recordShape);
      // The SDK reads `duplications`, the document shows `projectDuplications`: both carry the page.
      return { total: page.total, duplications: items, projectDuplications: items };
    },
  );

  app.get(`${base}/versions`, { schema: { summary: 'What another server needs to know to exchange packages with this one' } }, async () =>
    compatibility(engine),
  );

  app.post(
    `${base}/validations`,
    { schema: { summary: "Check another server's versions (from its /versions) against this one: 200 compatible, 400 why not" } },
    async (request) => validateCompatibility(engine, request.body),
  );

  /** A restoration: a multipart `file` (the .projdup package) and `metadata` (a JSON string); a new target-side duplication. */
  const restore = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const access = ctx.ferry.access(request);
    access.requireServerAdmin('restoring a project (it creates a project and writes configuration objects)');
    if (!request.isMultipart())
      throw new ValidationError('the restoration is multipart/form-data with a "file" part (the .projdup package) and a "metadata" part (JSON)');
    let fileId: string | null = null;
    try {
      let metadata: string | undefined;
      let name = 'package.projdup';
      try {
        for await (const part of request.parts({ limits: { files: 1, fields: 10, fieldSize: METADATA_LIMIT, fileSize: config.uploadLimit + 1 } })) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file') {
              part.file.resume();
              throw new ValidationError(`unexpected file part "${part.fieldname}": the package goes in the "file" part`);
            }
            name = part.filename || name;
            fileId = (await files.upload(part.file, config.uploadLimit, { name, createdBy: access.principal.username, kind: RESTORATION_UPLOAD })).id;
          } else if (part.fieldname === 'metadata') {
            metadata = fieldText(part, METADATA_LIMIT);
          }
        }
      } catch (e) {
        // The multipart reader's own errors (a truncated or malformed body) are the client's: a 400.
        throw multipartReadError(e, 'send the restoration as a well-formed multipart/form-data body with a "file" part and a "metadata" part', {
          bytes: config.uploadLimit,
          setting: 'FERRY_UPLOAD_LIMIT',
        });
      }
      if (!fileId) throw new ValidationError('file is required: the .projdup package to restore');
      const meta = parseRestorationMetadata(metadata);
      const problem = findUnacceptable(meta, 'metadata');
      if (problem) throw new ValidationError(problem);
      const header = await files.withLocalFile(fileId, (path) => readProjectPackageHeader(engine, path, name));
      const r = await startRestoration(deps, { fileId, info: header.duplication, metadata: meta, creator: creatorOf(access.principal), actor: actor(request) });
      fileId = null;
      return await created(ctx, request, reply, r);
    } finally {
      if (fileId) await files.remove(fileId);
    }
  };

  app.get<{ Params: { id: string } }>(`${base}/:id`, { schema: { summary: 'One duplication (poll it: status, progress, message)' } }, async (request) =>
    recordShape(await getVisibleDuplication(engine, request.principal!, request.params.id)),
  );

  app.put<{ Params: { id: string } }>(`${base}/:id/status`, { schema: { summary: 'Cancel: {"status": "cancelled"} -> 204' } }, async (request, reply) => {
    const body = request.body;
    if (!body || typeof body !== 'object' || !('status' in body)) throw new ValidationError('status is required: {"status": "cancelled"}');
    cancelTo(body);
    await cancelDuplication(deps, await manageable(ctx, request, request.params.id, 'cancelling a duplication'), actor(request));
    return reply.status(204).send();
  });

  app.delete<{ Params: { id: string } }>(
    `${base}/:id`,
    { schema: { summary: 'Delete a finished duplication record (the project stays)' } },
    async (request, reply) => {
      await deleteDuplication(deps, await manageable(ctx, request, request.params.id, 'deleting a duplication record'), actor(request));
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    `${base}/:id/backup`,
    { schema: { summary: 'Download the package (.projdup) of an EXPORTED duplication, on its source server' } },
    async (request, reply) => {
      const r = await manageable(ctx, request, request.params.id, 'downloading a duplication package');
      if (r.role !== 'source') {
        throw new ValidationError(
          `duplication ${r.id} ${r.role === 'local' ? 'stayed within this server' : 'was imported here'}: a package is kept only by the source server of a duplication to another server`,
        );
      }
      if (r.status !== 'EXPORTED' || !r.fileId)
        throw new ValidationError(`duplication ${r.id} is ${r.status}; its package can be downloaded once it is EXPORTED`);
      const file = await files.get(r.fileId);
      if (!file) throw new NotFoundError('package of duplication', r.id);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${r.id}.projdup"`)
        .header('content-length', String(file.bytes))
        .send(files.open(file.id));
    },
  );

  // Only a restoration reads multipart: the POST, and the PUT that the document's sample sends its form to.
  await withMultipart(app, {}, (uploads) => {
    uploads.post(
      `${base}/restoration`,
      {
        schema: {
          summary: 'Restore a project from a package (multipart: file + metadata)',
          description: 'The file up to the upload limit (FERRY_UPLOAD_LIMIT), the metadata up to 1 MiB: larger is a 413 and nothing is kept.',
        },
      },
      restore,
    );

    uploads.put<{ Params: { id: string } }>(
      `${base}/:id`,
      {
        schema: {
          summary:
            'Start the target side of a duplication (the same body as the POST), cancel with {"status": "cancelled"}, or restore from a package (multipart, as POST /restoration)',
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        // The document's restoration sample sends its form to PUT /{id}: a form here is a restoration.
        if (request.isMultipart()) return restore(request, reply);
        if (isCancelBody(request.body)) {
          cancelTo(request.body);
          await cancelDuplication(deps, await manageable(ctx, request, id, 'cancelling a duplication'), actor(request));
          return reply.status(204).send();
        }
        const body = parseTargetRequest(request.body);
        const access = ctx.ferry.access(request);
        access.requireServerAdmin('importing a project from another server (it creates a project and writes configuration objects)');
        if (!HEX32.test(id)) throw new ValidationError(`duplication id ${id} must be 32 hexadecimal digits (the id the source server gave it)`);
        if (await findDuplication(engine, id)) {
          throw new FerryError(
            'DUPLICATION_EXISTS',
            409,
            `duplication ${id.toUpperCase()} already exists on this server; a duplication to another server needs two servers`,
          );
        }
        const source = SourceServer.trusted(body.source.environment.id);
        const remote = await source.record(id);
        const r = await startTargetDuplication(deps, { id, request: body, source, remote, creator: creatorOf(access.principal), actor: actor(request) });
        return created(ctx, request, reply, r);
      },
    );
  });
}
