/**
 * What the faces that read multipart uploads share.
 *
 * The multipart reader's own errors (no boundary, a part cut short, no
 * closing boundary, a body that stopped before its Content-Length) carry no
 * status and no system error code: they are the client's, a 400 saying how
 * to send the body. Its size limits are said in Ferry's words: a file over
 * the route's limit is a 413 naming the limit and the setting that raises it
 * (never the reader's "request file too large"), and a field the reader cut
 * at its limit is a 413 naming the field, not a truncated value read as
 * malformed. Anything else passes as it is: a FerryError, an error with a
 * status (the reader's part counts, mapped in errors.ts), or one with a
 * system error code (the disk), which is not the body's fault.
 */
import multipart, { type FastifyMultipartOptions, type MultipartValue } from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { FerryError, ValidationError } from '../core/errors.js';
import { formatBytes } from '../core/limits.js';
import { PayloadTooLargeError } from '../engine/bundle-files.js';

/** The largest file a route takes, and the setting that raises it (FERRY_UPLOAD_LIMIT, FERRY_BODY_LIMIT). */
export interface FileLimit {
  bytes: number;
  setting: string;
}

/**
 * Any error met while reading a multipart body, as the client is told it.
 *
 *   try { for await (const part of request.parts()) ... }
 *   catch (e) { throw multipartReadError(e, 'send the pack as the file part', { bytes, setting: 'FERRY_BODY_LIMIT' }) }
 */
export function multipartReadError(e: unknown, howToSend: string, fileLimit?: FileLimit): unknown {
  if (!(e instanceof Error) || e instanceof FerryError) return e;
  const { statusCode, code } = e as { statusCode?: unknown; code?: unknown };
  if (code === 'FST_REQ_FILE_TOO_LARGE' && fileLimit) return new PayloadTooLargeError(fileLimit.bytes, fileLimit.setting);
  if (typeof statusCode === 'number' || typeof code === 'string') return e;
  return new ValidationError(`the multipart body could not be read (${e.message}): ${howToSend}`, { cause: e });
}

/**
 * A field's text (a field sent as application/json, which the reader has
 * parsed, as JSON text again); one the reader cut at the route's field limit
 * (`limitBytes`, fixed by the route) is a 413 naming the field and the limit.
 */
export function fieldText(part: MultipartValue, limitBytes: number): string {
  if (part.valueTruncated) {
    throw new FerryError(
      'PAYLOAD_TOO_LARGE',
      413,
      `the multipart field ${part.fieldname} is larger than its ${formatBytes(limitBytes)} limit; nothing was written`,
    );
  }
  return typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
}

/**
 * Register the routes that read multipart bodies in a scope of their own,
 * with the multipart reader. The reader adds an async onRequest and an async
 * onResponse hook (to clean up saved files) to every route of the scope it is
 * registered in: registered for a whole face, every status poll of that face
 * paid for two promises and a listener it never needed. The inner scope keeps
 * the face's hooks, error handler and body parsers (it is made after them);
 * a multipart body sent to any other route is a 415.
 *
 *   await withMultipart(app, { limits: { files: 1 } }, (uploads) => uploads.post('/upload', handler));
 */
export async function withMultipart(app: FastifyInstance, options: FastifyMultipartOptions, routes: (uploads: FastifyInstance) => void): Promise<void> {
  await app.register(async (uploads) => {
    await uploads.register(multipart, options);
    routes(uploads);
  });
}
