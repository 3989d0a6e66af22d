/**
 * Reading and writing `.ferry` bundles (shared/DESIGN.md "Bundle format",
 * "Storage and scale"). Everything streams: a bundle is produced from an
 * (async) iterable of entities and read back as an async generator, so memory
 * stays flat whatever the package size (1M entities must fit in 512 MB RSS).
 *
 * The codec (line encoding, header schema, digest) is pure and lives in
 * src/core/bundle.ts; this module adds gzip, files, temp-file-then-rename and
 * the wording of refusals, which always name the file.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import type { Dirent, WriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import {
  BUNDLE_FORMAT,
  checkEntity,
  encodeEntity,
  encodeHeader,
  encodeTrailer,
  EntityDigest,
  parseBundleLine,
  parseHeader,
  prettyJson,
  safeFileName,
} from '../core/bundle.js';
import type { BundleEntity, BundleHeader, BundleTrailer } from '../core/bundle.js';
import { FerryError, ValidationError } from '../core/errors.js';
import { FingerprintSet } from '../core/fingerprint-set.js';

type EntitySource = AsyncIterable<BundleEntity> | Iterable<BundleEntity>;
type Progress = (n: number) => void;

/**
 * Longest line the reader accepts. Without a cap, a gzip bomb with no newline
 * would be buffered whole; 64 MiB is far above any real entity and leaves room
 * for a header listing a very large selection.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** Lines are handed to gzip in batches: one zlib call per ~400-byte line is several times slower. */
const BATCH_CHARS = 64 * 1024;
const PROGRESS_EVERY = 1000;
/** Entity files written concurrently by writeBundleDir. */
const DIR_WRITE_CONCURRENCY = 16;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

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
 * entities and once at the end.
 *
 * @example
 * const { count, sha256, bytes } = await writeBundle('pkg.ferry', header, store.streamEntities(pkgId));
 */
export async function writeBundle(
  path: string,
  header: BundleHeader,
  entities: EntitySource,
  onProgress?: Progress,
): Promise<{ count: number; sha256: string; bytes: number }> {
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
    batch.push(encodeTrailer(digest.count, sha256));
    await writeChunk(gzip, batch.take(), done);
    gzip.end();
    await done;
    await fsyncFile(tmp);
    await rename(tmp, target);
    onProgress?.(digest.count);
    return { count: digest.count, sha256, bytes: file.bytesWritten };
  } catch (error) {
    gzip.destroy();
    await done.catch(() => {});
    await rm(tmp, { force: true });
    throw translateWriteError(error, path);
  }
}

/**
 * Check a bundle in one streaming pass, before anything is imported: the
 * header (format, version, shape), every entity line (shape), per-type counts
 * against the header, and the trailer (present, last, count and SHA-256 of the
 * entity lines). Throws a ValidationError naming the file and the problem:
 * not found, not a Ferry bundle, unsupported version, truncated, failed its
 * integrity check, count mismatch, content after the trailer.
 *
 * A malformed entity line is reported only once the digest is known to
 * match, so a damaged file reads as "failed its integrity check" rather than
 * as a puzzling JSON error on line 81234.
 *
 * `onProgress` is called with the number of entity lines read every 1000
 * lines and once at the end.
 */
export async function verifyBundle(path: string, onProgress?: Progress): Promise<{ header: BundleHeader; count: number; sha256: string }> {
  const scan = scanBundle(path, { deferLineErrors: true, onProgress });
  for (;;) {
    const step = await scan.next();
    if (step.done === true) return step.value;
  }
}

/**
 * Stream the entities of a bundle, in file order. Meant for a bundle that
 * verifyBundle accepted, but it checks as it goes anyway: a malformed line
 * throws at once, and a digest, count or trailer problem throws after the
 * last entity, so a consumer that applies entities inside one transaction
 * rolls back rather than commit a damaged bundle.
 *
 * Breaking out of the loop closes the file.
 */
