import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FerryError, NotFoundError } from '../core/errors.js';
import { DirectoryFileStore, FileStore, toRow, type FileStoreOptions, type StoredFile } from './file-store.js';
import { fileStoreWriteError } from './fs-errors.js';
import { serverDb } from './server-schema.js';
import type { Store } from './store.js';

/** Bytes per stored chunk: big enough that a 1 GiB bundle is a thousand rows, small enough to stream. */
export const CHUNK_BYTES = 1024 * 1024;
/** Chunks read per query while streaming a file out. */
const CHUNKS_PER_READ = 4;

/**
 * Files kept in the database (PostgreSQL without FERRY_FILES_DIR), so server
 * processes on several machines share them without a shared disk. A file is
 * `file_chunks` rows of CHUNK_BYTES in order plus its `files` index row,
 * written in one transaction: until it commits, no process sees any of it,
 * and a process killed while writing leaves nothing behind. Bytes stream in
 * from a local temporary file (an export's output, a received upload) and
 * out a few chunks at a time: a big bundle is never whole in memory.
 * `dir` holds only those temporary files.
 */
export class DatabaseFileStore extends FileStore {
  override readonly kind = 'database';

  override async commit(tmp: string, meta: Omit<StoredFile, 'bytes' | 'sha256' | 'createdAt' | 'expiresAt'> & { sha256?: string }): Promise<StoredFile> {
    try {
      return await this.store.transaction(async (tx) => {
        const { bytes, sha256 } = await writeChunks(tx, meta.id, tmp);
        const f = this.indexed(meta, bytes, meta.sha256 ?? sha256);
        await serverDb(tx).insertInto('files').values(toRow(f)).execute();
        return f;
      });
    } catch (e) {
      throw fileStoreWriteError(e);
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }

  override async importBytes(id: string, path: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await serverDb(tx).deleteFrom('file_chunks').where('file_id', '=', id).execute();
      await writeChunks(tx, id, path);
    });
  }

  override open(id: string): Readable {
    const rdb = this.rdb;
    async function* chunks(): AsyncGenerator<Buffer> {
      const file = await rdb.selectFrom('files').select('bytes').where('id', '=', id).executeTakeFirst();
      if (!file) throw new NotFoundError('file', id);
      let next = 0;
      let sent = 0;
      for (;;) {
        const rows = await rdb
          .selectFrom('file_chunks')
          .select(['seq', 'data'])
          .where('file_id', '=', id)
          .where('seq', '>=', next)
          .orderBy('seq')
          .limit(CHUNKS_PER_READ)
          .execute();
        for (const r of rows) {
          sent += r.data.length;
          yield r.data;
        }
        if (rows.length < CHUNKS_PER_READ) break;
        next = rows[rows.length - 1]!.seq + 1;
      }
      // Removed while being read (expired, deleted): a short stream must not pass for the file.
      if (sent !== Number(file.bytes)) throw new FerryError('FILE_GONE', 410, `file ${id} was removed while it was being read`);
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  override async remove(id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const db = serverDb(tx);
      await db.deleteFrom('files').where('id', '=', id).execute();
      await db.deleteFrom('file_chunks').where('file_id', '=', id).execute();
    });
  }

  override async withLocalFile<T>(id: string, fn: (path: string) => Promise<T>): Promise<T> {
    const { tmp } = this.reserve();
    try {
      try {
        await pipeline(this.open(id), createWriteStream(tmp, { flags: 'wx' }));
      } catch (e) {
        throw e instanceof FerryError ? e : fileStoreWriteError(e);
      }
      return await fn(tmp);
    } finally {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }
}

/** A file's bytes as chunk rows, read from `path` a chunk at a time. */
async function writeChunks(tx: Store, id: string, path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let seq = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    const data = chunk as Buffer;
    hash.update(data);
    bytes += data.length;
    await serverDb(tx).insertInto('file_chunks').values({ file_id: id, seq: seq++, data }).execute();
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * The file store a server uses: in the database when asked (PostgreSQL
 * without FERRY_FILES_DIR), else the directory.
 */
export function openFileStore(store: Store, dir: string, opts: FileStoreOptions & { inDatabase?: boolean } = {}): FileStore {
  return opts.inDatabase ? new DatabaseFileStore(store, dir, opts) : new DirectoryFileStore(store, dir, opts);
}
