/**
 * Bundles in the file store (DESIGN "Storage and scale"): receiving an
 * upload, and wording errors about a stored bundle. Shared by the native
 * `/api/v1/files` routes, the operations that read and write bundles, and
 * the faces whose documents have a file repository (dev2prod's attachments).
 */
import type { Readable } from 'node:stream';
import { FerryError } from '../core/errors.js';
import { PayloadTooLargeError, type FileStore, type StoredFile } from '../store/file-store.js';
import type { Actor, Engine } from './engine.js';

export { PayloadTooLargeError, type StoredFile } from '../store/file-store.js';

/**
 * Bundle errors name the file; on a server that is a path in the file store,
 * which is nobody's business: show the file's name instead.
 */
export function withFileName<T>(path: string, name: string, fn: () => Promise<T>): Promise<T> {
  return fn().catch((e: unknown) => {
    if (e instanceof FerryError && e.message.includes(path)) throw new FerryError(e.code, e.status, e.message.split(path).join(name), { cause: e });
    throw e;
  });
}

/**
 * Store an uploaded bundle: streamed into the file store (413 past `limit`,
 * nothing kept), then verified whole (format, trailer, digest), so a damaged
 * or foreign file is refused here (400, removed) and never at import; the
 * upload is audited.
 *
 * @example
 * const file = await receiveBundle(engine, files, request.body, { limit, name: 'pkg.ferry', environmentId: null }, access.actor);
 */
export async function receiveBundle(
  engine: Engine,
  files: FileStore,
  body: Readable,
  opts: { limit: number; name: string; environmentId: string | null; declaredBytes?: number },
  actor: Actor,
): Promise<StoredFile> {
  if (opts.declaredBytes !== undefined && Number.isFinite(opts.declaredBytes) && opts.declaredBytes > opts.limit) {
    // Refuse before reading a byte; the rest of the body is drained, and the connection closed.
    body.resume();
    throw new PayloadTooLargeError(opts.limit);
  }
  const file = await files.upload(body, opts.limit, { name: opts.name, createdBy: actor.actor, environmentId: opts.environmentId });
  try {
    // Decompressing, hashing and parsing the whole file: in the offload thread on a server.
    await files.withLocalFile(file.id, (path) => withFileName(path, opts.name, () => engine.run('verifyBundle', {}, path)));
  } catch (e) {
    await files.remove(file.id);
    throw e;
  }
  await engine.store.audit.append({
    actor: actor.actor,
    address: actor.address ?? null,
    action: 'file.upload',
    envId: opts.environmentId,
    subject: file.id,
    result: 'ok',
    detail: { name: opts.name, bytes: file.bytes },
  });
  return file;
}
