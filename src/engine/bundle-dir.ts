/**
 * Writing a bundle as a directory tree for review in Git (`ferry export
 * --dir`): the same header, entities and trailer as a `.ferry` file, one
 * pretty-printed file per entity, built in a temp sibling and renamed into
 * place.
 */
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BUNDLE_FORMAT, encodeEntity, EntityDigest, prettyJson, safeFileName } from '../core/bundle.js';
import { headerDigest, signedMessage, type BundleSigner } from '../core/bundle-signature.js';
import type { BundleHeader, BundleTrailer } from '../core/bundle.js';
import { ValidationError } from '../core/errors.js';
import { checkedHeaderLine, errorCode, normaliseEntity, TypeTally } from './bundle-checks.js';
import { tempSibling, translateWriteError, type EntitySource } from './bundle-write.js';

/** Entity files written concurrently by writeBundleDir. */
const DIR_WRITE_CONCURRENCY = 16;

/**
 * Write the bundle's content as a directory tree for review in Git:
 * `<dir>/bundle.json` (the header, pretty-printed, plus
 * `trailer: {count, sha256, signature?}` computed exactly as in a `.ferry`
 * file, the signature by `signer` when given) and one
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
export async function writeBundleDir(dir: string, header: BundleHeader, entities: EntitySource, signer?: BundleSigner): Promise<{ count: number }> {
  const headerLine = checkedHeaderLine(header, dir);
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
    if (signer !== undefined) trailer.signature = signer.sign(signedMessage(headerDigest(headerLine), trailer.count, trailer.sha256));
    await writeFile(join(tmp, 'bundle.json'), prettyJson({ ...header, trailer }));
    await moveDirIntoPlace(tmp, target, existing, dir);
    return { count: digest.count };
  } catch (error) {
    await pool.settle();
    await rm(tmp, { recursive: true, force: true });
    throw translateWriteError(error, dir);
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