export async function* readBundleEntities(path: string): AsyncGenerator<BundleEntity, void, undefined> {
  for await (const batch of scanBundle(path, { deferLineErrors: false })) yield* batch;
}

/**
 * readBundleEntities a batch at a time (the entities of one decompressed
 * chunk): what an import loops over. One async step per batch instead of per
 * entity: a 100k-entity import spent more time in promise hand-offs through
 * the nested generators than in parsing.
 */
export async function* readBundleEntityBatches(path: string): AsyncGenerator<BundleEntity[], void, undefined> {
  yield* scanBundle(path, { deferLineErrors: false });
}

/** Read and validate only the header line of a bundle (decompresses just the first chunk). */
export async function readBundleHeader(path: string): Promise<BundleHeader> {
  for await (const lines of bundleLines(path)) {
    if (lines.length > 0) return headerFrom(lines[0]!, path);
  }
  throw notABundle(path, 'it is empty');
}

/**
 * Write the bundle's content as a directory tree for review in Git:
 * `<dir>/bundle.json` (the header, pretty-printed, plus
 * `trailer: {count, sha256}` computed exactly as in a `.ferry` file) and one
 * `<dir>/<type>/<id>.json` per entity, pretty-printed with sorted keys,
 * 2-space indent and a trailing newline. Type codes and ids are spelled with
 * safeFileName (src/core/bundle.ts: `%XX` for anything outside
 * `[A-Za-z0-9._-]`, no leading/trailing dot, long names hashed).
 *
 * The tree is built in a temp sibling and renamed into place. An existing
 * `dir` must be empty, or a previous Ferry export, which is replaced: its top
 * level holds a Ferry `bundle.json` and only non-hidden directories (so a
 * repository root with `.git` or a README is never wiped). Entity files are not
 * fsynced one by one: a crash leaves the temp sibling, never a partial `dir`.
 */
export async function writeBundleDir(dir: string, header: BundleHeader, entities: EntitySource): Promise<{ count: number }> {
  checkedHeaderLine(header, dir);
  const target = resolve(dir);
  const existing = await inspectDirTarget(target, dir);
  const tmp = tempSibling(target);
  try {
    await mkdir(tmp);
  } catch (error) {
    throw translateWriteError(error, dir);
  }
  const pool = new WritePool(DIR_WRITE_CONCURRENCY);
  try {
    const digest = new EntityDigest();
    const tally = new TypeTally(header.counts);
    const typeDirs = new Set<string>();
    for await (const raw of entities) {
      const entity = normaliseEntity(raw, digest.count + 1);
      const problem = tally.add(entity.type);
      if (problem !== undefined) throw new ValidationError(`cannot write bundle directory ${dir}: ${problem}`);
      digest.add(encodeEntity(entity));
      const typeDir = safeFileName(entity.type);
      if (!typeDirs.has(typeDir)) {
        if (typeDir === 'bundle.json') {
          throw new ValidationError(`cannot write bundle directory ${dir}: type code "bundle.json" would shadow the header file`);
        }
        await mkdir(join(tmp, typeDir));
        typeDirs.add(typeDir);
      }
      const rel = `${typeDir}/${safeFileName(entity.id)}.json`;
      const content = prettyJson(entity);
      pool.run(async () => {
        try {
          // Exclusive create: a duplicate entity, or two ids that differ only in
          // case on a case-insensitive file system, must not overwrite silently.
          await writeFile(join(tmp, rel), content, { flag: 'wx' });
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw error;
          throw new ValidationError(
            `cannot write bundle directory ${dir}: two entities map to ${rel} (a duplicate ${entity.type} id, or ids differing only in letter case on this file system)`,
          );
        }
      });
      await pool.room();
    }
    await pool.drain();
    const mismatch = tally.mismatch(digest.count, header.entityCount);
    if (mismatch !== undefined) throw new ValidationError(`cannot write bundle directory ${dir}: ${mismatch}`);
    const trailer: BundleTrailer = { count: digest.count, sha256: digest.digest() };
    await writeFile(join(tmp, 'bundle.json'), prettyJson({ ...header, trailer }));
    await moveDirIntoPlace(tmp, target, existing, dir);
    return { count: digest.count };
  } catch (error) {
    await pool.settle();
    await rm(tmp, { recursive: true, force: true });
    throw translateWriteError(error, dir);
  }
}

