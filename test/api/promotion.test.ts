import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { seedDemo, DEMO_ENVIRONMENTS } from '../../src/engine/demo-seed.js';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

const { development: DEV, testing: TEST, production: PROD } = DEMO_ENVIRONMENTS;

/**
 * The full promotion of a demo package, development -> testing ->
 * production, over the native API only, as a promoter would drive it.
 */
for (const dialect of DIALECTS) {
  describe(`native API promotion on ${dialect}`, () => {
    let s: TestServer;
    let promoter: string;
    let viewer: string;
    let pkgId = '';
    let prodInstall = '';
    let fileId = '';
    let templateId = '';

    before(async () => {
      s = await openTestServer(dialect);
      await seedDemo(s.t.engine);
      promoter = await s.user('pat', { [DEV]: 'promoter', [TEST]: 'promoter', [PROD]: 'promoter' });
      viewer = await s.user('vic', { [DEV]: 'viewer', [TEST]: 'viewer', [PROD]: 'viewer' });
    });
    after(async () => s.cleanup());

    it('lists the three demo environments and their objects, paged and by type', async () => {
      const envs = await s.call(promoter, 'GET', '/api/v1/environments');
      assert.equal(envs.status, 200);
      assert.deepEqual(
        envs.body.items.map((e: { id: string; tier: string }) => [e.id, e.tier]),
        [
          [DEV, 'development'],
          [TEST, 'testing'],
          [PROD, 'production'],
        ],
      );
      const tmpl = await s.call(promoter, 'GET', `/api/v1/environments/${DEV}/objects?type=TMPL&limit=2&offset=0`);
      assert.equal(tmpl.status, 200);
      assert.equal(tmpl.body.items.length, 2);
      assert.ok(tmpl.body.total >= 2, 'total');
      assert.ok(
        tmpl.body.items.every((o: { type: string }) => o.type === 'TMPL'),
        'only TMPL',
      );
      templateId = tmpl.body.items[0].id;
      const page2 = await s.call(promoter, 'GET', `/api/v1/environments/${DEV}/objects?type=TMPL&limit=1&offset=1`);
      assert.equal(page2.body.items[0].id, tmpl.body.items[1].id);
      const one = await s.call(promoter, 'GET', `/api/v1/environments/${DEV}/objects/TMPL/${templateId}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.id, templateId);
    });

    it('creates a package: 202 with an assembly operation that ends COMPLETED and a DRAFT package', async () => {
      const r = await s.call(promoter, 'POST', '/api/v1/packages', {
        sourceEnvId: DEV,
        name: 'Agency onboarding',
        description: 'over the API',
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: templateId }] }],
      });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.body.package.status, 'ASSEMBLING');
      assert.equal(r.body.operation.kind, 'package.assemble');
      pkgId = r.body.package.id;
      const op = await s.waitOp(promoter, r.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      assert.equal(op.progress, 100);
      assert.ok(op.server, 'server name recorded');
      const pkg = await s.call(promoter, 'GET', `/api/v1/packages/${pkgId}`);
      assert.equal(pkg.body.status, 'DRAFT');
      assert.ok(pkg.body.entityCount > 10, `entityCount ${pkg.body.entityCount}`);
      assert.equal((op.result as { entityCount: number }).entityCount, pkg.body.entityCount);
    });

    it('shows the definition, the entities in install order and why each is included', async () => {
      const def = await s.call(viewer, 'GET', `/api/v1/packages/${pkgId}/definition`);
      assert.equal(def.status, 200);
      assert.equal(def.body.packageEntities.TMPL.length, 1);
      assert.ok(def.body.packageEntities.TTSK.length > 0, 'tasks in the definition');
      const ents = await s.call(viewer, 'GET', `/api/v1/packages/${pkgId}/entities?type=TTSK&limit=1`);
      assert.equal(ents.body.items.length, 1);
      const task = ents.body.items[0];
      const why = await s.call(viewer, 'GET', `/api/v1/packages/${pkgId}/entities/TTSK/${task.id}/explain`);
      assert.equal(why.status, 200);
      assert.ok(why.body.path.length >= 2, 'a path of refs');
      assert.match(why.body.path[0], /TMPL/);
    });

    it('refuses a DRAFT install, then promotes TESTING into testing', async () => {
      const draft = await s.call(promoter, 'POST', `/api/v1/packages/${pkgId}/plans`, { targetEnvId: TEST });
      assert.equal(draft.status, 201);
      assert.match(draft.body.installBlocker, /DRAFT/);
      const refused = await s.call(promoter, 'POST', `/api/v1/installations/${draft.body.installation.id}/install`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'PACKAGE_STATUS');

      const st = await s.call(promoter, 'PATCH', `/api/v1/packages/${pkgId}`, { status: 'TESTING' });
      assert.equal(st.status, 200);
      assert.equal(st.body.status, 'TESTING');
      const plan = await s.call(promoter, 'POST', `/api/v1/packages/${pkgId}/plans`, { targetEnvId: TEST });
      assert.equal(plan.status, 201);
      assert.equal(plan.body.installBlocker, null);
      const steps = await s.call(promoter, 'GET', `/api/v1/installations/${plan.body.installation.id}/steps`);
      assert.equal(steps.status, 200);
      assert.ok(Array.isArray(steps.body.steps), 'steps');
      const inst = await s.call(promoter, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`);
      assert.equal(inst.status, 202, inst.text);
      const op = await s.waitOp(promoter, inst.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      const got = await s.call(promoter, 'GET', `/api/v1/installations/${plan.body.installation.id}`);
      assert.equal(got.body.installation.status, 'COMPLETED');
    });

    it('refuses a TESTING package in production, then installs it ACTIVE with refs rewritten to production ids', async () => {
      const plan1 = await s.call(promoter, 'POST', `/api/v1/packages/${pkgId}/plans`, { targetEnvId: PROD });
      const refused = await s.call(promoter, 'POST', `/api/v1/installations/${plan1.body.installation.id}/install`);
      assert.equal(refused.status, 409);
      assert.match(refused.body.message, /production/);

      await s.call(promoter, 'PATCH', `/api/v1/packages/${pkgId}`, { status: 'ACTIVE' });
      const plan = await s.call(promoter, 'POST', `/api/v1/packages/${pkgId}/plans`, { targetEnvId: PROD });
      assert.equal(plan.status, 201);
      assert.equal(plan.body.installation.summary.invalid, 0);
      // Production already had some objects under other ids: matched by natural key.
      assert.ok(
        plan.body.entries.some((e: { match: string }) => e.match === 'naturalKey'),
        'some entries matched by natural key',
      );
      prodInstall = plan.body.installation.id;
      const inst = await s.call(promoter, 'POST', `/api/v1/installations/${prodInstall}/install`);
      assert.equal(inst.status, 202);
      const op = await s.waitOp(promoter, inst.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      assert.ok((op.result as { counts: Record<string, number> }).counts.INSTALLED! > 0, 'objects installed');

      const got = await s.call(viewer, 'GET', `/api/v1/installations/${prodInstall}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.installation.status, 'COMPLETED');
      const statuses = new Set(got.body.entries.map((e: { installationStatus: string }) => e.installationStatus));
      assert.ok(statuses.has('INSTALLED'), 'INSTALLED entries');
      assert.ok(![...statuses].includes('PENDING') && ![...statuses].includes('FAILED'), `statuses ${[...statuses].join(',')}`);

      const tmplEntry = got.body.entries.find((e: { type: string }) => e.type === 'TMPL');
      const taskEntry = got.body.entries.find((e: { type: string; installationStatus: string }) => e.type === 'TTSK' && e.installationStatus === 'INSTALLED');
      const task = await s.call(viewer, 'GET', `/api/v1/environments/${PROD}/objects/TTSK/${taskEntry.targetId}`);
      assert.equal(task.status, 200);
      assert.equal(task.body.fields.templateID, tmplEntry.targetId);

      const hist = await s.call(viewer, 'GET', `/api/v1/installations?environmentId=${PROD}`);
      assert.equal(hist.body.items[0].id, prodInstall);
      const byPkg = await s.call(viewer, 'GET', `/api/v1/installations?packageId=${pkgId}&status=COMPLETED`);
      assert.equal(byPkg.body.total, 2);
      const envHist = await s.call(viewer, 'GET', `/api/v1/environments/${PROD}/history`);
      assert.equal(envHist.body.items[0].id, prodInstall);
    });

    it('rolls the production install back: the objects it created are gone', async () => {
      const before = await s.call(viewer, 'GET', `/api/v1/installations/${prodInstall}`);
      const created = before.body.entries.find((e: { installationStatus: string }) => e.installationStatus === 'INSTALLED');
      const rb = await s.call(promoter, 'POST', `/api/v1/installations/${prodInstall}/rollback`);
      assert.equal(rb.status, 200, rb.text);
      assert.equal(rb.body.status, 'ROLLED_BACK');
      const gone = await s.call(viewer, 'GET', `/api/v1/environments/${PROD}/objects/${created.type}/${created.targetId}`);
      assert.equal(gone.status, 404);
      const again = await s.call(promoter, 'POST', `/api/v1/installations/${prodInstall}/rollback`);
      assert.equal(again.status, 409);
    });

    it('exports a bundle (an operation), downloads it, uploads it again and imports it as a dry run', async () => {
      const ex = await s.call(promoter, 'POST', `/api/v1/packages/${pkgId}/export`);
      assert.equal(ex.status, 202);
      const op = await s.waitOp(promoter, ex.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      const result = op.result as { file: { id: string; bytes: number }; downloadUrl: string; entityCount: number };
      assert.ok(result.entityCount > 10, 'entities exported');
      const dl = await s.app.inject({ method: 'GET', url: result.downloadUrl, headers: { apikey: promoter } });
      assert.equal(dl.statusCode, 200);
      assert.equal(dl.rawPayload.length, result.file.bytes);
      const lines = gunzipSync(dl.rawPayload).toString('utf8').trim().split('\n');
      assert.equal(JSON.parse(lines[0]!).format, 'ferry-bundle');
      assert.equal(lines.length, result.entityCount + 2);

      const up = await s.call(promoter, 'POST', '/api/v1/files?name=agency.ferry', dl.rawPayload, { 'content-type': 'application/octet-stream' });
      assert.equal(up.status, 201, up.text);
      assert.equal(up.body.bytes, result.file.bytes);
      fileId = up.body.id;
      const listed = await s.call(promoter, 'GET', '/api/v1/files');
      assert.ok(
        listed.body.items.some((f: { id: string }) => f.id === fileId),
        'the upload is listed',
      );

      const before = await s.call(viewer, 'GET', `/api/v1/environments/${PROD}`);
      const imp = await s.call(promoter, 'POST', '/api/v1/imports', { fileId, targetEnvId: PROD, dryRun: true });
      assert.equal(imp.status, 202, imp.text);
      const iop = await s.waitOp(promoter, imp.body.operation.id);
      assert.equal(iop.status, 'COMPLETED', JSON.stringify(iop));
      const ir = iop.result as { dryRun: boolean; installationId: string; summary: { create: number } };
      assert.equal(ir.dryRun, true);
      assert.ok(ir.summary.create > 0, 'the dry run would create objects');
      const after = await s.call(viewer, 'GET', `/api/v1/environments/${PROD}`);
      assert.equal(after.body.version, before.body.version, 'a dry run writes nothing in the target');
      const plan = await s.call(viewer, 'GET', `/api/v1/installations/${ir.installationId}?entries=false`);
      assert.equal(plan.body.installation.status, 'PREPARED');
      assert.equal(plan.body.entries, undefined);
    });

    it('imports for real: the bundle installs into production', async () => {
      const imp = await s.call(promoter, 'POST', '/api/v1/imports', { fileId, targetEnvId: PROD });
      const op = await s.waitOp(promoter, imp.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      assert.equal((op.result as { status: string }).status, 'COMPLETED');
    });

    it('wrote every change to the audit log, with who, what, when, where from and the result', async () => {
      const r = await s.call(ADMIN_KEY, 'GET', `/api/v1/audit?environmentId=${PROD}&actor=pat`);
      assert.equal(r.status, 200);
      const actions = new Set(r.body.items.map((e: { action: string }) => e.action));
      for (const a of ['plan.prepare', 'install', 'rollback']) assert.ok(actions.has(a), `audit has ${a}: ${[...actions].join(', ')}`);
      const install = r.body.items.find((e: { action: string; result: string }) => e.action === 'install' && e.result === 'ok');
      assert.equal(install.actor, 'pat');
      assert.equal(install.address, '127.0.0.1');
      assert.ok(Date.parse(install.at) > 0, 'a time');
      // A refused change is audited too.
      assert.ok(
        r.body.items.some((e: { result: string }) => e.result.startsWith('refused 409')),
        'the refused install is audited',
      );
      const mine = await s.call(promoter, 'GET', '/api/v1/audit?actor=pat');
      assert.equal(mine.status, 200);
      assert.ok(
        mine.body.items.some((e: { action: string }) => e.action === 'package.create'),
        'package.create audited',
      );
      const since = await s.call(ADMIN_KEY, 'GET', `/api/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      assert.deepEqual(since.body.items, []);
    });

    it('counts requests, operations and installed objects in /metrics', async () => {
      const m = await s.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(m.statusCode, 200);
      assert.match(m.body, /ferry_http_requests_total\{method="POST",route="\/api\/v1\/packages",status="202"\} 1/);
      assert.match(m.body, /ferry_http_request_duration_seconds_bucket/);
      assert.match(m.body, /ferry_operations\{kind="install",status="COMPLETED"\} 2/);
      assert.match(m.body, /ferry_objects_installed_total\{status="INSTALLED"\} \d+/);
    });
  });
}
