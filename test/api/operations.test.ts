import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import type { Engine } from '../../src/engine/engine.js';
import { OperationsStore, RECENT_MS, type Operation } from '../../src/store/operations-store.js';
import { serverDb } from '../../src/store/server-schema.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';
import { holdLock } from '../support/locks.js';

const SAMPLE = { objects: 5000, seed: 'ops' };

/** Everything in an environment, comparable. */
async function snapshot(engine: Engine, envId: string) {
  const env = await engine.getEnvironment(envId);
  const { items, total } = await engine.listObjects(envId, { limit: 100_000 });
  return {
    version: env.version,
    lockedBy: env.lockedBy,
    total,
    hashes: items
      .map((o) => `${o.type}:${o.id}:${o.hash}`)
      .sort()
      .join('\n'),
  };
}

function operation(over: Partial<Operation> & Pick<Operation, 'kind' | 'params'>): Operation {
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    status: 'RUNNING',
    progress: 40,
    message: 'running',
    environmentId: null,
    subject: null,
    result: null,
    error: null,
    createdBy: 'admin',
    address: null,
    server: 'elsewhere',
    worker: null,
    attempts: 1,
    cancelRequested: false,
    createdAt: at,
    startedAt: at,
    finishedAt: null,
    updatedAt: at,
    heartbeatAt: at,
    ...over,
  };
}

/**
 * Whether the server on that database runs again an operation whose process
 * died before it wrote anything (an install whose one transaction never
 * committed): pg-boss delivery on PostgreSQL does; the embedded SQLite server
 * fails it visibly and the user installs again.
 */
const RETRIES_UNWRITTEN: Record<string, boolean> = { sqlite: false, postgres: true };

