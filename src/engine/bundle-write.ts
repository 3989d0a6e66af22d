/**
 * Writing `.ferry` bundles (shared/DESIGN.md "Bundle format"): header,
 * entities and trailer streamed through gzip into a temp file that is
 * fsynced and renamed into place, so the target never holds half a bundle.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { encodeEntity, encodeTrailer, EntityDigest } from '../core/bundle.js';
import { headerDigest, signedMessage, type BundleSigner } from '../core/bundle-signature.js';
import type { BundleEntity, BundleHeader } from '../core/bundle.js';
import { FerryError, ValidationError } from '../core/errors.js';
import { checkedHeaderLine, errorCode, normaliseEntity, TypeTally } from './bundle-checks.js';

export type EntitySource = AsyncIterable<BundleEntity> | Iterable<BundleEntity>;
type Progress = (n: number) => void;

/** Lines are handed to gzip in batches: one zlib call per ~400-byte line is several times slower. */
const BATCH_CHARS = 64 * 1024;
const PROGRESS_EVERY = 1000;

/**
 * Write a `.ferry` bundle: header, entities in the order given, trailer.
 *
 * Streams through gzip into a temp file beside `path` (same directory, so the
 * final rename is atomic), fsyncs it and renames it into place: `path` never
 * holds a half-written bundle, and on any failure (the entity iterator
 * throwing included) the temp file is removed. The header is written as
 * given, but the streamed entities must match its `entityCount` and `counts`,
 * otherwise nothing is written and a ValidationError is thrown.
 *
 * `onProgress` is called with the number of entities written every 1000
 * entities and once at the end. Given a `signer`, the trailer carries its
 * signature over the header and the entities (src/core/bundle-signature.ts).
 *
 * @example
 * const { count, sha256, bytes } = await writeBundle('pkg.ferry', header, store.streamEntities(pkgId));
 */
export async function writeBundle(
  path: string,
  header: BundleHeader,
  entities: EntitySource,
  onProgress?: Progress,
  signer?: BundleSigner,
): Promise<{ count: number; sha256: string; bytes: number; signedBy: string | null }> {
  const headerLine = checkedHeaderLine(header, path);
  const target = resolve(path);
  const tmp = tempSibling(target);
  const file = await openForWrite(tmp, path);
  const gzip = createGzip();
  const done = pipelineAsync(gzip, file);
  // The rejection is awaited below (or raced in writeChunk); this stops Node
  // from calling it unhandled while we are between awaits.
  done.catch(() => {});
  try {
    const batch = new LineBatch();
    batch.push(headerLine);
    const digest = new EntityDigest();
    const tally = new TypeTally(header.counts);
    for await (const raw of entities) {
      const entity = normaliseEntity(raw, digest.count + 1);
      const problem = tally.add(entity.type);
      if (problem !== undefined) throw new ValidationError(`cannot write bundle ${path}: ${problem}`);
      const line = encodeEntity(entity);
      digest.add(line);
      if (batch.push(line)) await writeChunk(gzip, batch.take(), done);
      if (onProgress !== undefined && digest.count % PROGRESS_EVERY === 0) onProgress(digest.count);
    }
    const mismatch = tally.mismatch(digest.count, header.entityCount);
    if (mismatch !== undefined) throw new ValidationError(`cannot write bundle ${path}: ${mismatch}`);
    const sha256 = digest.digest();
    batch.push(encodeTrailer(digest.count, sha256, signer?.sign(signedMessage(headerDigest(headerLine), digest.count, sha256))));
    await writeChunk(gzip, batch.take(), done);
    gzip.end();
    await done;
    await fsyncFile(tmp);
    await rename(tmp, target);
    onProgress?.(digest.count);
    return { count: digest.count, sha256, bytes: file.bytesWritten, signedBy: signer?.fingerprint ?? null };
  } catch (error) {
    gzip.destroy();
    await done.catch(() => {});
    await rm(tmp, { force: true });
    throw translateWriteError(error, path);
  }
}

/** A name in the same directory as `target`, so that rename() is atomic and never crosses file systems. */
export function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Open the temp file exclusively, failing before any entity is pulled when the directory is missing. */
async function openForWrite(tmp: string, shown: string): Promise<WriteStream> {
  const file = createWriteStream(tmp, { flags: 'wx' });
  try {
    await once(file, 'open');
  } catch (error) {
    throw translateWriteError(error, shown);
  }
  return file;
}

/**
 * Flush the finished temp file to disk before the rename, so that a crash
 * cannot leave an empty or partial file under the final name. The write
 * stream has closed its descriptor by now; fsync works on any descriptor of
 * the same file.
 */
async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** IO errors a user can fix get a one-line ValidationError; the rest (EACCES, ENOSPC) pass through with their code. */
export function translateWriteError(error: unknown, shown: string): unknown {
  if (error instanceof FerryError) return error;
  const code = errorCode(error);
  if (code === 'ENOENT') {
    return new ValidationError(`cannot write ${shown}: directory ${dirname(shown)} does not exist`, { cause: error });
  }
  if (code === 'ENOTDIR') {
    return new ValidationError(`cannot write ${shown}: ${dirname(shown)} is not a directory`, { cause: error });
  }
  if (code === 'EISDIR') return new ValidationError(`cannot write ${shown}: it is a directory`, { cause: error });
  return error;
}

/** Lines joined into ~64 KiB strings before they reach gzip. */
class LineBatch {
  #parts: string[] = [];
  #chars = 0;

  /** Add a line; true when the batch is big enough to flush. */
  push(line: string): boolean {
    this.#parts.push(line);
    this.#chars += line.length + 1;
    return this.#chars >= BATCH_CHARS;
  }

  take(): string {
    const text = this.#parts.length === 0 ? '' : `${this.#parts.join('\n')}\n`;
    this.#parts = [];
    this.#chars = 0;
    return text;
  }
}

/**
 * Write with backpressure. Racing `done` matters: if the file side fails
 * (disk full), pipeline destroys gzip and 'drain' never comes; `done` rejects.
 */
async function writeChunk(stream: Writable, text: string, done: Promise<void>): Promise<void> {
  if (text === '') return;
  if (!stream.write(text)) await Promise.race([once(stream, 'drain'), done]);
}
