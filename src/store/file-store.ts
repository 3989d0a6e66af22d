import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { copyFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FerryError } from '../core/errors.js';
import { formatBytes } from '../core/limits.js';
import type { Store } from './store.js';
import { serverDb, serverReadDb } from './server-schema.js';
import type { FilesTable } from './server-schema.js';
import { describeFsError, fileStoreWriteError } from './fs-errors.js';
import { processRuns } from './processes.js';

/** Who writes a partial file, in its name: `.<id>~<host>~<pid>.part`. */
const OWNER = `${hostname()
  .replace(/[^A-Za-z0-9-]/g, '-')
  .slice(0, 60)}~${process.pid}`;
/**
 * A partial file: ours (`.<id>~<host>~<pid>.part`), one from before owners
 * were recorded (`.<id>.part`), or writeBundle's temp sibling of either
 * (`..<id>~<host>~<pid>.part.<hex>.tmp`).
 */
const PARTIAL = /^\.\.?([0-9a-f-]{36})(?:~([A-Za-z0-9-]*)~(\d+))?\.part(?:\.[0-9a-f]+\.tmp)?$/;
/** A partial file untouched this long belongs to nobody, whoever wrote it (another host sharing the directory included). */
const PARTIAL_STALE_MS = 3600_000;

/** A stored file (bundle) as the API shows it. */
export interface StoredFile {
  id: string;
  name: string;
  kind: string;
  bytes: number;
  sha256: string;
  environmentId: string | null;
  packageId: string | null;
  createdBy: string | null;
  createdAt: string;
  /** When the repository removes it (created + the retention), null for a file kept until deleted. */
  expiresAt: string | null;
}

export interface FileStoreOptions {
  /**
   * How long a new file is kept (FERRY_FILE_RETENTION): exports and uploads
   * are hand-over copies, not an archive (the package stays in the database).
   * 0 keeps files until they are deleted.
   */
  retentionMs?: number;
}

/** The body was larger than the limit: nothing was stored. */
export class PayloadTooLargeError extends FerryError {
  constructor(limit: number, setting = 'FERRY_UPLOAD_LIMIT') {
    super('PAYLOAD_TOO_LARGE', 413, `the upload is larger than the ${formatBytes(limit)} limit (${setting}); nothing was stored`);
  }
}

/**
 * The file store (DESIGN.md "Storage and scale"): bundles and backups,
 * indexed in the database so every server process sharing the database sees
 * the same list. Two implementations of this one interface: a directory
 * (DirectoryFileStore: the default, and on PostgreSQL when FERRY_FILES_DIR
 * names a directory the processes share) and the database itself, in chunks
 * (DatabaseFileStore: PostgreSQL without FERRY_FILES_DIR). Either way a file
 * is written under a temporary name in `dir` and made visible only when
 * complete, so a reader never sees a partial bundle and an aborted upload
 * leaves nothing behind; bytes stream in and out, never whole in memory.
 */
export abstract class FileStore {
  readonly retentionMs: number;