for (const dialect of DIALECTS) {
  describe(`operations on ${dialect}`, () => {
    let t: TestEngine;
    let s: TestServer;
    let pkg = '';

    before(async () => {
      t = await openTestEngine(dialect);
      s = await openTestServer(dialect, { engine: t });
      for (const [id, tier] of [
        ['big-dev', 'development'],
        ['big-test', 'testing'],
      ] as const) {
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: id, tier })).status, 201);
      }
      await t.engine.loadObjects('big-dev', [...generateSample(SAMPLE)]);
      const byType = new Map<string, { ID: string }[]>();
      for (const x of sampleSelection(SAMPLE)) byType.set(x.type, [...(byType.get(x.type) ?? []), { ID: x.id }]);
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'big-dev',
        name: 'Big',
        objectCollections: [...byType].map(([objCode, entities]) => ({ objCode, entities })),
      });
      assert.equal(r.status, 202, r.text);
      pkg = r.body.package.id;
      const op = await s.waitOp(ADMIN_KEY, r.body.operation.id, 120_000);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
      assert.ok((op.result as { entityCount: number }).entityCount > 4000, 'a big package');
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkg}`, { status: 'TESTING' })).status, 200);
    });
    after(async () => {
      await s.cleanup();
      await t.cleanup();
    });

    async function prepared(): Promise<string> {
      const plan = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/plans`, { targetEnvId: 'big-test' });
      assert.equal(plan.status, 201, plan.text);
      assert.equal(plan.body.installation.summary.invalid, 0);
      return plan.body.installation.id as string;
    }

    it('cancelling a running install rolls it back: the target is exactly as it was', async () => {
      const before = await snapshot(t.engine, 'big-test');
      const inst = await prepared();
      const runner = s.app.ferry.runner;
      let cancelledAt = -1;
      const onProgress = (op: Operation) => {
        // Cancel once the install has written its first batch: mid-transaction.
        if (op.kind === 'install' && op.subject === inst && op.progress > 0 && cancelledAt < 0) {
          cancelledAt = op.progress;
          runner.cancel(op.id).catch(() => {});
        }
      };
      runner.on('progress', onProgress);
      try {
        const r = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${inst}/install`);
        assert.equal(r.status, 202);
        const op = await s.waitOp(ADMIN_KEY, r.body.operation.id, 120_000);
        assert.ok(cancelledAt > 0 && cancelledAt < 100, `cancelled mid-way (at ${cancelledAt}%)`);
        assert.equal(op.status, 'CANCELLED', JSON.stringify(op));
        assert.equal(op.error?.code, 'CANCELLED');
      } finally {
        runner.off('progress', onProgress);
      }
      assert.deepEqual(await snapshot(t.engine, 'big-test'), before);
      const after = await s.call(ADMIN_KEY, 'GET', `/api/v1/installations/${inst}?entries=false`);
      assert.equal(after.body.installation.status, 'FAILED');
      assert.match(after.body.installation.error, /cancel/);
    });

    it('reports progress that only goes up, and ends at 100 with a result', async () => {
      const inst = await prepared();
      const seen: number[] = [];
      const onProgress = (op: Operation) => {
        if (op.subject === inst) seen.push(op.progress);
      };
      s.app.ferry.runner.on('progress', onProgress);
      try {
        const r = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${inst}/install`);
        const op = await s.waitOp(ADMIN_KEY, r.body.operation.id, 120_000);
        assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
        assert.equal(op.progress, 100);
        assert.ok(seen.length >= 2, `progress reported ${seen.length} times`);
        assert.deepEqual(
          seen,
          [...seen].sort((a, b) => a - b),
          'monotonic',
        );
        assert.ok((op.result as { counts: { INSTALLED: number } }).counts.INSTALLED > 4000, 'installed');
        assert.ok(op.startedAt! <= op.finishedAt!, 'timestamps');
      } finally {
        s.app.ferry.runner.off('progress', onProgress);
      }
      const again = await s.call(
        ADMIN_KEY,
        'POST',
        `/api/v1/operations/${(await s.call(ADMIN_KEY, 'GET', '/api/v1/operations?kind=install&status=COMPLETED')).body.items[0].id}/cancel`,
      );
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'OPERATION_FINISHED');
    });

    it('lists operations newest first, by kind, status and environment', async () => {
      const all = await s.call(ADMIN_KEY, 'GET', '/api/v1/operations?limit=100');
      assert.equal(all.status, 200);
      assert.ok(all.body.total >= 3, 'several operations');
      const times = all.body.items.map((o: Operation) => o.createdAt);
      assert.deepEqual(times, [...times].sort().reverse());
      const installs = await s.call(ADMIN_KEY, 'GET', '/api/v1/operations?kind=install&environmentId=big-test');
      assert.ok(
        installs.body.items.every((o: Operation) => o.kind === 'install' && o.environmentId === 'big-test'),
        'filtered',
      );
      const cancelled = await s.call(ADMIN_KEY, 'GET', '/api/v1/operations?status=CANCELLED');
      assert.equal(cancelled.body.total, 1);
      const m = await s.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(m.body, /ferry_operations\{kind="install",status="CANCELLED"\} 1/);
      assert.match(m.body, /ferry_operations_finished_total\{kind="install",status="CANCELLED"\} 1/);
    });

    /** An engine of its own, so the main server's worker never claims what these tests queue. */
    async function smallWorld(): Promise<{ own: TestEngine; pkgId: string }> {
      const own = await openTestEngine(dialect);
      await own.engine.createEnvironment({ id: 'dev', name: 'Dev', tier: 'development' });
      await own.engine.loadObjects('dev', [
        { type: 'GROUP', id: 'g1', name: 'Group', fields: {} },
        { type: 'TMPL', id: 't1', name: 'Template', fields: { groupID: 'g1' } },
      ]);
      const p = await own.engine.createPackage({ sourceEnvId: 'dev', name: 'Small', selection: [{ type: 'TMPL', id: 't1' }] });
      return { own, pkgId: p.id };
    }

    it('a queued operation is cancelled at once; the package it would have assembled says so', async () => {
      const { own } = await smallWorld();
      const idle = await openTestServer(dialect, { engine: own, config: { workers: 0 } });
      try {
        const r = await idle.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
          sourceEnvId: 'dev',
          name: 'Never',
          objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 't1' }] }],
        });
        assert.equal(r.status, 202);
        assert.equal(r.body.operation.status, 'QUEUED');
        const c = await idle.call(ADMIN_KEY, 'POST', `/api/v1/operations/${r.body.operation.id}/cancel`);
        assert.equal(c.status, 200, c.text);
        assert.equal(c.body.status, 'CANCELLED');
        const p = await idle.call(ADMIN_KEY, 'GET', `/api/v1/packages/${r.body.package.id}`);
        assert.equal(p.body.status, 'ASSEMBLING_FAILED');
        assert.match(p.body.assemblyError, /cancelled/);
        assert.equal((await idle.call(ADMIN_KEY, 'POST', `/api/v1/operations/${r.body.operation.id}/cancel`)).status, 409);
      } finally {
        await idle.cleanup();
        await own.cleanup();
      }
    });

    it('a stopping server takes no new operation and loses none: a queued one runs after the restart', async () => {
      const { own, pkgId } = await smallWorld();
      try {
        const first = await openTestServer(dialect, { engine: own, config: { workers: 0 } });
        const r = await first.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkgId}/export`);
        assert.equal(r.status, 202);
        await first.app.close();
        assert.equal(first.app.ferry.runner.accepting, false);
        await assert.rejects(
          first.app.ferry.runner.submit({ kind: 'package.export', environmentId: null, params: {}, createdBy: null }),
          (e: Error & { code?: string }) => e.code === 'SHUTTING_DOWN',
        );
        assert.equal((await new OperationsStore(own.engine.store).get(r.body.operation.id))?.status, 'QUEUED');

        const second = await openTestServer(dialect, { engine: own });
        try {
          const op = await second.waitOp(ADMIN_KEY, r.body.operation.id, 60_000);
          assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
        } finally {
          await second.cleanup();
        }
      } finally {
        await own.cleanup();
      }
    });

    it('at start, operations of dead servers are failed visibly (install: lock released) or re-queued (assembly)', async () => {
      const ops = new OperationsStore(t.engine.store);
      // A worker on this host whose process is gone...
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const inst = await prepared();
      const owner = { host: hostname(), pid: dead, instance: 'gone', started: null };
      assert.ok(await holdLock(t.engine.store, 'big-test', inst, { owner }), 'the dead install held the lock');
      const install = operation({
        kind: 'install',
        params: { installationId: inst },
        environmentId: 'big-test',
        subject: inst,
        server: hostname(),
        worker: `${hostname()}:${dead}:gone`,
      });
      // ...a worker on another host that stopped beating an hour ago...
      const started = await t.engine.startPackage({ sourceEnvId: 'big-dev', name: 'Interrupted', selection: [sampleSelection(SAMPLE)[0]!] });
      const hourAgo = new Date(Date.now() - 3600_000).toISOString();
      const assemble = operation({
        kind: 'package.assemble',
        params: { packageId: started.id, selection: [sampleSelection(SAMPLE)[0]!] },
        environmentId: 'big-dev',
        subject: started.id,
        worker: 'elsewhere:1:x',
        heartbeatAt: hourAgo,
      });
      // ...and one on another host that is alive: left alone.
      const alive = operation({
        kind: 'package.export',
        params: { packageId: pkg },
        environmentId: 'big-dev',
        worker: 'elsewhere:2:y',
        heartbeatAt: new Date(Date.now() + 3600_000).toISOString(),
      });
      for (const op of [install, assemble, alive]) await ops.insert(op);

      // A minute before a silent worker on another host counts as dead: the live one stays live however long this takes.
      const restarted = await openTestServer(dialect, { engine: t, worker: { staleMs: 60_000 } });
      try {
        if (RETRIES_UNWRITTEN[dialect]) {
          // pg-boss delivery: the install wrote nothing (one transaction), so it runs again from its start, the dead run's lock released first.
          const retried = await restarted.waitOp(ADMIN_KEY, install.id, 120_000);
          assert.equal(retried.status, 'COMPLETED', JSON.stringify(retried));
          assert.equal(retried.attempts, 2);
          assert.equal((await t.engine.getInstallation(inst)).status, 'COMPLETED');
          assert.equal((await t.engine.getEnvironment('big-test')).lockedBy, null);
        } else {
          const failed = await restarted.waitOp(ADMIN_KEY, install.id);
          assert.equal(failed.status, 'FAILED');
          assert.equal(failed.error?.code, 'SERVER_STOPPED');
          assert.match(failed.message, /stopped while this ran.*nothing was written/);
          assert.equal((await t.engine.getEnvironment('big-test')).lockedBy, null);
          // The plan is still PREPARED: install it again.
          const again = await restarted.call(ADMIN_KEY, 'POST', `/api/v1/installations/${inst}/install`);
          assert.equal(again.status, 202, again.text);
          assert.equal((await restarted.waitOp(ADMIN_KEY, again.body.operation.id, 120_000)).status, 'COMPLETED');
        }

        const resumed = await restarted.waitOp(ADMIN_KEY, assemble.id);
        assert.equal(resumed.status, 'COMPLETED', JSON.stringify(resumed));
        assert.equal(resumed.attempts, 2);
        assert.equal((await t.engine.getPackage(started.id)).status, 'DRAFT');

        assert.equal((await ops.get(alive.id))?.status, 'RUNNING');
      } finally {
        await restarted.cleanup();
      }
    });

    it('at start, an install that committed just before its server died is reported as it really ended, from the installation', async () => {
      // A small promotion of its own, installed for real: the rows below are
      // what a server killed between the install's commit and the operation's
      // finish leaves (the operation RUNNING, the install lock still held).
      const e = t.engine;
      await e.createEnvironment({ id: 'rec-dev', name: 'rec-dev', tier: 'development' });
      await e.createEnvironment({ id: 'rec-test', name: 'rec-test', tier: 'testing' });
      await e.loadObjects('rec-dev', [
        { type: 'GROUP', id: 'g1', name: 'Group one', fields: {} },
        { type: 'TMPL', id: 't1', name: 'Template one', fields: { groupID: 'g1' } },
      ]);
      const p = await e.createPackage({ sourceEnvId: 'rec-dev', name: 'Recovered', selection: [{ type: 'TMPL', id: 't1' }] });
      await e.setPackageStatus(p.id, 'TESTING');
      const committed = (await e.prepare(p.id, 'rec-test')).installation.id;
      await e.install(committed);
      const imported = (await e.prepare(p.id, 'rec-test', { force: true })).installation.id;
      await e.install(imported);
      const never = (await e.prepare(p.id, 'rec-test')).installation.id;
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const owner = { host: hostname(), pid: dead, instance: 'gone', started: null };
      assert.ok(await holdLock(e.store, 'rec-test', committed, { owner }), 'the killed install still held the lock');
      const after = await snapshot(e, 'rec-test');

      const ops = new OperationsStore(e.store);
      const killed = { server: hostname(), worker: `${hostname()}:${dead}:gone` };
      const install = operation({ kind: 'install', params: { installationId: committed }, environmentId: 'rec-test', subject: committed, ...killed });
      const importOp = operation({
        kind: 'bundle.import',
        params: { fileId: 'f', targetEnvId: 'rec-test', dryRun: false, overrides: [], force: false },
        environmentId: 'rec-test',
        subject: imported,
        ...killed,
      });
      const notStarted = operation({ kind: 'install', params: { installationId: never }, environmentId: 'rec-test', subject: never, ...killed });
      for (const op of [install, importOp, notStarted]) await ops.insert(op);

      const restarted = await openTestServer(dialect, { engine: t });
      try {
        const done = await restarted.waitOp(ADMIN_KEY, install.id);
        assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
        assert.equal(done.progress, 100);
        assert.equal(done.error, null);
        assert.match(done.message, /completed: the install committed before the server .* stopped/);
        const result = done.result as { installationId: string; status: string; counts: Record<string, number> };
        assert.equal(result.installationId, committed);
        assert.equal(result.status, 'COMPLETED');
        assert.deepEqual(result.counts, { INSTALLED: 2 });

        const imp = await restarted.waitOp(ADMIN_KEY, importOp.id);
        assert.equal(imp.status, 'COMPLETED', JSON.stringify(imp));
        assert.equal((imp.result as { installationId: string; status: string }).installationId, imported);

        const failed = await restarted.waitOp(ADMIN_KEY, notStarted.id);
        if (RETRIES_UNWRITTEN[dialect]) {
          // pg-boss delivery: an install that never committed runs again (the same package again: nothing changes but the versions).
          assert.equal(failed.status, 'COMPLETED', JSON.stringify(failed));
          assert.equal(failed.attempts, 2);
          assert.equal((await e.getInstallation(never)).status, 'COMPLETED');
          assert.equal((await e.getEnvironment('rec-test')).lockedBy, null);
        } else {
          assert.equal(failed.status, 'FAILED');
          assert.match(failed.message, /nothing was written/);
          // The lock the dead install held is released; the target is the installed state.
          assert.deepEqual(await snapshot(e, 'rec-test'), { ...after, lockedBy: null });
        }
      } finally {
        await restarted.cleanup();
      }
    });

    it('at start, a clone that committed just before its server died completes with its copy, not "already exists"', async () => {
      const e = t.engine;
      await e.createEnvironment({ id: 'cl-dev', name: 'cl-dev', tier: 'development' });
      await e.loadObjects('cl-dev', [{ type: 'GROUP', id: 'g1', name: 'Group one', fields: {} }]);
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      const killed = { server: hostname(), worker: `${hostname()}:${dead}:gone` };
      const clone = (id: string) =>
        operation({ kind: 'environment.clone', params: { input: { id, name: id, tier: 'testing', cloneFrom: 'cl-dev' } }, environmentId: id, ...killed });
      // One clone's transaction committed before the kill (the copy is there), the other's never did.
      const committed = clone('cl-copy');
      const never = clone('cl-never');
      await e.createEnvironment(committed.params.input as { id: string; name: string; tier: string; cloneFrom: string });
      const ops = new OperationsStore(e.store);
      for (const op of [committed, never]) await ops.insert(op);

      const restarted = await openTestServer(dialect, { engine: t });
      try {
        for (const op of [committed, never]) {
          const done = await restarted.waitOp(ADMIN_KEY, op.id);
          assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
          assert.equal((done.result as { environment: { id: string } }).environment.id, op.environmentId);
          assert.equal((await e.listObjects(op.environmentId!, {})).total, (await e.listObjects('cl-dev', {})).total);
        }
      } finally {
        await restarted.cleanup();
      }
    });

    it('the worker claims an operation once even when two workers race for it', async () => {
      const ops = new OperationsStore(t.engine.store);
      const op = operation({
        kind: 'package.export',
        params: { packageId: pkg },
        status: 'QUEUED',
        worker: null,
        startedAt: null,
        heartbeatAt: null,
        attempts: 0,
      });
      await ops.insert(op);
      const wins = await Promise.all([ops.claim(op.id, 'w1', 'h', new Date().toISOString()), ops.claim(op.id, 'w2', 'h', new Date().toISOString())]);
      assert.deepEqual(wins.filter(Boolean).length, 1);
      await ops.recover(op.id, (await ops.get(op.id))!.worker, { status: 'FAILED', message: 'test', at: new Date().toISOString() });
    });

    it("a poll of a running operation sees this process's writes at once and another process's within RECENT_MS", async () => {
      const routes = new OperationsStore(t.engine.store);
      const worker = new OperationsStore(t.engine.store);
      const op = operation({
        kind: 'package.export',
        params: { packageId: pkg },
        status: 'QUEUED',
        worker: null,
        startedAt: null,
        heartbeatAt: null,
        attempts: 0,
      });
      await routes.insert(op);
      assert.equal((await routes.get(op.id))!.status, 'QUEUED');
      // The worker of this process writes through its own OperationsStore: the routes' copy is dropped.
      const at = new Date().toISOString();
      assert.equal(await worker.claim(op.id, 'w1', 'h', at), true);
      assert.equal((await routes.get(op.id))!.status, 'RUNNING');
      await worker.progress(op.id, 40, 'half way', at);
      assert.deepEqual([(await routes.get(op.id))!.progress, (await routes.get(op.id))!.message], [40, 'half way']);
      // A write by another process (straight to the database here) shows once RECENT_MS has passed.
      await serverDb(t.engine.store).updateTable('operations').set({ progress: 70 }).where('id', '=', op.id).execute();
      await new Promise((r) => setTimeout(r, RECENT_MS + 50));
      assert.equal((await routes.get(op.id))!.progress, 70);
      await worker.recover(op.id, 'w1', { status: 'FAILED', message: 'test', at: new Date().toISOString() });
      assert.equal((await routes.get(op.id))!.status, 'FAILED');
    });
  });
}
