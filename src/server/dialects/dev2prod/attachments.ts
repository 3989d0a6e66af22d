/**
 * The file repository as 000 uses it (the Case Exchange attachment calls):
 * `POST /rest/{tenant_id}/ces/attachment` uploads a bundle (multipart field
 * `Files[]`) and answers its `Id`; `GET .../ces/attachment/{attachment_id}`
 * (also under `.../dev2prod/ces/...`, as 000 spells it) downloads one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Readable } from 'node:stream';
import { FerryError, ValidationError } from '../../../core/errors.js';
import { PayloadTooLargeError, receiveBundle } from '../../../engine/bundle-files.js';
import type { DialectContext } from '../types.js';
import { documentErrors, errorSchema, idResponse, param, pathParams } from './schemas.js';

/** Room for multipart boundaries and part headers around the file when the declared length is checked. */
const MULTIPART_SLACK = 64 * 1024;

export async function attachmentRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine, files, config } = ctx.ferry;
  // Only these routes parse multipart; the file part is streamed, never buffered.
  await app.register(multipart, { limits: { fileSize: config.uploadLimit + 1, files: 1, fields: 20, parts: 40 } });

  app.post<{ Params: { tenant_id: string } }>(
    '/:tenant_id/ces/attachment',
    {
      schema: {
        summary: 'Upload a bundle to the file repository of this tenant (promoter on it); answers the Id to import it with',
        description:
          'multipart/form-data with the file in field `Files[]` (the first file part is taken, whatever its field name), or the raw bytes as application/octet-stream. Over the upload limit (FERRY_UPLOAD_LIMIT) the answer is 413 and nothing is stored; a file that is not a whole Ferry bundle is a 400 and is not kept.',
        params: pathParams(),
        consumes: ['multipart/form-data', 'application/octet-stream'],
        response: { 200: idResponse, ...documentErrors, 413: { ...errorSchema, description: 'Larger than the upload limit; nothing stored' } },
      },
    },
    async (request) => {
      const env = await ctx.environment(request, 'promoter', 'uploading a bundle');
      const access = ctx.ferry.access(request);
      const declared = Number(request.headers['content-length']);
      try {
        const { stream, name } = await uploadedFile(request, config.uploadLimit, declared);
        const file = await receiveBundle(engine, files, stream, { limit: config.uploadLimit, name, environmentId: env.id }, access.actor);
        return { Id: file.id };
      } catch (e) {
        throw multipartError(e);
      }
    },
  );

  const download = async (request: FastifyRequest<{ Params: { tenant_id: string; attachment_id: string } }>, reply: FastifyReply) => {
    await ctx.environment(request);
    const id = request.params.attachment_id;
    const f = ctx.ferry.access(request).file(await files.get(id), id);
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-length', String(f.bytes));
    reply.header('content-disposition', `attachment; filename="${f.name}"`);
    reply.header('x-content-sha256', f.sha256);
    return reply.send(files.open(f.id));
  };
  const downloadSchema = {
    summary: "Download a bundle of the file repository (an export's FileId, or an upload's Id)",
    params: pathParams({ attachment_id: param('The file id') }),
    produces: ['application/octet-stream'],
    response: { 200: { type: 'string', format: 'binary' }, ...documentErrors },
  } as const;
  app.get('/:tenant_id/ces/attachment/:attachment_id', { schema: downloadSchema }, download);
  app.get('/:tenant_id/dev2prod/ces/attachment/:attachment_id', { schema: downloadSchema }, download);
}

/**
 * The multipart reader's own errors (no boundary, a part cut short, no
 * closing boundary) carry no status and no system error code: they are the
 * client's, a 400. Anything else passes as it is. The file store has already
 * removed what a broken stream left.
 */
function multipartError(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof FerryError) return e;
  // A status (the reader's limits) or a system error code (the disk): not the body's fault, or said already.
  const { statusCode, code } = e as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number' || typeof code === 'string') return e;
  return new ValidationError(
    `the multipart body could not be read (${e.message}): send the bundle in the field Files[] of a well-formed multipart/form-data body`,
    {
      cause: e,
    },
  );
}

/** The uploaded bytes and a file name: the first file part of a multipart body, or a raw body. */
async function uploadedFile(request: FastifyRequest, limit: number, declared: number): Promise<{ stream: Readable; name: string }> {
  const raw = request.body as { pipe?: unknown } | undefined;
  const isRaw = !!raw && typeof raw.pipe === 'function';
  if (!isRaw && !request.isMultipart()) {
    throw new ValidationError('send the bundle as multipart/form-data in the field Files[] (or as application/octet-stream)');
  }
  if (Number.isFinite(declared) && declared > limit + (isRaw ? 0 : MULTIPART_SLACK)) {
    // Refuse before reading a byte; the rest is drained and the connection closed.
    request.raw.resume();
    throw new PayloadTooLargeError(limit);
  }
  if (isRaw) return { stream: raw as Readable, name: 'upload.ferry' };
  const part = await request.file();
  if (!part) throw new ValidationError('the multipart body holds no file: send the bundle in the field Files[]');
  const name = (part.filename || 'upload.ferry').replace(/[^\w.-]+/g, '-').slice(0, 200);
  return { stream: part.file, name };
}
