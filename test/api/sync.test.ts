// Environment sync (002) on the native API: sync, compare, a clone as an
// operation, and who may force a push to a lower tier.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

const DEV = [
  { type: 'GROUP', id: 'g1', name: 'Default Group', fields: {} },
  { type: 'ROLE', id: 'r1', name: 'Designer', fields: {} },
  { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1', description: 'v1' } },
  { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } },
];

for (const dialect of DIALECTS) {
  describe(`native sync and compare on ${dialect}`, () => {
    let s: TestServer;
    let pat = '';
    let viewer = '';
    before(async () => {
      s = await openTestServer(dialect);
      for (const [id, tier] of [
        ['dev', 'development'],
        ['prod', 'production'],
      ])
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: id, tier })).status, 201);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', DEV)).status, 200);
      pat = await s.user('pat', { dev: 'promoter', prod: 'promoter' });
      viewer = await s.user('vic', { dev: 'viewer', prod: 'viewer' });
    });
    after(async () => s.cleanup());

    it('clones as an operation when asked to (Prefer: respond-async), reporting progress; the clone is ready when it completes', async () => {
      const cloneAsync = (id: string, name: string) =>
        s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name, tier: 'testing', cloneFrom: 'dev' }, { prefer: 'respond-async' });
      const r = await cloneAsync('test', 'Test');
      assert.equal(r.status, 202, r.text);
      assert.equal(r.headers.location, `/api/v1/operations/${r.body.operation.id}`);
      const op = await s.waitOp(ADMIN_KEY, r.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
      assert.equal(op.progress, 100);
      assert.equal((op.result as { environment: { clonedFrom: string } }).environment.clonedFrom, 'dev');
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/test/objects')).body.total, 4);
      // Refusals a clone would meet are answered at once, not queued.
      const taken = await cloneAsync('test', 'Again');
      assert.equal(taken.status, 409);
      await s.call(ADMIN_KEY, 'PATCH', '/api/v1/users/pat', { roles: { dev: 'promoter', prod: 'promoter', test: 'promoter' } });
      await s.call(ADMIN_KEY, 'PATCH', '/api/v1/users/vic', { roles: { dev: 'viewer', prod: 'viewer', test: 'viewer' } });
    });

    it('syncs an edit, and compare says which side is ahead before and after', async () => {
      await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/dev/objects/TMPL/t1', { name: 'Onboarding', fields: { groupID: 'g1', description: 'v2' } });
      const before = await s.call(viewer, 'GET', '/api/v1/environments/dev/compare/test');
      assert.equal(before.status, 200, before.text);
      assert.deepEqual(before.body.summary, { same: 3, differs: 1, aheadInA: 1, aheadInB: 0, aheadInBoth: 0, onlyInA: 0, onlyInB: 0 });
      assert.deepEqual(
        before.body.items.map((i: { id: string; ahead: string; basis: string; changes: string[] }) => [i.id, i.ahead, i.basis, i.changes]),
        [['t1', 'a', 'sync', ['description']]],
      );
      assert.equal((await s.call(viewer, 'POST', '/api/v1/environments/dev/sync/test', {})).status, 403, 'a viewer of the target may not sync into it');
      const r = await s.call(pat, 'POST', '/api/v1/environments/dev/sync/test', { select: ['TMPL:t1'] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.summary, { created: 0, updated: 1, unchanged: 3, conflict: 0, drift: 0 });
      assert.equal(r.body.installation.status, 'COMPLETED');
      const after = await s.call(viewer, 'GET', '/api/v1/environments/dev/compare/test?all=true&type=tmpl');
      assert.deepEqual(after.body.summary.same, 1);
      assert.equal(after.body.items[0].status, 'same');
      assert.equal((await s.call(viewer, 'GET', '/api/v1/environments/dev/compare/nowhere')).status, 404);
      assert.equal((await s.call(viewer, 'GET', '/api/v1/environments/dev/compare/test?type=NOPE')).status, 400);
    });

    it('refuses a sync or a promotion down from production (409, both tiers named); only an admin of the target may force it', async () => {
      await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/prod/objects', [{ type: 'ROLE', id: 'r9', name: 'Auditor', fields: {} }]);
      const refused = await s.call(pat, 'POST', '/api/v1/environments/prod/sync/dev', {});
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'PUSH_ONE_WAY');
      assert.match(refused.body.message, /production.*development/);
      assert.equal((await s.call(pat, 'POST', '/api/v1/environments/prod/sync/dev', { force: true })).status, 403);
      const forced = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/prod/sync/dev', { force: true, dryRun: true });
      assert.equal(forced.status, 200, forced.text);
      assert.equal(forced.body.results[0].result, 'created');

      const pkg = await s.call(pat, 'POST', '/api/v1/packages', {
        sourceEnvId: 'prod',
        name: 'Down',
        objectCollections: [{ objCode: 'ROLE', entities: [{ ID: 'r9' }] }],
      });
      await s.waitOp(pat, pkg.body.operation.id);
      await s.call(pat, 'PATCH', `/api/v1/packages/${pkg.body.package.id}`, { status: 'ACTIVE' });
      const plan = await s.call(pat, 'POST', `/api/v1/packages/${pkg.body.package.id}/plans`, { targetEnvId: 'dev' });
      assert.equal(plan.body.code, 'PUSH_ONE_WAY');
      assert.match(plan.body.message, /production and the target is development/);
      const forcedPlan = await s.call(pat, 'POST', `/api/v1/packages/${pkg.body.package.id}/plans`, { targetEnvId: 'dev', force: true });
      assert.equal(forcedPlan.status, 403);
      assert.match(forcedPlan.body.message, /admin role on environment dev/);
    });

    it('refuses bad requests with a 400 naming the problem', async () => {
      assert.equal((await s.call(pat, 'POST', '/api/v1/environments/dev/sync/test', { select: ['NOPE:x'] })).status, 400);
      assert.equal((await s.call(pat, 'POST', '/api/v1/environments/dev/sync/test', { select: ['TMPL:missing'] })).status, 400);
      assert.equal((await s.call(pat, 'POST', '/api/v1/environments/dev/sync/dev', {})).status, 400);
      assert.equal((await s.call(pat, 'POST', '/api/v1/environments/dev/sync/test', { dryRun: 'yes' })).status, 400);
    });
  });
}

describe('a clone of a big environment runs as an operation', () => {
  let s: TestServer;
  before(async () => {
    s = await openTestServer('sqlite');
  });
  after(async () => s.cleanup());

  it('answers 202 over 10 000 objects, without being asked', async () => {
    await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'big', name: 'Big', tier: 'development' });
    const roles = Array.from({ length: 10_001 }, (_, i) => ({ type: 'ROLE', id: `r${i}`, name: `Role ${i}`, fields: {} }));
    await s.t.engine.loadObjects('big', roles);
    const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'big2', name: 'Big 2', tier: 'testing', cloneFrom: 'big' });
    assert.equal(r.status, 202, r.text);
    assert.match(r.body.operation.message, /10001 objects/);
    assert.equal((await s.waitOp(ADMIN_KEY, r.body.operation.id)).status, 'COMPLETED');
    assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/big2/objects?limit=1')).body.total, 10_001);
  });
});