// ---------------------------------------------------------------------------
// Reading

interface ScanOptions {
  /** verify: keep reading after a malformed line, report it only if the digest matches. */
  deferLineErrors: boolean;
  onProgress?: Progress | undefined;
}

/**
 * The one reading loop behind verifyBundle and readBundleEntities: yields
 * entities, returns the summary once the trailer has been checked.
 */
async function* scanBundle(
  path: string,
  options: ScanOptions,
): AsyncGenerator<BundleEntity[], { header: BundleHeader; count: number; sha256: string }, undefined> {
  const { deferLineErrors, onProgress } = options;
  let header: BundleHeader | undefined;
  let tally: TypeTally | undefined;
  let trailer: BundleTrailer | undefined;
  let deferred: string | undefined;
  let lastLineError: string | undefined;
  let lineNo = 0;
  const digest = new EntityDigest();
  // Verify also refuses an object that appears twice (the store would refuse
  // it later with its own words); an import reads a verified file, or meets
  // the store's refusal and then verifies to word it (loadBundle).
  const seen = deferLineErrors ? new FingerprintSet() : undefined;
  let maybeRepeated: Set<string> | undefined;

  for await (const lines of bundleLines(path)) {
    const batch: BundleEntity[] = [];
    for (const bytes of lines) {
      lineNo++;
      if (header === undefined || tally === undefined) {
        header = headerFrom(bytes, path);
        tally = new TypeTally(header.counts);
        continue;
      }
      if (trailer !== undefined) {
        throw new ValidationError(`bundle ${path} has content after its trailer (line ${lineNo})`);
      }
      let parsed: ReturnType<typeof parseBundleLine>;
      try {
        parsed = parseBundleLine(bytes.toString('utf8'), lineNo);
      } catch (error) {
        if (!(error instanceof ValidationError) || !deferLineErrors) throw prefixed(error, path);
        // Hash it as an entity line: if the trailer's digest still matches, the
        // writer really produced this line and the error below is the one to report.
        digest.add(bytes);
        deferred ??= error.message;
        lastLineError = error.message;
        continue;
      }
      lastLineError = undefined;
      if (parsed.trailer !== undefined) {
        trailer = parsed.trailer;
        continue;
      }
      digest.add(bytes);
      if (seen !== undefined) {
        const key = entityKey(parsed.entity);
        if (seen.add(key)) (maybeRepeated ??= new Set()).add(key);
      }
      const problem = tally.add(parsed.entity.type, lineNo);
      if (problem !== undefined) {
        if (!deferLineErrors) throw new ValidationError(`bundle ${path}: ${problem}`);
        deferred ??= problem;
      }
      if (onProgress !== undefined && digest.count % PROGRESS_EVERY === 0) onProgress(digest.count);
      if (!deferLineErrors) batch.push(parsed.entity);
    }
    if (batch.length > 0) yield batch;
  }

  if (header === undefined || tally === undefined) throw notABundle(path, 'it is empty');
  if (trailer === undefined) {
    const detail = lastLineError === undefined ? '' : ` (last line: ${lastLineError})`;
    throw new ValidationError(`bundle ${path} is truncated: no trailer${detail}`);
  }
  const count = digest.count;
  const sha256 = digest.digest();
  if (trailer.count !== count) {
    throw new ValidationError(`bundle ${path} failed its integrity check: its trailer counts ${trailer.count} entities but it holds ${count}`);
  }
  if (trailer.sha256 !== sha256) throw new ValidationError(`bundle ${path} failed its integrity check: sha256 mismatch`);
  if (deferred !== undefined) throw new ValidationError(`bundle ${path}: ${deferred}`);
  if (maybeRepeated !== undefined) {
    const repeat = await findRepeat(path, maybeRepeated);
    if (repeat !== undefined) {
      throw new ValidationError(
        `bundle ${path}: line ${repeat.line} repeats ${repeat.type}:${repeat.id} (first on line ${repeat.first}); an object appears once in a bundle`,
      );
    }
  }
  const mismatch = tally.mismatch(count, header.entityCount);
  if (mismatch !== undefined) throw new ValidationError(`bundle ${path}: ${mismatch}`);
  onProgress?.(count);
  return { header, count, sha256 };
}

