/**
 * The file repository as 000 uses it (the Case Exchange attachment calls):
 * `POST /rest/{tenant_id}/ces/attachment` uploads a bundle (multipart field
 * `Files[]`) and answers its `Id`; `GET .../ces/attachment/{attachment_id}`
 * (also under `.../dev2prod/ces/...`, as 000 spells it) downloads one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { ValidationError } from '../../../core/errors.js';
import { PayloadTooLargeError, receiveBundle, type StoredFile } from '../../../engine/bundle-files.js';
import { multipartReadError, withMultipart } from '../../multipart.js';
import type { DialectContext } from '../types.js';
import { bundleDownload, documentErrors, errorSchema, idResponse, param, pathParams } from './schemas.js';

/** Room for multipart boundaries and part headers around the file when the declared length is checked. */
const MULTIPART_SLACK = 64 * 1024;

export async function attachmentRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine, files, config } = ctx.ferry;
  // Only the upload parses multipart; the file part is streamed, never buffered.
  await withMultipart(app, { limits: { fileSize: config.uploadLimit + 1, files: 1, fields: 20, parts: 40 } }, (uploads) => {
    uploads.post<{ Params: { tenant_id: string } }>(
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
        const store = (stream: Readable, name: string) =>
          receiveBundle(engine, files, stream, { limit: config.uploadLimit, name, environmentId: env.id }, access.actor);
        try {
          const raw = rawBody(request, config.uploadLimit);
          const file = raw ? await store(raw, 'upload.ferry') : await storeFirstFile(request, config.uploadLimit, store, (id) => files.remove(id));
          return { Id: file.id };
        } catch (e) {
          throw multipartReadError(e, 'send the bundle in the field Files[] of a well-formed multipart/form-data body', {
            bytes: config.uploadLimit,
            setting: 'FERRY_UPLOAD_LIMIT',
          });
        }
      },
    );
  });

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
    response: { 200: bundleDownload, ...documentErrors },
  } as const;
  app.get('/:tenant_id/ces/attachment/:attachment_id', { schema: downloadSchema }, download);
  app.get('/:tenant_id/dev2prod/ces/attachment/:attachment_id', { schema: downloadSchema }, download);
}

/**
 * A raw (application/octet-stream) body, or null for a multipart one;
 * refused before a byte is read when its declared length is over the limit.
 */
function rawBody(request: FastifyRequest, limit: number): Readable | null {
  const raw = request.body as { pipe?: unknown } | undefined;
  const isRaw = !!raw && typeof raw.pipe === 'function';
  if (!isRaw && !request.isMultipart()) {
    throw new ValidationError('send the bundle as multipart/form-data in the field Files[] (or as application/octet-stream)');
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit + (isRaw ? 0 : MULTIPART_SLACK)) {
    // Refuse before reading a byte; the rest is drained and the connection closed.
    request.raw.resume();
    throw new PayloadTooLargeError(limit);
  }
  return isRaw ? (raw as Readable) : null;
}

/**
 * Store the first file part of a multipart body. The multipart reader may
 * find the body malformed (a part cut short, no closing boundary) before
 * this code holds the file's stream (the whole body may already be here),
 * and then never ends that stream: waiting for it would hang the request.
 * So what follows the file is asked for at once: the end of the body, or the
 * reader's error, which stops the storing (nothing is kept) and is answered.
 */
async function storeFirstFile(
  request: FastifyRequest,
  limit: number,
  store: (stream: Readable, name: string) => Promise<StoredFile>,
  discard: (id: string) => Promise<unknown>,
): Promise<StoredFile> {
  const parts = request.files();
  const first = await parts.next();
  if (first.done) throw new ValidationError('the multipart body holds no file: send the bundle in the field Files[]');
  const part = first.value;
  const name = (part.filename || 'upload.ferry').replace(/[^\w.-]+/g, '-').slice(0, 200);
  const verdict = parts.next().then(
    () => null,
    (e: unknown) => {
      const code = (e as { code?: unknown }).code;
      // More files than one: the first is the one taken (as the README says), the others are not read.
      if (code === 'FST_FILES_LIMIT') return null;
      return e instanceof Error ? e : new Error(String(e));
    },
  );
  if (part.file.destroyed) throw (await verdict) ?? new ValidationError('the multipart body ended inside the file part');
  const stored = store(part.file, name);
  const bad = await Promise.race([
    verdict,
    stored.then(
      () => null,
      () => null,
    ),
  ]);
  if (!bad) return stored;
  part.file.destroy(bad);
  const kept = await stored.catch(() => null);
  if (kept) await discard(kept.id);
  throw bad;
}