  constructor(
    protected readonly store: Store,
    /** Where files are written until committed (and, in a directory store, kept). */
    readonly dir: string,
    opts: FileStoreOptions = {},
  ) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      // At start: one line for the operator, who needs the path to fix it.
      throw new FerryError('FILE_STORE_UNAVAILABLE', 503, `cannot use the files directory ${dir} (FERRY_FILES_DIR): ${describeFsError(e) ?? String(e)}`, {
        cause: e,
      });
    }
    this.retentionMs = opts.retentionMs ?? 0;
  }

  /** Where the bytes live: `directory` or `database`. */
  abstract readonly kind: 'directory' | 'database';

  /** Index a file written at `tmp` (moved into the store); it expires after the retention. */
  abstract commit(tmp: string, meta: Omit<StoredFile, 'bytes' | 'sha256' | 'createdAt' | 'expiresAt'> & { sha256?: string }): Promise<StoredFile>;

  /** A stored file's bytes, streamed. */
  abstract open(id: string): Readable;

  /** Store the bytes of a file already indexed (a copy from another installation, `ferry db copy`) from a local file. */
  abstract importBytes(id: string, path: string): Promise<void>;

  /** Remove a file, index row and bytes; removing a missing file is no error. */
  abstract remove(id: string): Promise<void>;

  /**
   * Run `fn` with the file at a local path (readers that need a file:
   * bundle verification, import). The directory store hands its own file;
   * the database store streams it to a temporary file, removed after `fn`.
   */
  abstract withLocalFile<T>(id: string, fn: (path: string) => Promise<T>): Promise<T>;

  protected get db() {
    return serverDb(this.store);
  }

  protected get rdb() {
    return serverReadDb(this.store);
  }

  /** The index entry of a complete file, with its expiry. */
  protected indexed(meta: Omit<StoredFile, 'bytes' | 'sha256' | 'createdAt' | 'expiresAt'>, bytes: number, sha256: string): StoredFile {
    const at = Date.now();
    const expiresAt = this.retentionMs > 0 ? new Date(at + this.retentionMs).toISOString() : null;
    return { ...meta, bytes, sha256, createdAt: new Date(at).toISOString(), expiresAt };
  }

  /** An id (a fresh one unless the writer names its own) and a temporary path to write it to; `commit` makes it visible. */
  reserve(id: string = randomUUID()): { id: string; tmp: string } {
    // The writer's host and pid are in the name, so that the next start can
    // tell the partial file of a killed process from one still being written.
    return { id, tmp: join(this.dir, `.${id}~${OWNER}.part`) };
  }

  /**
   * Remove partial files whose writer is gone: a process of this host that
   * no longer runs (killed during an export or an upload), or anything
   * untouched for an hour; and the index row such a writer may have written
   * just before it died (see DirectoryFileStore.commit). Run at start; never
   * throws (a read-only directory is reported when something is written to it).
   */
  async sweepPartials(): Promise<string[]> {
    const removed: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return removed;
    }
    const host = OWNER.split('~')[0];
    for (const name of names) {
      const m = PARTIAL.exec(name);
      if (!m) continue;
      const path = join(this.dir, name);
      try {
        const dead = m[2] === host && m[3] !== undefined && !processRuns(Number(m[3]));
        if (dead || Date.now() - (await stat(path)).mtimeMs > PARTIAL_STALE_MS) {
          await rm(path, { force: true });
          await this.forgetUnwritten(m[1]!);
          removed.push(name);
        }
      } catch {
        // Gone meanwhile, or not removable here: the next start tries again.
      }
    }
    return removed;
  }

  /** Drop the index row of a file whose writer died before its bytes were in place (none by default: see DirectoryFileStore). */
  protected async forgetUnwritten(_id: string): Promise<void> {}

  /**
   * Stream a request body into the store, refusing (413) as soon as it passes
   * `limit` bytes: the partial file is removed and nothing is indexed.
   */
  async upload(
    body: Readable,
    limit: number,
    meta: { name: string; createdBy: string | null; environmentId?: string | null; kind?: string },
  ): Promise<StoredFile> {
    const { id, tmp } = this.reserve();
    const hash = createHash('sha256');
    try {
      await receive(body, tmp, limit, hash);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      // Full or unwritable: 507 or 503 naming no path (Node's message has the server's).
      throw fileStoreWriteError(e);
    }
    return this.commit(tmp, {
      id,
      name: meta.name,
      kind: meta.kind ?? 'bundle',
      environmentId: meta.environmentId ?? null,
      packageId: null,
      createdBy: meta.createdBy,
      sha256: hash.digest('hex'),
    });
  }

  /** A file, or undefined when there is none or it has expired (an expired one is gone even before the sweep removes it). */
  async get(id: string): Promise<StoredFile | undefined> {
    const row = await this.rdb.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    const file = row ? toFile(row) : undefined;
    return file && !isExpired(file, Date.now()) ? file : undefined;
  }

  /** Files not expired, newest first; `envIds` limits them to those environments' files (and `orCreatedBy`'s uploads). */
  async list(f: { envIds?: readonly string[]; orCreatedBy?: string } = {}): Promise<StoredFile[]> {
    let q = this.rdb
      .selectFrom('files')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date().toISOString())]));
    if (f.envIds) {
      // No sentinel value for "none": PostgreSQL refuses a NUL in text.
      const envIds = [...f.envIds];
      const by = f.orCreatedBy;
      if (envIds.length === 0 && !by) return [];
      if (envIds.length === 0) q = q.where('created_by', '=', by!);
      else q = by ? q.where((eb) => eb.or([eb('env_id', 'in', envIds), eb('created_by', '=', by)])) : q.where('env_id', 'in', envIds);
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toFile);
  }

  /**
   * Remove the files whose retention has passed (index row, then bytes) and
   * return their ids. Every server process sweeps; removing is idempotent, so
   * two processes sweeping the same file at once both succeed.
   */
  async removeExpired(now = Date.now()): Promise<string[]> {
    const rows = await this.rdb
      .selectFrom('files')
      .select('id')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', new Date(now).toISOString())
      .execute();
    for (const { id } of rows) await this.remove(id);
    return rows.map((r) => r.id);
  }
}

