import { FerryError } from '../core/errors.js';

/**
 * File-system failures of Ferry's own storage (the files directory, the data
 * directory), in words. Node's own messages carry the absolute path
 * (`EROFS: read-only file system, open '/srv/ferry/files/...'`): fine in
 * the server log, never in an answer to a client.
 */
const WHY: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'its path is not a directory',
  ENOENT: 'its directory does not exist',
  EIO: 'input/output error',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/** The errno code of a Node file-system error, or of the error it wraps (`{cause}`). */
export function fsErrorCode(e: unknown): string | undefined {
  for (let x: unknown = e, i = 0; x && i < 3; x = (x as { cause?: unknown }).cause, i++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && code in WHY) return code;
  }
  return undefined;
}

/** `read-only file system`, `no space left on the device`...: why storage failed, or undefined when it is not such a failure. */
export function describeFsError(e: unknown): string | undefined {
  const code = fsErrorCode(e);
  return code === undefined ? undefined : WHY[code];
}

/** The file store is full: 507, nothing was stored. */
export class FileStoreFullError extends FerryError {
  constructor(why: string, options?: { cause?: unknown }) {
    super('INSUFFICIENT_STORAGE', 507, `the server's file store is full; nothing was stored (${why}): try again once an operator has made room`, options);
  }
}

/** The file store cannot be written: 503, nothing was stored. */
export class FileStoreUnavailableError extends FerryError {
  constructor(why: string, options?: { cause?: unknown }) {
    super('FILE_STORE_UNAVAILABLE', 503, `the server's file store cannot be written (${why}); nothing was stored: an operator must fix it`, options);
  }
}

/**
 * Translate a failure to write the file store into a FerryError that names
 * no path: 507 when it is full, 503 when it cannot be written. Any other
 * error is returned as it is.
 */
export function fileStoreWriteError(e: unknown): unknown {
  const code = fsErrorCode(e);
  if (code === undefined) return e;
  const why = WHY[code]!;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new FileStoreFullError(why, { cause: e }) : new FileStoreUnavailableError(why, { cause: e });
}
