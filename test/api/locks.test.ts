/**
 * Seeing and breaking an environment's install lock (issue 9), through the
 * native API and the CLI (locally and with --server), each break audited;
 * and a server releasing, at start, the locks of holders that died.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';
import { DIALECTS } from '../support/engines.js';
import { deadOwner, holdLock } from '../support/locks.js';

async function ferry(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ferry', ...args], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), isTTY: false });
  return { code, out, err };
}

for (const db of DIALECTS) {
  describe(`install locks through the API and the CLI [${db}]`, () => {
    let s: TestServer;
    const keys: Record<string, string> = {};
    before(async () => {
      s = await openTestServer(db);
      for (const id of ['mine', 'theirs']) {
        const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: id, tier: 'production' });
        assert.equal(r.status, 201, r.text);
      }
      for (const role of ['viewer', 'promoter', 'admin']) keys[role] = await s.user(`lock-${role}`, { mine: role });
    });
    after(async () => s?.cleanup());

    const lockOf = (key: string, env = 'mine') => s.call(key, 'GET', `/api/v1/environments/${env}/lock`);

    it('shows a lock to an environment admin only, another tenant its environment as missing', async () => {
      const free = await lockOf(keys.admin!);
      assert.equal(free.status, 200, free.text);
      assert.equal(free.body.locked, false);
      assert.ok(await holdLock(s.t.engine.store, 'mine', 'inst-1', { owner: deadOwner(), purpose: 'rollback' }));
      const held = await lockOf(keys.admin!);
      assert.equal(held.status, 200);
      assert.equal(held.body.holder, 'inst-1');
      assert.equal(held.body.purpose, 'rollback');
      assert.equal(held.body.stale, true);
      assert.match(held.body.reason, /is gone/);
      for (const role of ['viewer', 'promoter']) {
        assert.equal((await lockOf(keys[role]!)).status, 403, role);
        assert.equal((await s.call(keys[role]!, 'DELETE', '/api/v1/environments/mine/lock')).status, 403, role);
      }
      const theirs = await lockOf(keys.admin!, 'theirs');
      const missing = await lockOf(keys.admin!, 'nowhere');
      assert.equal(theirs.status, 404);
      assert.equal(theirs.text.replace('theirs', 'nowhere'), missing.text);
      assert.equal((await s.call(keys.admin!, 'DELETE', '/api/v1/environments/theirs/lock')).status, 404);
    });

    it('breaks a stale lock, refuses a live one unless forced, and audits each break', async () => {
      const broken = await s.call(keys.admin!, 'DELETE', '/api/v1/environments/mine/lock');
      assert.equal(broken.status, 200, broken.text);
      assert.equal(broken.body.holder, 'inst-1');
      assert.equal((await lockOf(keys.admin!)).body.locked, false);
      const again = await s.call(keys.admin!, 'DELETE', '/api/v1/environments/mine/lock');
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'NOT_LOCKED');

      assert.ok(await holdLock(s.t.engine.store, 'mine', 'inst-live'));
      const refused = await s.call(keys.admin!, 'DELETE', '/api/v1/environments/mine/lock');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'LOCK_HELD');
      assert.equal((await s.call(keys.admin!, 'PATCH', '/api/v1/environments/mine', { name: 'x' })).status, 423);
      const forced = await s.call(keys.admin!, 'DELETE', '/api/v1/environments/mine/lock?force=true');
      assert.equal(forced.status, 200, forced.text);
      assert.equal((await s.call(keys.admin!, 'PATCH', '/api/v1/environments/mine', { name: 'Mine' })).status, 200);

      const audit = await s.call(ADMIN_KEY, 'GET', '/api/v1/audit?environmentId=mine&limit=50');
      const unlocks = (audit.body.items as { action: string; actor: string; subject: string; detail: { forced: boolean } }[]).filter(
        (a) => a.action === 'environment.unlock',
      );
      assert.deepEqual(
        unlocks.map((a) => [a.actor, a.subject, a.detail.forced]),
        [
          ['lock-admin', 'inst-live', true],
          ['lock-admin', 'inst-1', false],
        ],
      );
    });

    it('`ferry env lock` and `ferry env unlock` against the server (--server)', async () => {
      await s.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
      const remote = ['--server', url, '--api-key', keys.admin!];
      assert.ok(await holdLock(s.t.engine.store, 'mine', 'inst-2', { owner: deadOwner() }));
      const shown = await ferry([...remote, 'env', 'lock', 'mine']);
      assert.equal(shown.code, 0, shown.err);
      assert.match(shown.out, /installation inst-2 \(install\)/);
      assert.match(shown.out, /stale: .*is gone/);
      const r = await ferry([...remote, 'env', 'unlock', 'mine']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Broke the install lock of environment mine/);
      const none = await ferry([...remote, 'env', 'unlock', 'mine']);
      assert.equal(none.code, 1);
      assert.match(none.err, /environment mine is not locked/);
    });

    if (db === 'sqlite') {
      it('`ferry env unlock` on a local data directory, a live lock only with --force', async () => {
        const local = ['--data-dir', s.t.dataDir];
        assert.ok(await holdLock(s.t.engine.store, 'mine', 'inst-3'));
        const refused = await ferry([...local, 'env', 'unlock', 'mine']);
        assert.equal(refused.code, 1);
        assert.match(refused.err, /holder is alive/);
        const forced = await ferry([...local, '--json', 'env', 'unlock', 'mine', '--force']);
        assert.equal(forced.code, 0, forced.err);
        assert.equal(JSON.parse(forced.out).holder, 'inst-3');
        const entry = (await s.t.engine.store.audit.list({ envId: 'mine' })).find((a) => a.action === 'environment.unlock');
        assert.equal(entry?.subject, 'inst-3');
        assert.match(String(entry?.actor), /^cli:/);
      });
    }

    it('a server releases, at start, the locks of holders that died', async () => {
      assert.ok(await holdLock(s.t.engine.store, 'mine', 'inst-dead', { owner: deadOwner() }));
      assert.ok(await holdLock(s.t.engine.store, 'theirs', 'inst-alive'));
      const restarted = await openTestServer(db, { engine: s.t });
      try {
        assert.equal((await s.t.engine.getEnvironment('mine')).lockedBy, null);
        assert.equal((await s.t.engine.getEnvironment('theirs')).lockedBy, 'inst-alive');
        const audit = await s.t.engine.store.audit.list({ envId: 'mine' });
        assert.ok(audit.some((a) => a.action === 'environment.lock.release' && a.subject === 'inst-dead'));
      } finally {
        await restarted.app.close();
        await s.t.engine.store.locks.releaseHeldBy('theirs', 'inst-alive');
      }
    });
  });
}
