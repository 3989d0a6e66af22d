import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type Res, type TestServer } from '../support/api.js';

/**
 * Mount a small tmpfs at `dir` (root, and a kernel that lets us; a container
 * may not): the one honest way to get a read-only or a full file system
 * when the tests run as root, which chmod does not stop. False when it cannot.
 */
function mountTmpfs(dir: string, size: string): boolean {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0;
}
const remount = (dir: string, opts: string) => execFileSync('mount', ['-o', `remount,${opts}`, dir]);
const umount = (dir: string) => spawnSync('umount', [dir]);

for (const dialect of DIALECTS) {
  describe(`file store faults on ${dialect}`, () => {
    let t: TestEngine;
    let s: TestServer;
    let pkg = '';
    let files = '';

    /** No answer names a server path: not the data directory, not the files directory. */
    const noPath = (r: Res | { message: string }) => {
      const text = 'text' in r ? r.text : JSON.stringify(r);
      assert.ok(!text.includes(t.dataDir) && !text.includes(tmpdir()), `no server path in ${text}`);
    };

    before(async () => {
      t = await openTestEngine(dialect);
      files = join(t.dataDir, 'files');
      mkdirSync(files, { recursive: true });
      const host = hostname().replace(/[^A-Za-z0-9-]/g, '-');
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const hoursAgo = new Date(Date.now() - 2 * 3600_000);
      const partial = (name: string, old = false) => {
        writeFileSync(join(files, name), 'partial');
        if (old) utimesSync(join(files, name), hoursAgo, hoursAgo);
      };
      // Left by processes killed during an export or an upload...
      partial(`.${randomUUID()}~${host}~${dead}.part`);
      partial(`..${randomUUID()}~${host}~${dead}.part.0a1b2c3d4e5f.tmp`);
      partial(`.${randomUUID()}.part`, true);
      partial(`.${randomUUID()}~elsewhere~1.part`, true);
      // ...and written right now by live ones (this process, another host), or finished.
      partial(`.${randomUUID()}~${host}~${process.pid}.part`);
      partial(`.${randomUUID()}~elsewhere~1.part`);
      partial(`.${randomUUID()}.part`);
      writeFileSync(join(files, `${randomUUID()}.ferry`), 'finished');
      writeFileSync(join(files, 'README'), 'not ours');

      s = await openTestServer(dialect, { engine: t, config: { uploadLimit: 4 * 1024 * 1024 } });
      for (const [id, tier] of [
        ['ff-dev', 'development'],
        ['ff-test', 'testing'],
      ] as const) {
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: id, tier })).status, 201);
      }
      await t.engine.loadObjects('ff-dev', [{ type: 'GROUP', id: 'g1', name: 'Group', fields: { note: 'x'.repeat(200) } }]);
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'ff-dev',
        name: 'Files',
        objectCollections: [{ objCode: 'GROUP', entities: [{ ID: 'g1' }] }],
      });
      assert.equal((await s.waitOp(ADMIN_KEY, r.body.operation.id)).status, 'COMPLETED');
      pkg = r.body.package.id;
    });
    after(async () => {
      await s.cleanup();
      await t.cleanup();
    });

    const exportOp = async () => {
      const r = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/export`);
      assert.equal(r.status, 202, r.text);
      return s.waitOp(ADMIN_KEY, r.body.operation.id);
    };
    const upload = (bytes: Buffer) => s.call(ADMIN_KEY, 'POST', '/api/v1/files?name=b.ferry', bytes, { 'content-type': 'application/octet-stream' });

    it('at start, partial files of killed exports and uploads are removed; live ones, finished files and strangers stay', () => {
      const left = readdirSync(files).sort();
      const partials = left.filter((n) => n.startsWith('.'));
      assert.equal(partials.length, 3, left.join(', '));
      assert.ok(partials.some((n) => n.endsWith(`~${process.pid}.part`)));
      assert.ok(partials.some((n) => n.includes('~elsewhere~1.part')));
      assert.ok(left.includes('README') && left.some((n) => n.endsWith('.ferry')));
    });

    it('a files directory that cannot be written (replaced by a file: ENOTDIR): 503 for an upload, a FAILED export, no server path anywhere', async () => {
      const done = await exportOp();
      assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
      const bundle = await s.app.inject({
        method: 'GET',
        url: `/api/v1/files/${(done.result as { file: { id: string } }).file.id}/content`,
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      const bytes = bundle.rawPayload;

      const away = `${files}.away`;
      renameSync(files, away);
      writeFileSync(files, 'not a directory');
      try {
        const up = await upload(bytes);
        assert.equal(up.status, 503, up.text);
        assert.equal(up.body.code, 'FILE_STORE_UNAVAILABLE');
        assert.match(up.body.message, /the server's file store cannot be written .*; nothing was stored/);
        noPath(up);
        const failed = await exportOp();
        assert.equal(failed.status, 'FAILED');
        assert.equal(failed.error?.code, 'FILE_STORE_UNAVAILABLE', JSON.stringify(failed.error));
        noPath(failed);
        noPath({ message: failed.message });
        assert.equal((await s.call(null, 'GET', '/api/v1/health')).status, 200);
      } finally {
        rmSync(files);
        renameSync(away, files);
      }
      assert.equal((await upload(bytes)).status, 201);
    });

    it('a read-only files directory is a 503 and a full one a 507, each with a clear message (a real tmpfs)', async (ctx) => {
      const mnt = mkdtempSync(join(tmpdir(), 'ferry-tmpfs-'));
      if (!mountTmpfs(mnt, '96k')) {
        rmSync(mnt, { recursive: true, force: true });
        ctx.skip('cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN); the ENOTDIR case above still runs');
        return;
      }
      const own = await openTestServer(dialect, { engine: t, config: { filesDir: mnt, uploadLimit: 4 * 1024 * 1024 } });
      try {
        const big = Buffer.alloc(200 * 1024, 1);
        const full = await own.call(ADMIN_KEY, 'POST', '/api/v1/files', big, { 'content-type': 'application/octet-stream' });
        assert.equal(full.status, 507, full.text);
        assert.equal(full.body.code, 'INSUFFICIENT_STORAGE');
        assert.match(full.body.message, /the server's file store is full; nothing was stored/);
        noPath(full);
        assert.deepEqual(readdirSync(mnt), [], 'the partial upload is removed');

        remount(mnt, 'ro');
        const ro = await own.call(ADMIN_KEY, 'POST', '/api/v1/files', big, { 'content-type': 'application/octet-stream' });
        assert.equal(ro.status, 503, ro.text);
        assert.match(ro.body.message, /read-only file system/);
        noPath(ro);
        const r = await own.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/export`);
        const failed = await own.waitOp(ADMIN_KEY, r.body.operation.id);
        assert.equal(failed.status, 'FAILED');
        assert.equal(failed.error?.code, 'FILE_STORE_UNAVAILABLE');
        assert.match(failed.message, /read-only file system/);
        noPath(failed);
      } finally {
        await own.cleanup();
        umount(mnt);
        rmSync(mnt, { recursive: true, force: true });
      }
    });
  });
}
