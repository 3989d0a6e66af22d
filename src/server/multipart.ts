/**
 * What the faces that read multipart uploads share: the multipart reader's
 * own errors (no boundary, a part cut short, no closing boundary, a body that
 * stopped before its Content-Length) carry no status and no system error
 * code: they are the client's, a 400 saying how to send the body. Anything
 * else passes as it is: a FerryError, an error with a status (the reader's
 * limits), or one with a system error code (the disk), which is not the
 * body's fault.
 */
import { FerryError, ValidationError } from '../core/errors.js';

export function multipartReadError(e: unknown, howToSend: string): unknown {
  if (!(e instanceof Error) || e instanceof FerryError) return e;
  const { statusCode, code } = e as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number' || typeof code === 'string') return e;
  return new ValidationError(`the multipart body could not be read (${e.message}): ${howToSend}`, { cause: e });
}