/** Files as `<id>.ferry` in a directory (FERRY_FILES_DIR; default <FERRY_DATA_DIR>/files). */
export class DirectoryFileStore extends FileStore {
  override readonly kind = 'directory';

  /** Where a file's bytes live. Ids are UUIDs we made, never user input, so no path can escape `dir`. */
  pathOf(id: string): string {
    return join(this.dir, `${id}.ferry`);
  }

  /**
   * Index a file written at `tmp`, then rename it to its final place; it
   * expires after the retention. The row comes first: a process killed
   * between the two leaves a partial file of a dead writer and a row without
   * bytes, both removed at the next start (sweepPartials). The other order
   * left, after such a kill, a complete file that no row names: never
   * listed, never expired, never removed.
   */
  override async commit(tmp: string, meta: Omit<StoredFile, 'bytes' | 'sha256' | 'createdAt' | 'expiresAt'> & { sha256?: string }): Promise<StoredFile> {
    let file: StoredFile;
    try {
      const bytes = (await stat(tmp)).size;
      file = this.indexed(meta, bytes, meta.sha256 ?? (await hashFile(tmp)));
      await this.db.insertInto('files').values(toRow(file)).execute();
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    try {
      await rename(tmp, this.pathOf(meta.id));
    } catch (e) {
      await this.db.deleteFrom('files').where('id', '=', meta.id).execute();
      await rm(tmp, { force: true });
      throw fileStoreWriteError(e);
    }
    return file;
  }

  protected override async forgetUnwritten(id: string): Promise<void> {
    if (!existsSync(this.pathOf(id))) await this.db.deleteFrom('files').where('id', '=', id).execute();
  }

  override open(id: string): Readable {
    return createReadStream(this.pathOf(id));
  }

  override async remove(id: string): Promise<void> {
    await this.db.deleteFrom('files').where('id', '=', id).execute();
    await rm(this.pathOf(id), { force: true });
  }

  override withLocalFile<T>(id: string, fn: (path: string) => Promise<T>): Promise<T> {
    return fn(this.pathOf(id));
  }

  override async importBytes(id: string, path: string): Promise<void> {
    try {
      await copyFile(path, this.pathOf(id));
    } catch (e) {
      throw fileStoreWriteError(e);
    }
  }
}

const isExpired = (f: StoredFile, now: number): boolean => f.expiresAt !== null && Date.parse(f.expiresAt) <= now;

export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Copy a request body to `path` with backpressure, failing once it passes
 * `limit`. Deliberately not `pipeline()`: that destroys the request on error,
 * which closes the socket before the 413 can be sent. Past the limit the rest
 * of the body is read and dropped (the reply asks the client to close).
 */
function receive(body: Readable, path: string, limit: number, hash: Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(path, { flags: 'wx' });
    let seen = 0;
    let failed = false;
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      out.destroy();
      body.resume();
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    body.on('data', (chunk: Buffer) => {
      if (failed) return;
      seen += chunk.length;
      if (seen > limit) return fail(new PayloadTooLargeError(limit));
      hash.update(chunk);
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.on('end', () => {
      if (!failed) out.end();
    });
    body.on('error', fail);
    body.on('aborted', () => fail(new FerryError('UPLOAD_ABORTED', 400, 'the upload was interrupted; nothing was stored')));
    out.on('error', fail);
    out.on('finish', () => {
      if (!failed) resolve();
    });
  });
}

export function toRow(f: StoredFile): FilesTable {
  return {
    id: f.id,
    name: f.name,
    kind: f.kind,
    bytes: f.bytes,
    sha256: f.sha256,
    env_id: f.environmentId,
    package_id: f.packageId,
    created_by: f.createdBy,
    created_at: f.createdAt,
    expires_at: f.expiresAt,
  };
}

function toFile(r: FilesTable): StoredFile {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    bytes: Number(r.bytes),
    sha256: r.sha256,
    environmentId: r.env_id,
    packageId: r.package_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}