const entityKey = (e: BundleEntity) => `${e.type}\u0000${e.id}`;

/**
 * The first entity line repeating an earlier one's type and id, among the
 * keys the first pass suspected (fingerprints can collide: this pass
 * confirms with the real ids). Only run when there is a suspect.
 */
async function findRepeat(path: string, suspects: ReadonlySet<string>): Promise<{ line: number; first: number; type: string; id: string } | undefined> {
  const firstLine = new Map<string, number>();
  let lineNo = 0;
  for await (const lines of bundleLines(path)) {
    for (const bytes of lines) {
      lineNo++;
      if (lineNo === 1) continue;
      const parsed = parseBundleLine(bytes.toString('utf8'), lineNo);
      if (parsed.entity === undefined) continue;
      const key = entityKey(parsed.entity);
      if (!suspects.has(key)) continue;
      const first = firstLine.get(key);
      if (first !== undefined) return { line: lineNo, first, type: parsed.entity.type, id: parsed.entity.id };
      firstLine.set(key, lineNo);
    }
  }
  return undefined;
}

function headerFrom(line: Buffer, path: string): BundleHeader {
  const parsed = parseHeader(line.toString('utf8'));
  if ('value' in parsed) return parsed.value;
  const [first] = parsed.errors;
  if (first !== undefined && first.startsWith('not a Ferry bundle')) {
    return fail(`${path} is ${first}`);
  }
  return fail(`bundle ${path}: ${parsed.errors.join('; ')}`);
}

/**
 * The raw lines of a bundle (without `\n`; a final unterminated line is
 * yielded too). Checks existence and the gzip magic first so that the common
 * mistakes get a plain message, then decompresses as a stream. Lines stay
 * Buffers so the digest covers the file's exact bytes. Returning early (a
 * `break` in the consumer) destroys the streams and closes the file.
 */
async function* bundleLines(path: string): AsyncGenerator<Buffer[], void, undefined> {
  await checkBundleFile(path);
  // pipeline() forwards a read error into the gunzip stream, where the
  // iterator below rethrows it; its callback has nothing left to do.
  const gunzip = pipeline(createReadStream(path), createGunzip(), () => {});
  try {
    yield* splitLines(gunzip, path);
  } catch (error) {
    throw translateReadError(error, path);
  } finally {
    gunzip.destroy();
  }
}

async function checkBundleFile(path: string): Promise<void> {
  let fh: FileHandle;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw notABundle(path, 'it is a directory');
    if (info.size === 0) throw notABundle(path, 'the file is empty');
    fh = await open(path, 'r');
  } catch (error) {
    throw translateReadError(error, path);
  }
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    if (bytesRead < 2 || buffer[0] !== GZIP_MAGIC[0] || buffer[1] !== GZIP_MAGIC[1]) {
      const looksJson = buffer[0] === 0x7b; // '{'
      throw notABundle(path, looksJson ? 'not gzip-compressed: it looks like plain JSON' : 'not gzip-compressed');
    }
  } finally {
    await fh.close();
  }
}

