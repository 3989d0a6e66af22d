import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

const DEV_OBJECTS = [
  { type: 'GROUP', id: 'g1', name: 'Default Group', fields: {} },
  { type: 'ROLE', id: 'r1', name: 'Designer', fields: {} },
  { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1', description: 'at ${site}' } },
  { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } },
  { type: 'TTSK', id: 'k2', name: 'Review', fields: { templateID: 't1', roleID: 'r1' } },
];

/** The routes beyond the promotion path: environments, package edits, plan overrides, files, users. */
for (const dialect of DIALECTS) {
  describe(`native API routes on ${dialect}`, () => {
    let s: TestServer;
    let pkg = '';

    before(async () => {
      s = await openTestServer(dialect);
    });
    after(async () => s.cleanup());

    it('environments: create, clone (same ids), hosts, parameters, tier, delete only when empty', async () => {
      const dev = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', {
        id: 'dev',
        name: 'Dev',
        tier: 'development',
        hosts: ['Dev.Example.Test'],
        parameters: { site: 'dev.example.test' },
      });
      assert.equal(dev.status, 201);
      assert.deepEqual(dev.body.hosts, ['dev.example.test']);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', DEV_OBJECTS)).status, 200);
      const clone = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'test', name: 'Test', tier: 'testing', cloneFrom: 'dev' });
      assert.equal(clone.status, 201);
      assert.equal(clone.body.clonedFrom, 'dev');
      const objs = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/test/objects?limit=10');
      assert.deepEqual(objs.body.items.map((o: { id: string }) => o.id).sort(), ['g1', 'k1', 'k2', 'r1', 't1']);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'dev', name: 'Again', tier: 'development' })).status, 409);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'x', name: 'X', tier: 'testing', cloneFrom: 'nope' })).status, 400);

      const prod = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'prod', name: 'Prod', tier: 'production' });
      assert.equal(prod.status, 201);
      const taken = await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { hosts: ['dev.example.test'] });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.code, 'HOST_TAKEN');
      const p1 = await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', {
        hosts: ['prod.example.test'],
        parameters: { site: 'prod.example.test', a: '1' },
      });
      assert.equal(p1.status, 200);
      const p2 = await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { mergeParameters: { b: '2' }, targetOwned: { TMPL: ['description'] } });
      assert.deepEqual(p2.body.parameters, { site: 'prod.example.test', a: '1', b: '2' });
      assert.deepEqual(p2.body.targetOwned, { TMPL: ['description'] });
      assert.ok(p2.body.version > prod.body.version, 'every change bumps the version');
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { targetOwned: {} })).status, 200);

      const empty = await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'scratch', name: 'Scratch', tier: 'preview' });
      assert.equal(empty.status, 201);
      const k = await s.user('scratcher', { scratch: 'admin' });
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/environments/test')).body.code, 'ENVIRONMENT_NOT_EMPTY');
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/environments/scratch')).status, 204);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/scratch')).status, 404);
      assert.deepEqual((await s.call(ADMIN_KEY, 'GET', '/api/v1/users/scratcher')).body.roles, {}, 'roles on a deleted environment go with it');
      assert.equal((await s.call(k, 'GET', '/api/v1/environments')).body.total, 0);
    });

    it('objects: put, get, delete one; 404 for one that is not there', async () => {
      const put = await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/dev/objects/group/g9', { name: 'Nine', fields: { description: 'd' } });
      assert.equal(put.status, 200);
      assert.equal(put.body.type, 'GROUP');
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/GROUP/g9')).body.fields.description, 'd');
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/environments/dev/objects/GROUP/g9')).status, 204);
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/environments/dev/objects/GROUP/g9')).status, 404);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/dev/objects/NOTATYPE/x')).status, 404);
    });

    it('packages: edit details, removals and entities (each bumps the version), re-assemble, list by source and status', async () => {
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'Edit me',
        objectCollections: [{ objCode: 'tmpl', entities: [{ ID: 't1', name: 'Onboarding' }] }],
      });
      assert.equal((await s.waitOp(ADMIN_KEY, r.body.operation.id)).status, 'COMPLETED');
      pkg = r.body.package.id;
      const p0 = (await s.call(ADMIN_KEY, 'GET', `/api/v1/packages/${pkg}`)).body;
      assert.equal(p0.entityCount, 5);
      const named = await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkg}`, { name: 'Edited', description: 'new words' });
      assert.equal(named.body.name, 'Edited');
      assert.equal(named.body.version, p0.version, 'details do not change the content');
      const rem = await s.call(ADMIN_KEY, 'PUT', `/api/v1/packages/${pkg}/removals`, { removals: [{ type: 'group', id: 'gone' }] });
      assert.equal(rem.status, 200);
      assert.deepEqual(rem.body.removals, [{ type: 'GROUP', id: 'gone' }]);
      assert.equal(rem.body.version, p0.version + 1);
      const ents = await s.call(ADMIN_KEY, 'PUT', `/api/v1/packages/${pkg}/entities`, DEV_OBJECTS.slice(0, 3));
      assert.equal(ents.status, 200, ents.text);
      assert.equal(ents.body.entityCount, 3);
      assert.equal(ents.body.version, p0.version + 2);
      const again = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/assemble`);
      assert.equal(again.status, 202);
      assert.equal((await s.waitOp(ADMIN_KEY, again.body.operation.id)).status, 'COMPLETED');
      const p3 = (await s.call(ADMIN_KEY, 'GET', `/api/v1/packages/${pkg}`)).body;
      assert.equal(p3.entityCount, 5);
      assert.ok(p3.version > p0.version + 2, 're-assembly bumps the version');
      assert.equal((await s.call(ADMIN_KEY, 'PUT', `/api/v1/packages/${pkg}/removals`, { removals: [] })).status, 200);
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkg}`, { status: 'ASSEMBLING' })).status, 400);
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${pkg}`, { status: 'TESTING' })).body.status, 'TESTING');
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/packages?sourceEnvId=dev&status=TESTING')).body.total, 1);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/packages?status=ACTIVE')).body.total, 0);
    });

    it('a failed assembly is a FAILED operation and an ASSEMBLING_FAILED package with the reason', async () => {
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'Broken',
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'no-such-template' }] }],
      });
      assert.equal(r.status, 202);
      const op = await s.waitOp(ADMIN_KEY, r.body.operation.id);
      assert.equal(op.status, 'FAILED');
      assert.equal(op.error?.code, 'ASSEMBLING_FAILED');
      const p = await s.call(ADMIN_KEY, 'GET', `/api/v1/packages/${r.body.package.id}`);
      assert.equal(p.body.status, 'ASSEMBLING_FAILED');
      assert.ok(p.body.assemblyError, 'a reason');
      assert.equal((await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${r.body.package.id}/export`)).status, 409);
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', `/api/v1/packages/${r.body.package.id}`)).status, 204);
      assert.equal((await s.call(ADMIN_KEY, 'GET', `/api/v1/packages/${r.body.package.id}`)).status, 404);
    });

    it('plans: overrides at prepare and afterwards, invalid entries block the install, one-way push', async () => {
      const plan = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/plans`, {
        targetEnvId: 'test',
        overrides: [{ type: 'TTSK', sourceId: 'k2', action: 'IGNORE' }],
      });
      assert.equal(plan.status, 201, plan.text);
      const k2 = plan.body.entries.find((e: { sourceId: string }) => e.sourceId === 'k2');
      assert.equal(k2.action, 'IGNORE');
      // IGNORE the template while its tasks stay: invalid, and the install is refused.
      const bad = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/revalidate`, {
        overrides: [{ type: 'TMPL', sourceId: 't1', action: 'IGNORE' }],
      });
      assert.equal(bad.status, 200);
      assert.ok(bad.body.installation.summary.invalid > 0, 'invalid entries');
      const invalid = await s.call(ADMIN_KEY, 'GET', `/api/v1/installations/${plan.body.installation.id}/entries?invalid=true`);
      assert.ok(
        invalid.body.items.every((e: { isValid: boolean; reason: string }) => !e.isValid && e.reason),
        'invalid entries have reasons',
      );
      const refused = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'PLAN_INVALID');
      const fixed = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/revalidate`, {
        overrides: [{ type: 'TMPL', sourceId: 't1', action: 'USEEXISTING' }],
      });
      assert.equal(fixed.body.installation.summary.invalid, 0);
      assert.equal(fixed.body.entries.find((e: { sourceId: string }) => e.sourceId === 'k2').action, 'IGNORE', 'earlier overrides stay');
      assert.equal(
        (
          await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/revalidate`, {
            overrides: [{ type: 'TTSK', sourceId: 'nope', action: 'IGNORE' }],
          })
        ).status,
        400,
      );
      const ok = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`);
      assert.equal(ok.status, 202);
      assert.equal((await s.waitOp(ADMIN_KEY, ok.body.operation.id)).status, 'COMPLETED');
      const entries = await s.call(ADMIN_KEY, 'GET', `/api/v1/installations/${plan.body.installation.id}/entries?installationStatus=SKIPPED`);
      assert.deepEqual(
        entries.body.items.map((e: { sourceId: string }) => e.sourceId),
        ['k2'],
      );
      // Installed once: a second install of the same plan is refused.
      assert.equal((await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`)).body.code, 'NOT_PREPARED');

      // Push one-way: a package from production may not go down to testing unless forced.
      const pp = await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/prod/objects/GROUP/pg', { name: 'Prod group' });
      assert.equal(pp.status, 200);
      const down = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'prod',
        name: 'Down',
        objectCollections: [{ objCode: 'GROUP', entities: [{ ID: 'pg' }] }],
      });
      await s.waitOp(ADMIN_KEY, down.body.operation.id);
      const refusedDown = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${down.body.package.id}/plans`, { targetEnvId: 'test' });
      assert.equal(refusedDown.status, 409);
      assert.equal(refusedDown.body.code, 'PUSH_ONE_WAY');
      assert.equal((await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${down.body.package.id}/plans`, { targetEnvId: 'test', force: true })).status, 201);
    });

    it('a plan prepared before the target changed is refused at install (stale)', async () => {
      const plan = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/plans`, { targetEnvId: 'test' });
      assert.equal((await s.call(ADMIN_KEY, 'PUT', '/api/v1/environments/test/objects/GROUP/moved', { name: 'Moved' })).status, 200);
      const r = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`);
      assert.equal(r.status, 409);
      assert.equal(r.body.code, 'STALE_PLAN');
    });

    it('deleting a package discards its prepared plans, keeps its installed history', async () => {
      const made = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'Short-lived',
        objectCollections: [{ objCode: 'GROUP', entities: [{ ID: 'g1' }] }],
      });
      assert.equal(made.status, 202, made.text);
      assert.equal((await s.waitOp(ADMIN_KEY, made.body.operation.id)).status, 'COMPLETED');
      const id = made.body.package.id;
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${id}`, { status: 'TESTING' })).status, 200);
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${id}`, { status: 'ACTIVE' })).status, 200);
      const installed = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${id}/plans`, { targetEnvId: 'test' });
      assert.equal(installed.status, 201, installed.text);
      const run = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${installed.body.installation.id}/install`);
      assert.equal(run.status, 202, run.text);
      assert.equal((await s.waitOp(ADMIN_KEY, run.body.operation.id)).status, 'COMPLETED');
      const prepared = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${id}/plans`, { targetEnvId: 'prod' });
      assert.equal(prepared.status, 201, prepared.text);
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', `/api/v1/packages/${id}`)).status, 204);
      // The plan is gone with its package: no install of it can fail later on "package not found".
      assert.equal((await s.call(ADMIN_KEY, 'GET', `/api/v1/installations/${prepared.body.installation.id}`)).status, 404);
      const late = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${prepared.body.installation.id}/install`);
      assert.equal(late.status, 404);
      assert.doesNotMatch(late.body.message, /package/i);
      // What was installed stays on record.
      const kept = await s.call(ADMIN_KEY, 'GET', `/api/v1/installations/${installed.body.installation.id}`);
      assert.equal(kept.status, 200);
      assert.equal(kept.body.installation.status, 'COMPLETED');
    });

    it('files: list, details, delete', async () => {
      const ex = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg}/export`);
      const op = await s.waitOp(ADMIN_KEY, ex.body.operation.id);
      const id = (op.result as { file: { id: string } }).file.id;
      const f = await s.call(ADMIN_KEY, 'GET', `/api/v1/files/${id}`);
      assert.equal(f.body.environmentId, 'dev');
      assert.equal(f.body.packageId, pkg);
      assert.match(f.body.name, /^Edited-v\d+\.ferry$/);
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', `/api/v1/files/${id}`)).status, 204);
      assert.equal((await s.call(ADMIN_KEY, 'GET', `/api/v1/files/${id}/content`)).status, 404);
    });

    it('users: list, read, change roles, delete', async () => {
      await s.user('ursula', { dev: 'viewer' });
      const list = await s.call(ADMIN_KEY, 'GET', '/api/v1/users');
      assert.ok(
        list.body.items.some((u: { username: string }) => u.username === 'ursula'),
        'listed',
      );
      assert.ok(!list.text.includes('scrypt'), 'no password hash in answers');
      const ch = await s.call(ADMIN_KEY, 'PATCH', '/api/v1/users/ursula', { roles: { dev: 'promoter', test: 'viewer' }, admin: false });
      assert.deepEqual(ch.body.roles, { dev: 'promoter', test: 'viewer' });
      assert.equal((await s.call(ADMIN_KEY, 'DELETE', '/api/v1/users/ursula')).status, 204);
      assert.equal((await s.call(ADMIN_KEY, 'GET', '/api/v1/users/ursula')).status, 404);
    });
  });
}
