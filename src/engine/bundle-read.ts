/**
 * Reading `.ferry` bundles (shared/DESIGN.md "Bundle format"): one streaming
 * pass that checks the header, every entity line, per-type counts and the
 * trailer (count and SHA-256), in bounded memory. Refusals name the file.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { EntityDigest, parseBundleLine, parseHeader } from '../core/bundle.js';
import { headerDigest, signatureFingerprint, signatureHolds, signedMessage, type BundleSignature } from '../core/bundle-signature.js';
import type { BundleEntity, BundleHeader, BundleTrailer } from '../core/bundle.js';
import { FerryError, ValidationError } from '../core/errors.js';
import { FingerprintSet } from '../core/fingerprint-set.js';
import { errorCode, TypeTally } from './bundle-checks.js';

type Progress = (n: number) => void;

/** Who signed a bundle: null when it is unsigned. */
export interface BundleSigned {
  /** The fingerprint of the key that signed it (its signature verified). */
  fingerprint: string;
  /** The trailer's signature, as it is in the file. */
  signature: BundleSignature;
}

/** What verifyBundle found: the header, the entity count and digest, and who signed it. */
export interface VerifiedBundle {
  header: BundleHeader;
  count: number;
  sha256: string;
  signedBy: BundleSigned | null;
}

/**
 * An environment that accepts only bundles signed by keys it trusts
 * (`trustedSigningKeys`, fingerprints). Checked by the same pass that checks
 * the digest, so an unsigned or foreign bundle is refused like a damaged one.
 */
export interface SigningTrust {
  envId: string;
  fingerprints: readonly string[];
}

/**
 * Longest line the reader accepts. Without a cap, a gzip bomb with no newline
 * would be buffered whole; 64 MiB is far above any real entity and leaves room
 * for a header listing a very large selection.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
const PROGRESS_EVERY = 1000;
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * Check a bundle in one streaming pass, before anything is imported: the
 * header (format, version, shape), every entity line (shape), per-type counts
 * against the header, and the trailer (present, last, count and SHA-256 of the
 * entity lines). Throws a ValidationError naming the file and the problem:
 * not found, not a Ferry bundle, unsupported version, truncated, failed its
 * integrity check, count mismatch, content after the trailer, a signature
 * that does not match (the trailer names a key, but the header or entities
 * were changed after signing), and, given `trust`, a bundle not signed by
 * one of its keys.
 *
 * A malformed entity line is reported only once the digest is known to
 * match, so a damaged file reads as "failed its integrity check" rather than
 * as a puzzling JSON error on line 81234.
 *
 * `onProgress` is called with the number of entity lines read every 1000
 * lines and once at the end.
 */
export async function verifyBundle(path: string, onProgress?: Progress, trust?: SigningTrust): Promise<VerifiedBundle> {
  const scan = scanBundle(path, { deferLineErrors: true, onProgress, trust });
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
export async function* readBundleEntityBatches(path: string, trust?: SigningTrust): AsyncGenerator<BundleEntity[], void, undefined> {
  yield* scanBundle(path, { deferLineErrors: false, trust });
}

/** Read and validate only the header line of a bundle (decompresses just the first chunk). */
export async function readBundleHeader(path: string): Promise<BundleHeader> {
  for await (const lines of bundleLines(path)) {
    if (lines.length > 0) return headerFrom(lines[0]!, path);
  }
  throw notABundle(path, 'it is empty');
}

interface ScanOptions {
  /** verify: keep reading after a malformed line, report it only if the digest matches. */
  deferLineErrors: boolean;
  onProgress?: Progress | undefined;
  trust?: SigningTrust | undefined;
}

/**
 * The one reading loop behind verifyBundle and readBundleEntities: yields
 * entities, returns the summary once the trailer has been checked.
 */
async function* scanBundle(path: string, options: ScanOptions): AsyncGenerator<BundleEntity[], VerifiedBundle, undefined> {
  const { deferLineErrors, onProgress, trust } = options;
  let header: BundleHeader | undefined;
  let headerSha256 = '';
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
        headerSha256 = headerDigest(bytes);
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
  // A damaged file's trailer is only a claim, but naming the key it claims
  // tells an operator whose export was changed.
  const named = trailer.signature === undefined ? '' : `; its trailer names signing key ${signatureFingerprint(trailer.signature)}`;
  if (trailer.count !== count) {
    throw new ValidationError(`bundle ${path} failed its integrity check: its trailer counts ${trailer.count} entities but it holds ${count}${named}`);
  }
  if (trailer.sha256 !== sha256) throw new ValidationError(`bundle ${path} failed its integrity check: sha256 mismatch${named}`);
  const signedBy = checkSignature(path, trailer, signedMessage(headerSha256, count, sha256));
  if (trust !== undefined) checkTrust(path, signedBy, trust);
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
  return { header, count, sha256, signedBy };
}

/** Who signed the bundle, if anyone; a signature that does not hold is a refusal. */
function checkSignature(path: string, trailer: BundleTrailer, message: Buffer): BundleSigned | null {
  if (trailer.signature === undefined) return null;
  const fingerprint = signatureFingerprint(trailer.signature);
  if (!signatureHolds(trailer.signature, message)) {
    throw new ValidationError(
      `bundle ${path} failed its signature check: it names signing key ${fingerprint}, but its signature does not match its content (changed after it was signed, or not signed by that key)`,
    );
  }
  return { fingerprint, signature: trailer.signature };
}

function checkTrust(path: string, signedBy: BundleSigned | null, trust: SigningTrust): void {
  const trusted = trust.fingerprints.join(', ');
  if (signedBy === null) {
    throw new ValidationError(`bundle ${path} is not signed; environment ${trust.envId} accepts only bundles signed by a key it trusts (${trusted})`);
  }
  if (!trust.fingerprints.includes(signedBy.fingerprint)) {
    throw new ValidationError(
      `bundle ${path} is signed by key ${signedBy.fingerprint}, which environment ${trust.envId} does not trust (it trusts ${trusted})`,
    );
  }
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
