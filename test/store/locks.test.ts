/**
 * The install lock and its owner (issue 9): a lock whose holder died (a kill
 * during a rollback) never locks an environment for good; a live one is
 * respected; an admin can see and break one, audited.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { openEngine } from '../../src/engine/open.js';
import { migrationProvider } from '../../src/store/migrations.js';
import { SQLITE } from '../../src/store/dialect.js';
import type { Engine } from '../../src/engine/engine.js';
import { breakLock, getLock, judgeLock, processOwner, processStarted, releaseStaleLocks, withInstallLock, LOCK_STALE_MS } from '../../src/engine/locks.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { rejectsWith } from '../support/assert.js';
import { deadOwner, holdLock } from '../support/locks.js';
import { ROOT } from '../support/process.js';

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

for (const dialect of DIALECTS) {
  describe(`install lock owners on ${dialect}`, () => {
    let t: TestEngine;
    let engine: Engine;
    let installed = '';
    before(async () => {
      t = await openTestEngine(dialect);
      engine = t.engine;
      await engine.createEnvironment({ id: 'dev', name: 'Development', tier: 'development' });
      await engine.createEnvironment({ id: 'prod', name: 'Production', tier: 'production' });
      await engine.loadObjects('dev', [
        { type: 'GROUP', id: 'g1', name: 'Group', fields: {} },
        { type: 'TMPL', id: 't1', name: 'Template', fields: { groupID: 'g1' } },
      ]);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'P', selection: [{ type: 'TMPL', id: 't1' }] });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      installed = (await engine.install((await engine.prepare(pkg.id, 'prod')).installation.id)).id;
    });
    after(async () => t.cleanup());

    it('a rollback killed inside its transaction leaves nothing written and no lock that outlives its process', async () => {
      const before = (await engine.listObjects('prod')).items.map((o) => o.hash).sort();
      const env = t.databaseUrl ? { FERRY_DATABASE_URL: t.databaseUrl, FERRY_DATABASE_SCHEMA: t.schema! } : { FERRY_DATA_DIR: t.dataDir };
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/rollback-and-hang.ts'), installed], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise((r) => child.on('exit', r));
      const until = Date.now() + 60_000;
      while (!out.includes('inside')) {
        assert.equal(child.exitCode, null, `the rolling-back process ended: ${out}`);
        assert.ok(Date.now() < until, `the rolling-back process never got inside its transaction: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((await engine.getEnvironment('prod')).lockedBy, installed, 'the rollback holds the lock');
      child.kill('SIGKILL');
      await exited;

      // Nothing of the rollback was written...
      assert.equal((await engine.getInstallation(installed)).status, 'COMPLETED');
      assert.deepEqual((await engine.listObjects('prod')).items.map((o) => o.hash).sort(), before);
      // ...and the environment is writable again: the first writer that meets the dead holder's lock releases it.
      await engine.loadObjects('prod', [{ type: 'GROUP', id: 'after-kill', name: 'Written after the kill', fields: {} }]);
      assert.equal((await engine.getEnvironment('prod')).lockedBy, null);
      const released = (await engine.store.audit.list({ envId: 'prod' })).find((a) => a.action === 'environment.lock.release');
      assert.ok(released, 'the release is in the audit log');
      assert.equal(released.subject, installed);
      assert.match(String(released.detail.reason), /is gone/);
      await engine.deleteObject('prod', 'GROUP', 'after-kill');
    });

    it('an install or rollback meeting a dead holder takes the lock over; a live holder gets 423', async () => {
      assert.ok(await holdLock(engine.store, 'prod', 'dead-one', { owner: deadOwner(), purpose: 'rollback' }));
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Q', selection: [{ type: 'GROUP', id: 'g1' }] });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const plan = await engine.prepare(pkg.id, 'prod');
      assert.equal((await engine.install(plan.installation.id)).status, 'COMPLETED');
      assert.equal((await engine.getEnvironment('prod')).lockedBy, null);

      // Alive on another host (a fresh heartbeat): respected by writes, installs, rollbacks and the sweep.
      const remote = { host: 'another-host', pid: 4242, instance: 'r', started: null };
      assert.ok(await holdLock(engine.store, 'prod', 'remote-live', { owner: remote }));
      await rejectsWith(engine.loadObjects('prod', [{ type: 'GROUP', id: 'x', name: 'x', fields: {} }]), '423 ENVIRONMENT_LOCKED');
      await rejectsWith(engine.rollback(plan.installation.id), '423 ENVIRONMENT_LOCKED');
      assert.deepEqual(await releaseStaleLocks(engine), []);
      const view = await getLock(engine, 'prod');
      assert.equal(view.locked, true);
      assert.equal(view.stale, false);
      assert.equal(view.holder, 'remote-live');
      assert.deepEqual(view.owner, { host: 'another-host', pid: 4242, instance: 'r' });
      assert.ok(await engine.store.locks.release({ envId: 'prod', holder: 'remote-live', owner: remote }));

      // Silent on another host past the bound: stale, released by the sweep.
      assert.ok(await holdLock(engine.store, 'prod', 'remote-dead', { owner: remote, heartbeatAt: ago(LOCK_STALE_MS + 1000) }));
      assert.equal((await getLock(engine, 'prod')).stale, true);
      assert.deepEqual(
        (await releaseStaleLocks(engine)).map((l) => l.holder),
        ['remote-dead'],
      );
      assert.equal((await engine.rollback(plan.installation.id)).status, 'ROLLED_BACK');
    });

    it('a lock this process holds is live while its install or rollback works, and free after', async () => {
      let seen: Awaited<ReturnType<typeof getLock>> | undefined;
      await withInstallLock(engine, 'prod', 'working', 'rollback', async () => {
        seen = await getLock(engine, 'prod');
        await rejectsWith(engine.loadObjects('prod', [{ type: 'GROUP', id: 'x', name: 'x', fields: {} }]), '423 ENVIRONMENT_LOCKED');
        assert.deepEqual(await releaseStaleLocks(engine), []);
      });
      assert.equal(seen?.stale, false);
      assert.match(seen.reason!, /held by this process/);
      assert.equal((await engine.getEnvironment('prod')).lockedBy, null);
    });

    it('an admin breaks a stale lock, and a live one only with force, each audited', async () => {
      await rejectsWith(breakLock(engine, 'prod', {}), '409 NOT_LOCKED');
      assert.ok(await holdLock(engine.store, 'prod', 'live-here'));
      await rejectsWith(breakLock(engine, 'prod', {}, { actor: 'ann' }), '409 LOCK_HELD', /alive/);
      const forced = await breakLock(engine, 'prod', { force: true }, { actor: 'ann' });
      assert.equal(forced.holder, 'live-here');
      assert.equal((await engine.getEnvironment('prod')).lockedBy, null);
      assert.ok(await holdLock(engine.store, 'prod', 'dead-here', { owner: deadOwner() }));
      const broken = await breakLock(engine, 'prod', {}, { actor: 'ann' });
      assert.equal(broken.stale, true);
      const entries = (await engine.store.audit.list({ envId: 'prod', actor: 'ann' })).filter((a) => a.action === 'environment.unlock');
      assert.deepEqual(
        entries.map((a) => [a.subject, a.detail.forced]),
        [
          ['dead-here', false],
          ['live-here', true],
        ],
      );
    });
  });
}

describe('migration 0007_lock_owner', () => {
  it('carries a lock taken before it over, as stale: the next writer releases it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-0007-'));
    try {
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new SqliteDatabase(join(dir, 'ferry.sqlite')) }) });
      const r = await new Migrator({ db, provider: migrationProvider(SQLITE) }).migrateTo('0006_duplications');
      assert.equal(r.error, undefined);
      const at = new Date().toISOString();
      await db
        .insertInto('environments')
        .values({
          id: 'old',
          uid: 'u-old',
          name: 'Old',
          tier: 'production',
          hosts: '[]',
          version: 1,
          parameters: '{}',
          target_owned: '{}',
          cloned_from: null,
          locked_by: 'inst-old',
          created_at: at,
          updated_at: at,
        })
        .execute();
      await db.destroy();
      const engine = await openEngine({ dataDir: dir, publicUrl: 'http://ferry.test' });
      try {
        assert.equal((await engine.getEnvironment('old')).lockedBy, 'inst-old');
        const lock = await getLock(engine, 'old');
        assert.equal(lock.stale, true);
        assert.match(lock.reason!, /before locks recorded their owner/);
        await engine.loadObjects('old', [{ type: 'GROUP', id: 'g', name: 'G', fields: {} }]);
        assert.equal((await engine.getEnvironment('old')).lockedBy, null);
      } finally {
        await engine.store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('when a lock is stale', () => {
  const lock = (owner: { host: string; pid: number; instance: string; started: string | null }, heartbeatAt = new Date().toISOString()) => ({
    envId: 'e',
    holder: 'i',
    purpose: 'install' as const,
    owner,
    acquiredAt: heartbeatAt,
    heartbeatAt,
  });
  const self = processOwner();

  it('on this host: by whether its process still runs, whatever its heartbeat', () => {
    const ours = judgeLock(lock(self, ago(3600_000)));
    assert.equal(ours.stale, true, 'ours, but no install or rollback of this process holds it: its release failed');
    assert.match(ours.reason, /could not release it/);
    assert.equal(judgeLock(lock({ ...self, instance: 'earlier' })).stale, true, 'our pid, another instance: the process restarted');
    // An install runs in a worker thread of this process (engine/offload.ts) and takes the lock there: the main thread's sweep must see it live.
    const thread = judgeLock(lock({ ...self, instance: self.instance.replace(/\.\d+$/, '.7') }, ago(3600_000)));
    assert.equal(thread.stale, false, 'held by another thread of this process');
    assert.match(thread.reason, /worker thread of this process/);
    assert.equal(judgeLock(lock(deadOwner())).stale, true);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid!;
      const started = processStarted(pid);
      assert.equal(judgeLock(lock({ host: hostname(), pid, instance: 'x', started }, ago(3600_000))).stale, false);
      if (started !== null) {
        const reused = judgeLock(lock({ host: hostname(), pid, instance: 'x', started: String(Number(started) - 1) }));
        assert.equal(reused.stale, true, 'the pid runs, but it is another process than the one that took the lock');
        assert.match(reused.reason, /another process/);
      }
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('on another host: by its heartbeat against the stated bound', () => {
    const remote = { host: 'not-' + hostname(), pid: spawnSync(process.execPath, ['-e', '']).pid, instance: 'x', started: null };
    assert.equal(judgeLock(lock(remote, ago(LOCK_STALE_MS - 5000))).stale, false);
    const old = judgeLock(lock(remote, ago(LOCK_STALE_MS + 5000)));
    assert.equal(old.stale, true);
    assert.match(old.reason, /no heartbeat/);
  });

  it('a lock taken before locks had owners is stale', () => {
    assert.equal(judgeLock(lock({ host: '', pid: 0, instance: 'before-0007', started: null }, new Date(0).toISOString())).stale, true);
  });
});