/** Split a byte stream on `\n` without decoding, with a cap on line length. */
async function* splitLines(stream: Readable, path: string): AsyncGenerator<Buffer[], void, undefined> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    // The lines a chunk completes, handed on together.
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      lineNo++;
      if (pendingBytes === 0) {
        lines.push(chunk.subarray(start, nl));
      } else {
        pending.push(chunk.subarray(start, nl));
        const line = Buffer.concat(pending, pendingBytes + nl - start);
        pending = [];
        pendingBytes = 0;
        if (line.length > MAX_LINE_BYTES) throw tooLong(path, lineNo);
        lines.push(line);
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) throw tooLong(path, lineNo + 1);
      pending.push(chunk.subarray(start));
    }
    if (lines.length > 0) yield lines;
  }
  if (pendingBytes > 0) yield [Buffer.concat(pending, pendingBytes)];
}

function tooLong(path: string, lineNo: number): ValidationError {
  const limit = `${MAX_LINE_BYTES / 1024 / 1024} MiB`;
  return lineNo === 1
    ? notABundle(path, `its first line is longer than ${limit}`)
    : new ValidationError(`bundle ${path}: line ${lineNo} is longer than ${limit}`);
}

function translateReadError(error: unknown, path: string): unknown {
  if (error instanceof FerryError) return error;
  const code = errorCode(error);
  if (code === 'ENOENT') return new ValidationError(`bundle ${path} not found`, { cause: error });
  if (code === 'EISDIR') return notABundle(path, 'it is a directory');
  if (code === 'Z_BUF_ERROR') {
    return new ValidationError(`bundle ${path} is truncated: the compressed data ends early`, { cause: error });
  }
  if (code !== undefined && code.startsWith('Z_')) {
    const detail = error instanceof Error ? error.message : code;
    return new ValidationError(`bundle ${path} failed its integrity check: the compressed data is corrupt (${detail})`, {
      cause: error,
    });
  }
  return error;
}

function notABundle(path: string, why: string): ValidationError {
  return new ValidationError(`${path} is not a Ferry bundle (${why})`);
}

function prefixed(error: unknown, path: string): unknown {
  if (error instanceof ValidationError) return new ValidationError(`bundle ${path}: ${error.message}`, { cause: error });
  return error;
}

function fail(message: string): never {
  throw new ValidationError(message);
}

// ---------------------------------------------------------------------------
// Writing

/** Encode the header and refuse to write one this Ferry could not read back. */
function checkedHeaderLine(header: BundleHeader, shown: string): string {
  const line = encodeHeader(header);
  const parsed = parseHeader(line);
  if ('errors' in parsed) throw new ValidationError(`cannot write bundle ${shown}: ${parsed.errors.join('; ')}`);
  return line;
}

/**
 * Keep exactly the four entity properties (callers pass package entities
 * carrying hash/ord/via) and check their shape, so the writer never produces
 * a line the reader refuses.
 */
function normaliseEntity(raw: BundleEntity, n: number): BundleEntity {
  return checkEntity({ type: raw.type, id: raw.id, name: raw.name, fields: raw.fields }, `entity #${n}`);
}

