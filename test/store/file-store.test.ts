// The file repository (bundles): stored by id with size and checksum, listed,
// expiring after the retention, refusing bodies over the limit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { DirectoryFileStore, toRow, type FileStore, type FileStoreOptions } from '../../src/store/file-store.js';
import { CHUNK_BYTES, openFileStore } from '../../src/store/database-file-store.js';
import { serverDb } from '../../src/store/server-schema.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';

const bytes = (n: number, fill = 7) => Buffer.alloc(n, fill);

/** The directory store on both databases; the database store where the server uses it (PostgreSQL). */
const STORES = DIALECTS.flatMap((dialect) => [{ dialect, inDatabase: false }, ...(dialect === 'postgres' ? [{ dialect, inDatabase: true }] : [])]);

for (const { dialect, inDatabase } of STORES) {
  describe(`file store (${inDatabase ? 'in the database' : 'directory'}) on ${dialect}`, () => {
    let t: TestEngine;
    before(async () => {
      t = await openTestEngine(dialect);
    });
    after(async () => t.cleanup());
    const open = (dir: string, opts: FileStoreOptions = {}) => openFileStore(t.engine.store, join(t.dataDir, dir), { ...opts, inDatabase });
    /** Whether the file's bytes are still stored (its file, or its chunks). */
    const hasBytes = async (files: FileStore, id: string) =>
      files instanceof DirectoryFileStore
        ? existsSync(files.pathOf(id))
        : (await serverDb(t.engine.store).selectFrom('file_chunks').select('seq').where('file_id', '=', id).execute()).length > 0;

    it('stores an upload by id with its size, checksum, environment and expiry', async () => {
      const files = open('files-a', { retentionMs: 3_600_000 });
      const body = bytes(1000);
      const before = Date.now();
      const f = await files.upload(Readable.from([body]), 10_000, { name: 'a.ferry', createdBy: 'pat', environmentId: 'dev' });
      assert.equal(f.bytes, 1000);
      assert.equal(f.sha256, createHash('sha256').update(body).digest('hex'));
      assert.equal(f.environmentId, 'dev');
      const ttl = Date.parse(f.expiresAt!) - before;
      assert.ok(ttl >= 3_600_000 && ttl < 3_600_000 + 5_000, `expires in ${ttl} ms`);
      assert.deepEqual(await files.get(f.id), f);
      assert.ok(await hasBytes(files, f.id));
      assert.deepEqual(
        (await files.list({ envIds: ['dev'] })).map((x) => x.id),
        [f.id],
      );
      assert.deepEqual(await files.list({ envIds: ['other'] }), []);
    });

    it('without a retention a file never expires', async () => {
      const files = open('files-b');
      const f = await files.upload(Readable.from([bytes(10)]), 100, { name: 'b.ferry', createdBy: null });
      assert.equal(f.expiresAt, null);
      assert.ok(!(await files.removeExpired(Date.now() + 10 * 365 * 86_400_000)).includes(f.id));
      assert.ok(await files.get(f.id));
    });

    it('an expired file reads as missing at once and the sweep removes its row and bytes', async () => {
      const files = open('files-c', { retentionMs: 50 });
      const f = await files.upload(Readable.from([bytes(10)]), 100, { name: 'c.ferry', createdBy: 'pat' });
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(await files.get(f.id), undefined);
      assert.ok(!(await files.list()).some((x) => x.id === f.id));
      assert.ok(await hasBytes(files, f.id));
      assert.ok((await files.removeExpired()).includes(f.id));
      assert.ok(!(await hasBytes(files, f.id)));
      assert.deepEqual(await files.removeExpired(), []);
    });

    it('refuses a body over the limit with a 413 and keeps nothing', async () => {
      const files = open('files-d', { retentionMs: 60_000 });
      await assert.rejects(
        files.upload(Readable.from([bytes(600), bytes(600)]), 1000, { name: 'd.ferry', createdBy: 'pat' }),
        (e: { status?: number; code?: string }) => e.status === 413 && e.code === 'PAYLOAD_TOO_LARGE',
      );
      assert.deepEqual(
        (await files.list()).filter((x) => x.name === 'd.ferry'),
        [],
      );
    });

    it('streams a file of several chunks in and out unchanged, and removing it removes every byte', async () => {
      const files = open('files-e');
      const size = Math.floor(CHUNK_BYTES * 3.5);
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 31) % 251;
      const parts = [body.subarray(0, 100_000), body.subarray(100_000, 2_500_000), body.subarray(2_500_000)];
      const f = await files.upload(Readable.from(parts), size, { name: 'e.ferry', createdBy: 'pat' });
      assert.equal(f.sha256, createHash('sha256').update(body).digest('hex'));
      const back: Buffer[] = [];
      for await (const c of files.open(f.id)) back.push(c as Buffer);
      assert.ok(Buffer.concat(back).equals(body));
      const local = await files.withLocalFile(f.id, async (path) =>
        createHash('sha256')
          .update((await import('node:fs')).readFileSync(path))
          .digest('hex'),
      );
      assert.equal(local, f.sha256);
      if (inDatabase) {
        const chunks = await serverDb(t.engine.store).selectFrom('file_chunks').select('seq').where('file_id', '=', f.id).orderBy('seq').execute();
        assert.deepEqual(
          chunks.map((c) => c.seq),
          [0, 1, 2, 3],
        );
      }
      await files.remove(f.id);
      assert.equal(await files.get(f.id), undefined);
      assert.ok(!(await hasBytes(files, f.id)));
      await assert.rejects(text(files.open(f.id)));
    });

    it('a writer killed between indexing a file and renaming it into place: the sweep at start removes its partial file and its row', async (ctx) => {
      const files = open('files-k');
      if (!(files instanceof DirectoryFileStore)) return ctx.skip('the database store writes row and bytes in one transaction');
      const host = hostname().replace(/[^A-Za-z0-9-]/g, '-');
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const db = serverDb(t.engine.store);
      /** A partial file of `pid` and the index row its commit wrote before the rename. */
      const halfCommitted = async (pid: number) => {
        const id = randomUUID();
        writeFileSync(join(files.dir, `.${id}~${host}~${pid}.part`), bytes(10));
        const at = new Date().toISOString();
        await db
          .insertInto('files')
          .values(
            toRow({
              id,
              name: 'k.ferry',
              kind: 'bundle',
              bytes: 10,
              sha256: 'x',
              environmentId: null,
              packageId: null,
              createdBy: null,
              createdAt: at,
              expiresAt: null,
            }),
          )
          .execute();
        return id;
      };
      const killed = await halfCommitted(dead);
      const live = await halfCommitted(process.pid);
      const finished = await files.upload(Readable.from([bytes(10)]), 100, { name: 'f.ferry', createdBy: null });

      const swept = await files.sweepPartials();
      assert.deepEqual(swept, [`.${killed}~${host}~${dead}.part`]);
      assert.equal(await files.get(killed), undefined, 'the row of a file whose bytes never came stays');
      assert.ok(await files.get(live), "a live writer's row went");
      assert.ok(existsSync(join(files.dir, `.${live}~${host}~${process.pid}.part`)), "a live writer's partial file went");
      assert.ok((await files.get(finished.id)) && (await hasBytes(files, finished.id)), 'a finished file went');
    });
  });
}
