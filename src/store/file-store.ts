import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FerryError } from '../core/errors.js';
import type { Store } from './store.js';
import { serverDb, serverReadDb } from './server-schema.js';
import type { FilesTable } from './server-schema.js';

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
}

/** The body was larger than the limit: nothing was stored. */
export class PayloadTooLargeError extends FerryError {
  constructor(limit: number) {
    super('PAYLOAD_TOO_LARGE', 413, `the upload is larger than the limit of ${limit} bytes; nothing was stored`);
  }
}

/**
 * Files (bundles) in a directory (DESIGN.md "Storage and scale": a directory
 * by default), indexed in the database so every server process sharing the
 * database (and the directory) sees the same list. A file is written under a
 * temporary name and renamed only when complete, so a reader never sees a
 * partial bundle and an aborted upload leaves nothing behind.
 */
export class FileStore {
  constructor(
    private readonly store: Store,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private get db() {
    return serverDb(this.store);
  }

  private get rdb() {
    return serverReadDb(this.store);
  }

  /** Where a file's bytes live. Ids are UUIDs we made, never user input, so no path can escape `dir`. */
  pathOf(id: string): string {
    return join(this.dir, `${id}.ferry`);
  }

  /** A fresh id and a temporary path to write it to; `commit` makes it visible. */
  reserve(): { id: string; tmp: string } {
    const id = randomUUID();
    return { id, tmp: join(this.dir, `.${id}.part`) };
  }

  /** Index a file written at `tmp` (renamed to its final place). */
  async commit(tmp: string, meta: Omit<StoredFile, 'bytes' | 'sha256' | 'createdAt'> & { sha256?: string }): Promise<StoredFile> {
    const final = this.pathOf(meta.id);
    await rename(tmp, final);
    const bytes = (await stat(final)).size;
    const sha256 = meta.sha256 ?? (await hashFile(final));
    const file: StoredFile = { ...meta, bytes, sha256, createdAt: new Date().toISOString() };
    try {
      await this.db.insertInto('files').values(toRow(file)).execute();
    } catch (e) {
      await rm(final, { force: true });
      throw e;
    }
    return file;
  }

  /**
   * Stream a request body into the store, refusing (413) as soon as it passes
   * `limit` bytes: the partial file is removed and nothing is indexed.
   */
  async upload(body: Readable, limit: number, meta: { name: string; createdBy: string | null }): Promise<StoredFile> {
    const { id, tmp } = this.reserve();
    const hash = createHash('sha256');
    try {
      await receive(body, tmp, limit, hash);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return this.commit(tmp, {
      id,
      name: meta.name,
      kind: 'bundle',
      environmentId: null,
      packageId: null,
      createdBy: meta.createdBy,
      sha256: hash.digest('hex'),
    });
  }

  async get(id: string): Promise<StoredFile | undefined> {
    const row = await this.rdb.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toFile(row) : undefined;
  }

  async list(f: { envIds?: readonly string[]; orCreatedBy?: string } = {}): Promise<StoredFile[]> {
    let q = this.rdb.selectFrom('files').selectAll();
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

  open(id: string): Readable {
    return createReadStream(this.pathOf(id));
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('files').where('id', '=', id).execute();
    await rm(this.pathOf(id), { force: true });
  }
}

async function hashFile(path: string): Promise<string> {
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

function toRow(f: StoredFile): FilesTable {
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
  };
}