/** A name in the same directory as `target`, so that rename() is atomic and never crosses file systems. */
function tempSibling(target: string): string {
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
function translateWriteError(error: unknown, shown: string): unknown {
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

/** Per-type entity counts checked against the header's. */
class TypeTally {
  readonly #expected: Record<string, number>;
  readonly #seen = new Map<string, number>();

  constructor(expected: Record<string, number>) {
    this.#expected = expected;
  }

  /** Count one entity; a message when its type is not in the header (never counted, so the map stays small). */
  add(type: string, lineNo?: number): string | undefined {
    if (!Object.hasOwn(this.#expected, type)) {
      const where = lineNo === undefined ? '' : ` (line ${lineNo})`;
      return `an entity of type ${JSON.stringify(type)}${where} is not counted in the header`;
    }
    this.#seen.set(type, (this.#seen.get(type) ?? 0) + 1);
    return undefined;
  }

  /** A message when the totals disagree with the header. */
  mismatch(total: number, entityCount: number): string | undefined {
    if (total !== entityCount) return `its header says ${entityCount} entities but it holds ${total}`;
    for (const [type, expected] of Object.entries(this.#expected)) {
      const seen = this.#seen.get(type) ?? 0;
      if (seen !== expected) return `its header counts ${expected} ${type} entities but it holds ${seen}`;
    }
    return undefined;
  }
}

/**
 * At most `limit` writes in flight. Tasks never reject into the void: the
 * first failure is kept and rethrown from room()/drain(), so Node never sees
 * an unhandled rejection from a write nobody awaited.
 */
class WritePool {
  readonly #limit: number;
  readonly #inflight = new Set<Promise<void>>();
  #failed = false;
  #failure: unknown;

  constructor(limit: number) {
    this.#limit = limit;
  }

  run(task: () => Promise<void>): void {
    const p: Promise<void> = task().then(
      () => {
        this.#inflight.delete(p);
      },
      (error: unknown) => {
        this.#inflight.delete(p);
        if (!this.#failed) {
          this.#failed = true;
          this.#failure = error;
        }
      },
    );
    this.#inflight.add(p);
  }

  async room(): Promise<void> {
    while (this.#inflight.size >= this.#limit) await Promise.race(this.#inflight);
    this.#rethrow();
  }

  async drain(): Promise<void> {
    await this.settle();
    this.#rethrow();
  }

  /** Wait for every write, never throwing (cleanup path). */
  async settle(): Promise<void> {
    await Promise.all([...this.#inflight]);
  }

  #rethrow(): void {
    if (this.#failed) throw this.#failure;
  }
}

type DirTarget = 'absent' | 'empty' | 'previous-export';

async function inspectDirTarget(target: string, shown: string): Promise<DirTarget> {
  let entries: Dirent[];
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw new ValidationError(`cannot write bundle directory ${shown}: it exists and is not a directory`);
    entries = await readdir(target, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'absent';
    throw error;
  }
  if (entries.length === 0) return 'empty';
  const refuse = (why: string): never => {
    throw new ValidationError(`refusing to replace ${shown}: it is not empty and ${why}`);
  };
  if (!entries.some((e) => e.name === 'bundle.json' && e.isFile())) refuse('holds no Ferry bundle.json');
  if (!(await isFerryHeaderFile(join(target, 'bundle.json')))) refuse('its bundle.json was not written by Ferry');
  const stranger = entries.find((e) => e.name !== 'bundle.json' && (!e.isDirectory() || e.name.startsWith('.')));
  if (stranger !== undefined) refuse(`holds ${stranger.name}, which Ferry did not write`);
  return 'previous-export';
}

async function isFerryHeaderFile(file: string): Promise<boolean> {
  try {
    const json: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === BUNDLE_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Rename the finished tree into place. Replacing a previous export takes two
 * renames (Node has no RENAME_EXCHANGE); if the second fails the old tree is
 * put back, so `dir` is always either the old export or the new one.
 */
async function moveDirIntoPlace(tmp: string, target: string, existing: DirTarget, shown: string): Promise<void> {
  if (existing !== 'previous-export') {
    try {
      // rename(2) replaces an empty directory; a non-empty one that appeared
      // since inspectDirTarget fails with ENOTEMPTY/EEXIST instead of being lost.
      await rename(tmp, target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new ValidationError(`refusing to replace ${shown}: it was filled while the export ran`, { cause: error });
      }
      throw error;
    }
    return;
  }
  const old = `${tempSibling(target)}.old`;
  await rename(target, old);
  try {
    await rename(tmp, target);
  } catch (error) {
    await rename(old, target);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
