// The file repository (bundles): stored by id with size and checksum, listed,
// expiring after the retention, refusing bodies over the limit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileStore } from '../../src/store/file-store.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';

const bytes = (n: number, fill = 7) => Buffer.alloc(n, fill);

for (const dialect of DIALECTS) {
  describe(`file store on ${dialect}`, () => {
    let t: TestEngine;
    before(async () => {
      t = await openTestEngine(dialect);
    });
    after(async () => t.cleanup());

    it('stores an upload by id with its size, checksum, environment and expiry', async () => {
      const files = new FileStore(t.engine.store, join(t.dataDir, 'files-a'), { retentionMs: 3_600_000 });
      const body = bytes(1000);
      const before = Date.now();
      const f = await files.upload(Readable.from([body]), 10_000, { name: 'a.ferry', createdBy: 'pat', environmentId: 'dev' });
      assert.equal(f.bytes, 1000);
      assert.equal(f.sha256, createHash('sha256').update(body).digest('hex'));
      assert.equal(f.environmentId, 'dev');
      const ttl = Date.parse(f.expiresAt!) - before;
      assert.ok(ttl >= 3_600_000 && ttl < 3_600_000 + 5_000, `expires in ${ttl} ms`);
      assert.deepEqual(await files.get(f.id), f);
      assert.ok(existsSync(files.pathOf(f.id)));
      assert.deepEqual(
        (await files.list({ envIds: ['dev'] })).map((x) => x.id),
        [f.id],
      );
      assert.deepEqual(await files.list({ envIds: ['other'] }), []);
    });

    it('without a retention a file never expires', async () => {
      const files = new FileStore(t.engine.store, join(t.dataDir, 'files-b'));
      const f = await files.upload(Readable.from([bytes(10)]), 100, { name: 'b.ferry', createdBy: null });
      assert.equal(f.expiresAt, null);
      assert.ok(!(await files.removeExpired(Date.now() + 10 * 365 * 86_400_000)).includes(f.id));
      assert.ok(await files.get(f.id));
    });

    it('an expired file reads as missing at once and the sweep removes its row and bytes', async () => {
      const files = new FileStore(t.engine.store, join(t.dataDir, 'files-c'), { retentionMs: 50 });
      const f = await files.upload(Readable.from([bytes(10)]), 100, { name: 'c.ferry', createdBy: 'pat' });
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(await files.get(f.id), undefined);
      assert.ok(!(await files.list()).some((x) => x.id === f.id));
      assert.ok(existsSync(files.pathOf(f.id)));
      assert.ok((await files.removeExpired()).includes(f.id));
      assert.ok(!existsSync(files.pathOf(f.id)));
      assert.deepEqual(await files.removeExpired(), []);
    });

    it('refuses a body over the limit with a 413 and keeps nothing', async () => {
      const files = new FileStore(t.engine.store, join(t.dataDir, 'files-d'), { retentionMs: 60_000 });
      await assert.rejects(
        files.upload(Readable.from([bytes(600), bytes(600)]), 1000, { name: 'd.ferry', createdBy: 'pat' }),
        (e: { status?: number; code?: string }) => e.status === 413 && e.code === 'PAYLOAD_TOO_LARGE',
      );
      assert.deepEqual(
        (await files.list()).filter((x) => x.name === 'd.ferry'),
        [],
      );
    });
  });
}
