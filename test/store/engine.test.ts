import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { exportPackage, importBundle } from '../../src/engine/bundles.js';
import type { FerryObject, PlanEntry } from '../../src/core/types.js';
import { FerryError } from '../../src/core/errors.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { rejectsWith } from '../support/assert.js';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import { craftBundle, deepEntityLine, sameIdLines } from '../support/bundles.js';

/** A small development environment: a template with tasks, a group hierarchy, a role, a user. */
function devObjects(): FerryObject[] {
  return [
    { type: 'GROUP', id: 'g1', name: 'Default Group', fields: { description: 'everyone' } },
    { type: 'GROUP', id: 'g2', name: 'Design', fields: { parentID: 'g1', description: 'designers' } },
    { type: 'ROLE', id: 'r1', name: 'Designer', fields: { description: 'draws' } },
    { type: 'ROLE', id: 'r2', name: 'Reviewer', fields: { description: 'reads' } },
    { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g2', description: 'v1' } },
    { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } },
    { type: 'TTSK', id: 'k2', name: 'Review', fields: { templateID: 't1', roleID: 'r2', parentID: 'k3' } },
    { type: 'TTSK', id: 'k3', name: 'Sign-off', fields: { templateID: 't1', roleID: 'r2', parentID: 'k2' } },
    { type: 'TASSGN', id: 'a1', name: 'Designer on brief', fields: { templateTaskID: 'k1', roleID: 'r1' } },
    { type: 'TPRED', id: 'p1', name: 'Brief before review', fields: { successorID: 'k2', predecessorID: 'k1' } },
  ];
}

const byKey = (entries: PlanEntry[], type: string, id: string) => entries.find((e) => e.type === type && e.sourceId === id)!;

/** Everything in an environment, as plain comparable values. */
async function snapshot(engine: Engine, envId: string) {
  const { items } = await engine.listObjects(envId, { limit: 100_000 });
  return items.map((o) => ({ type: o.type, id: o.id, name: o.name, fields: o.fields })).sort((a, b) => (a.type + a.id < b.type + b.id ? -1 : 1));
}

for (const dialect of DIALECTS) {
  describe(`engine on ${dialect}`, () => {
    let t: TestEngine;
    let engine: Engine;
    before(async () => {
      t = await openTestEngine(dialect);
      engine = t.engine;
      await engine.createEnvironment({ id: 'dev', name: 'Development', tier: 'development' });
      await engine.createEnvironment({ id: 'prod', name: 'Production', tier: 'production', parameters: { site: 'prod.example.test' } });
      await engine.loadObjects('dev', devObjects());
      // Production already has the default group and the designer role, under other ids.
      await engine.loadObjects('prod', [
        { type: 'GROUP', id: 'G-PROD', name: 'Default Group', fields: { description: 'everyone' } },
        { type: 'ROLE', id: 'R-PROD', name: 'designer', fields: { description: 'draws in prod' } },
      ]);
    });
    after(async () => t.cleanup());

    let firstInstall = '';
    let pkgId = '';

    it('promotes a package from dev to prod with every ref pointing at the right target ids', async () => {
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Onboarding', selection: [{ type: 'TMPL', id: 't1' }] });
      pkgId = pkg.id;
      assert.equal(pkg.status, 'DRAFT');
      assert.equal(pkg.entityCount, 10);
      assert.deepEqual(pkg.metadata.installOrder, ['GROUP', 'ROLE', 'TMPL', 'TTSK', 'TASSGN', 'TPRED']);
      assert.equal(pkg.metadata.deferredRefs, 1);

      await rejectsWith(engine.install((await engine.prepare(pkg.id, 'prod')).installation.id), '409 PACKAGE_STATUS', /DRAFT/);
      await engine.setPackageStatus(pkg.id, 'TESTING');
      await rejectsWith(engine.install((await engine.prepare(pkg.id, 'prod')).installation.id), '409 PACKAGE_STATUS', /production/);
      await engine.setPackageStatus(pkg.id, 'ACTIVE');

      const plan = await engine.prepare(pkg.id, 'prod');
      const e = (type: string, id: string) => byKey(plan.entries, type, id);
      assert.deepEqual([e('GROUP', 'g1').action, e('GROUP', 'g1').targetId, e('GROUP', 'g1').match], ['USEEXISTING', 'G-PROD', 'naturalKey']);
      // Same unique name (case-insensitive), other description: replace rule -> UPDATE.
      assert.deepEqual([e('ROLE', 'r1').action, e('ROLE', 'r1').targetId, e('ROLE', 'r1').changes], ['UPDATE', 'R-PROD', ['name', 'description']]);
      assert.equal(e('TMPL', 't1').action, 'CREATE');
      assert.deepEqual(plan.installation.summary, { create: 8, update: 1, useExisting: 1, merge: 0, ignore: 0, remove: 0, invalid: 0, drift: 0 });

      const inst = await engine.install(plan.installation.id);
      firstInstall = inst.id;
      assert.equal(inst.status, 'COMPLETED');
      const entries = await engine.getEntries(inst.id);
      const status = Object.fromEntries(entries.map((x) => [`${x.type}:${x.sourceId}`, x.installationStatus]));
      assert.equal(status['GROUP:g1'], 'REGISTERED');
      assert.equal(status['ROLE:r1'], 'UPDATED');
      assert.equal(status['TMPL:t1'], 'INSTALLED');
      const tid = (type: string, id: string) => byKey(entries, type, id).targetId!;
      const tmpl = await engine.getObject('prod', 'TMPL', tid('TMPL', 't1'));
      assert.notEqual(tmpl.id, 't1');
      assert.equal(tmpl.fields.groupID, tid('GROUP', 'g2'));
      const g2 = await engine.getObject('prod', 'GROUP', tid('GROUP', 'g2'));
      assert.equal(g2.fields.parentID, 'G-PROD');
      const k2 = await engine.getObject('prod', 'TTSK', tid('TTSK', 'k2'));
      const k3 = await engine.getObject('prod', 'TTSK', tid('TTSK', 'k3'));
      assert.equal(k2.fields.templateID, tmpl.id);
      // The k2 <-> k3 cycle was closed by the second phase.
      assert.equal(k2.fields.parentID, k3.id);
      assert.equal(k3.fields.parentID, k2.id);
      const a1 = await engine.getObject('prod', 'TASSGN', tid('TASSGN', 'a1'));
      assert.deepEqual(a1.fields, { templateTaskID: tid('TTSK', 'k1'), roleID: 'R-PROD' });
      const p1 = await engine.getObject('prod', 'TPRED', tid('TPRED', 'p1'));
      assert.deepEqual(p1.fields, { successorID: k2.id, predecessorID: tid('TTSK', 'k1') });
    });

    it('promotes again after an edit in dev with UPDATE for the edited objects only', async () => {
      await engine.loadObjects('dev', [{ type: 'TTSK', id: 'k1', name: 'Brief (v2)', fields: { templateID: 't1', roleID: 'r1' } }]);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Onboarding v2', selection: [{ type: 'TMPL', id: 't1' }] });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const plan = await engine.prepare(pkg.id, 'prod');
      const changed = plan.entries.filter((x) => x.action !== 'USEEXISTING').map((x) => `${x.action} ${x.type}:${x.sourceId} [${x.changes.join(',')}]`);
      assert.deepEqual(changed, ['UPDATE TTSK:k1 [name]']);
      assert.ok(plan.entries.every((x) => x.match !== 'none'));
      const before = await snapshot(engine, 'prod');
      const inst = await engine.install(plan.installation.id);
      const k1 = await engine.getObject('prod', 'TTSK', byKey(await engine.getEntries(inst.id), 'TTSK', 'k1').targetId!);
      assert.equal(k1.name, 'Brief (v2)');

      // Rollback restores the exact prior content.
      const rolled = await engine.rollback(inst.id);
      assert.equal(rolled.status, 'ROLLED_BACK');
      assert.deepEqual(await snapshot(engine, 'prod'), before);
      await rejectsWith(engine.rollback(inst.id), '409 NOT_COMPLETED');
    });

    it('reports a downstream edit as drift and refuses a rollback that would lose it', async () => {
      const entries = await engine.getEntries(firstInstall);
      const tmplId = byKey(entries, 'TMPL', 't1').targetId!;
      const tmpl = await engine.getObject('prod', 'TMPL', tmplId);
      await engine.loadObjects('prod', [{ type: 'TMPL', id: tmplId, name: tmpl.name, fields: { ...tmpl.fields, description: 'hot fix' } }]);
      const plan = await engine.prepare(pkgId, 'prod');
      const t = byKey(plan.entries, 'TMPL', 't1');
      assert.deepEqual([t.drift, t.action, t.changes], [true, 'UPDATE', ['description']]);
      assert.equal(plan.installation.summary.drift, 1);
      await rejectsWith(engine.rollback(firstInstall), '409 CHANGED_SINCE_INSTALL', new RegExp(`TMPL:${tmplId}`));
    });

    it('refuses a stale plan when the target moved after prepare, and changes nothing', async () => {
      const plan = await engine.prepare(pkgId, 'prod');
      await engine.loadObjects('prod', [{ type: 'ROLE', id: 'R-OTHER', name: 'Other', fields: {} }]);
      const before = await snapshot(engine, 'prod');
      await rejectsWith(engine.install(plan.installation.id), '409 STALE_PLAN', /prepare again/);
      assert.deepEqual(await snapshot(engine, 'prod'), before);
    });

    it('refuses an invalid plan and installs after the user fixes it', async () => {
      await engine.loadObjects('dev', [{ type: 'TPRED', id: 'p9', name: 'dangling', fields: { successorID: 'k1', predecessorID: 'k-missing' } }]);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'With a dangling predecessor', selection: [{ type: 'TMPL', id: 't1' }] });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const plan = await engine.prepare(pkg.id, 'prod');
      assert.equal(plan.installation.summary.invalid, 1);
      assert.match(byKey(plan.entries, 'TPRED', 'p9').reason!, /required ref predecessorID -> TTSK:k-missing/);
      await rejectsWith(engine.install(plan.installation.id), '409 PLAN_INVALID');
      const fixed = await engine.revalidate(plan.installation.id, [{ type: 'TPRED', sourceId: 'p9', action: 'IGNORE' }], { remember: true });
      assert.equal(fixed.installation.id, plan.installation.id);
      assert.equal(fixed.installation.summary.invalid, 0);
      await engine.install(plan.installation.id);
      // The decision is remembered for the next package into prod.
      const again = await engine.prepare(pkg.id, 'prod');
      assert.equal(byKey(again.entries, 'TPRED', 'p9').action, 'IGNORE');
      assert.equal(again.installation.summary.invalid, 0);
      await engine.deleteObject('dev', 'TPRED', 'p9');
    });

    it('installs nothing when an install is cancelled midway', async () => {
      const objs: FerryObject[] = [{ type: 'TMPL', id: 'big', name: 'Big', fields: {} }];
      for (let i = 0; i < 5000; i++) objs.push({ type: 'TTSK', id: `bk${i}`, name: `Task ${i}`, fields: { templateID: 'big' } });
      await engine.loadObjects('dev', objs);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Big', selection: [{ type: 'TMPL', id: 'big' }] });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const plan = await engine.prepare(pkg.id, 'prod');
      const before = await snapshot(engine, 'prod');
      const ac = new AbortController();
      await rejectsWith(engine.install(plan.installation.id, { signal: ac.signal, onProgress: (p) => p.done > 2000 && ac.abort() }), '409 CANCELLED');
      assert.deepEqual(await snapshot(engine, 'prod'), before);
      const inst = await engine.getInstallation(plan.installation.id);
      assert.equal(inst.status, 'FAILED');
      assert.match(inst.error!, /cancelled; nothing was installed/);
      assert.ok((await engine.getEntries(inst.id)).every((e) => e.installationStatus === 'PENDING'));
      assert.equal((await engine.getEnvironment('prod')).lockedBy, null);
    });

    it('refuses a push from production down to development unless forced', async () => {
      const pkg = await engine.createPackage({ sourceEnvId: 'prod', name: 'Backwards', selection: [{ type: 'ROLE', id: 'R-PROD' }] });
      await rejectsWith(engine.prepare(pkg.id, 'dev'), '409 PUSH_ONE_WAY', /push one-way/);
      const forced = await engine.prepare(pkg.id, 'dev', { force: true });
      assert.equal(forced.installation.force, true);
    });

    it('installs a package where one entity matches a target object by id and another by the same name', async () => {
      await engine.createEnvironment({ id: 'twin', name: 'Twin', tier: 'production' });
      await engine.loadObjects('twin', [{ type: 'TMPL', id: 'tw1', name: 'Twin template', fields: { description: 'old' } }]);
      await engine.loadObjects('dev', [
        { type: 'TMPL', id: 'tw1', name: 'Twin template', fields: { description: 'new' } },
        { type: 'TMPL', id: 'tw2', name: 'Twin template', fields: { description: 'other' } },
      ]);
      const pkg = await engine.createPackage({
        sourceEnvId: 'dev',
        name: 'Twins',
        selection: [
          { type: 'TMPL', id: 'tw1' },
          { type: 'TMPL', id: 'tw2' },
        ],
      });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const plan = await engine.prepare(pkg.id, 'twin');
      assert.deepEqual(plan.entries.map((e) => `${e.sourceId} ${e.action} ${e.match}`).sort(), ['tw1 UPDATE id', 'tw2 CREATE none']);
      const inst = await engine.install(plan.installation.id);
      assert.equal(inst.status, 'COMPLETED');
      const names = (await snapshot(engine, 'twin')).map((o) => `${o.name}: ${String(o.fields.description)}`).sort();
      assert.deepEqual(names, ['Twin template: new', 'Twin template: other']);
    });

    it('clones an environment with the same ids, so a plan into it matches by id', async () => {
      const clone = await engine.createEnvironment({ id: 'test', name: 'Test', tier: 'testing', cloneFrom: 'dev' });
      assert.equal(clone.clonedFrom, 'dev');
      assert.deepEqual(await snapshot(engine, 'test'), await snapshot(engine, 'dev'));
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'To test', selection: [{ type: 'TMPL', id: 't1' }] });
      const plan = await engine.prepare(pkg.id, 'test');
      assert.ok(
        plan.entries.every((x) => x.match === 'id' && x.action === 'USEEXISTING'),
        JSON.stringify(plan.entries.filter((x) => x.match !== 'id' || x.action !== 'USEEXISTING')),
      );
    });

    it('exports a bundle and imports it into another server, refusing a tampered copy first', async () => {
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Shipped', selection: [{ type: 'TMPL', id: 't1' }] });
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const dir = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
      const file = join(dir, 'shipped.ferry');
      const r = await exportPackage(engine, pkg.id, { file, dir: join(dir, 'tree') });
      assert.equal(r.file!.count, pkg.entityCount);
      assert.ok(readFileSync(join(dir, 'tree', 'TMPL', 't1.json'), 'utf8').includes('"Onboarding"'));

      const other = await openTestEngine(dialect, 'http://other.test');
      try {
        await other.engine.createEnvironment({ id: 'prod2', name: 'Other prod', tier: 'production' });
        const tampered = join(dir, 'tampered.ferry');
        writeFileSync(tampered, gzipSync(gunzipSync(readFileSync(file)).toString('utf8').replace('Onboarding', 'Onboardinh')));
        await rejectsWith(importBundle(other.engine, tampered, 'prod2'), '400 INVALID_REQUEST', /integrity check/);
        assert.deepEqual(await other.engine.listPackages(), []);

        const dry = await importBundle(other.engine, file, 'prod2', { dryRun: true });
        assert.equal(dry.installation, null);
        assert.equal(dry.plan.installation.summary.create, pkg.entityCount);
        assert.deepEqual(await snapshot(other.engine, 'prod2'), []);
        const done = await importBundle(other.engine, file, 'prod2');
        assert.equal(done.installation!.status, 'COMPLETED');
        assert.equal((await snapshot(other.engine, 'prod2')).length, pkg.entityCount);
        // A second import of the same bundle changes nothing: the ID map remembers.
        const again = await importBundle(other.engine, file, 'prod2', { dryRun: true });
        assert.equal(again.plan.installation.summary.useExisting, pkg.entityCount);
      } finally {
        await other.cleanup();
      }
    });

    it('refuses a crafted bundle clearly, naming the line, and stores nothing: a repeated id, fields nested too deep', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ferry-crafted-'));
      const other = await openTestEngine(dialect, 'http://other.test');
      try {
        await other.engine.createEnvironment({ id: 'prod3', name: 'Other prod', tier: 'production' });
        const same = join(dir, 'same.ferry');
        craftBundle(same, { GROUP: 100_000 }, sameIdLines(100_000));
        await rejectsWith(importBundle(other.engine, same, 'prod3', { dryRun: true }), '400 INVALID_REQUEST', /line 3 repeats GROUP:same \(first on line 2\)/);
        const deep = join(dir, 'deep.ferry');
        craftBundle(deep, { GROUP: 2 }, ['{"fields":{},"id":"ok","name":"Ok","type":"GROUP"}', deepEntityLine('deep', 100_000)]);
        await rejectsWith(importBundle(other.engine, deep, 'prod3'), '400 INVALID_REQUEST', /line 3: fields are nested deeper than 64 levels/);
        const over = join(dir, 'over.ferry');
        craftBundle(over, { GROUP: 1 }, [deepEntityLine('deep', 65)]);
        await rejectsWith(importBundle(other.engine, over, 'prod3'), '400 INVALID_REQUEST', /line 2: fields are nested deeper than 64 levels/);
        assert.deepEqual(await other.engine.listPackages(), []);
        assert.deepEqual(await snapshot(other.engine, 'prod3'), []);
      } finally {
        await other.cleanup();
      }
    });

    it('keeps server-scoped users shared by all environments and merges memberships', async () => {
      await engine.loadObjects('dev', [
        { type: 'USRGRP', id: 'ug1', name: 'Analysts', fields: {} },
        { type: 'USER', id: 'u1', name: 'Ann', fields: { login: 'ann', userGroupIDs: ['ug1'] } },
      ]);
      // Users live at server scope: prod sees the same object.
      assert.equal((await engine.getObject('prod', 'USER', 'u1')).name, 'Ann');
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Users', selection: [{ type: 'USER', id: 'u1' }] });
      const plan = await engine.prepare(pkg.id, 'prod');
      assert.deepEqual(plan.entries.map((x) => `${x.type}:${x.action}:${x.match}`).sort(), ['USER:USEEXISTING:id', 'USRGRP:USEEXISTING:id']);
      // A user changed through dev changes what prod sees: a prod plan prepared before is stale.
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const stale = await engine.prepare(pkg.id, 'prod');
      await engine.loadObjects('dev', [{ type: 'USER', id: 'u1', name: 'Ann B.', fields: { login: 'ann', userGroupIDs: ['ug1'] } }]);
      await rejectsWith(engine.install(stale.installation.id), '409 STALE_PLAN');
    });

    it('removes what the package lists in removals, never orphaning owned children, and rolls back', async () => {
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Cleanup', selection: [], removals: [{ type: 'TTSK', id: 'k2' }] });
      assert.deepEqual([pkg.status, pkg.entityCount], ['DRAFT', 0]);
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const bad = await engine.prepare(pkg.id, 'prod');
      assert.equal(bad.entries.length, 1);
      const r = bad.entries[0]!;
      assert.deepEqual([r.action, r.match, r.isValid], ['REMOVE', 'idmap', false]);
      assert.match(r.reason!, /would orphan 1 owned child in the target \(TPRED:/);

      // The predecessor goes too, but task k3 still names k2 as its parent (a plain ref): it would dangle.
      await engine.setRemovals(pkg.id, [
        { type: 'TPRED', id: 'p1' },
        { type: 'TTSK', id: 'k2' },
      ]);
      const dangling = await engine.prepare(pkg.id, 'prod');
      const k2 = dangling.entries.find((e) => e.sourceId === 'k2')!;
      const k3Target = (await engine.getEntries(firstInstall)).find((e) => e.sourceId === 'k3')!.targetId!;
      assert.equal(k2.isValid, false);
      assert.equal(
        k2.reason,
        `removing it would leave 1 object in the target pointing at it (TTSK:${k3Target} parentID); remove them too or change their refs first`,
      );

      await engine.setRemovals(pkg.id, [
        { type: 'TPRED', id: 'p1' },
        { type: 'TTSK', id: 'k2' },
        { type: 'TTSK', id: 'k3' },
        { type: 'ROLE', id: 'never-installed' },
      ]);
      const plan = await engine.prepare(pkg.id, 'prod');
      assert.equal(plan.installation.summary.invalid, 0);
      assert.deepEqual(
        plan.entries.map((e) => `${e.action} ${e.type}:${e.sourceId} ${e.targetId ? 'found' : 'absent'}`),
        ['REMOVE TPRED:p1 found', 'REMOVE TTSK:k2 found', 'REMOVE TTSK:k3 found', 'REMOVE ROLE:never-installed absent'],
      );
      const before = await snapshot(engine, 'prod');
      const inst = await engine.install(plan.installation.id);
      const entries = await engine.getEntries(inst.id);
      assert.deepEqual(
        entries.map((e) => e.installationStatus),
        ['REMOVED', 'REMOVED', 'REMOVED', 'SKIPPED'],
      );
      const gone = entries.filter((e) => e.installationStatus === 'REMOVED').map((e) => `${e.type}:${e.targetId}`);
      const after = (await snapshot(engine, 'prod')).map((o) => `${o.type}:${o.id}`);
      assert.equal(after.length, before.length - 3);
      for (const g of gone) assert.ok(!after.includes(g));
      await engine.rollback(inst.id);
      assert.deepEqual(await snapshot(engine, 'prod'), before);
    });

    it('creates objects under the ids minted at prepare, in install order, and rolls them back', async () => {
      await engine.createEnvironment({ id: 'stage', name: 'Staging', tier: 'production' });
      // Server-scoped objects (users, groups) are seen from every environment.
      const before = await snapshot(engine, 'stage');
      const plan = await engine.prepare(pkgId, 'stage');
      // The plan shows no target id for a CREATE until it is installed; its exact steps show the ids the install will use.
      assert.ok(plan.entries.every((e) => e.action === 'CREATE' && e.targetId === null));
      const preview = (await engine.installSteps(plan.installation.id)).filter((s) => s.op === 'create').map((s) => `${s.type}:${s.sourceId}:${s.targetId}`);
      const inst = await engine.install(plan.installation.id);
      const entries = await engine.getEntries(inst.id);
      assert.deepEqual(preview.sort(), entries.map((e) => `${e.type}:${e.sourceId}:${e.targetId}`).sort());
      assert.deepEqual([...new Set(entries.map((e) => `${e.action} ${e.installationStatus}`))], ['CREATE INSTALLED']);
      const ids = entries.map((e) => e.targetId!);
      assert.ok(
        ids.every((id) => /^[0-9a-f]{32}$/.test(id)),
        ids.join(' '),
      );
      assert.equal(new Set(ids).size, ids.length);
      // Minted in install order, so they sort in it: new rows go to the end of the index.
      assert.deepEqual([...ids].sort(), ids);
      for (const e of entries) assert.equal((await engine.getObject('stage', e.type, e.targetId!)).id, e.targetId);

      // A created object deleted since: the rollback would not restore what is there now, so it is refused.
      const victim = entries.find((e) => e.type === 'TPRED')!;
      const kept = await engine.getObject('stage', 'TPRED', victim.targetId!);
      await engine.store.transaction((tx) => tx.objects.delete('stage', [{ type: 'TPRED', id: victim.targetId! }]));
      await rejectsWith(engine.rollback(inst.id), '409 CHANGED_SINCE_INSTALL', new RegExp(`TPRED:${victim.targetId}`));
      await engine.loadObjects('stage', [{ type: kept.type, id: kept.id, name: kept.name, fields: kept.fields }]);
      await engine.rollback(inst.id);
      assert.deepEqual(await snapshot(engine, 'stage'), before);
    });

    it('rolls back an install recorded before 0003 (one restore point row per object)', async () => {
      await engine.createEnvironment({ id: 'legacy', name: 'Legacy', tier: 'production' });
      const before = await snapshot(engine, 'legacy');
      const plan = await engine.prepare(pkgId, 'legacy');
      const inst = await engine.install(plan.installation.id);
      // Rewrite the record the way the earlier schema kept it: a row per restore point, no chunks.
      const db = engine.store.db;
      const points = await engine.store.restorePoints.get(inst.id);
      assert.equal(points.length, 10);
      await db.deleteFrom('restore_chunks').where('installation_id', '=', inst.id).execute();
      await db
        .insertInto('restore_points')
        .values(
          points.map((p, seq) => ({
            installation_id: inst.id,
            env_id: p.envId,
            type: p.type,
            target_id: p.targetId,
            before: p.before ? JSON.stringify(p.before) : null,
            after_hash: p.afterHash,
            seq,
          })),
        )
        .execute();
      assert.deepEqual(await engine.store.restorePoints.get(inst.id), points);
      await engine.rollback(inst.id);
      assert.deepEqual(await snapshot(engine, 'legacy'), before);
      const left = await db.selectFrom('id_map').select('source_id').where('env_id', '=', 'legacy').execute();
      assert.deepEqual(left, []);
    });

    it('installs and rolls back a package larger than one batch and one restore chunk, cycles included', async () => {
      await engine.createEnvironment({ id: 'gen', name: 'Generated', tier: 'development' });
      await engine.createEnvironment({ id: 'big', name: 'Big target', tier: 'production' });
      await engine.loadObjects('gen', [...generateSample({ objects: 6000 })]);
      const pkg = await engine.createPackage({ sourceEnvId: 'gen', name: 'Generated', selection: sampleSelection({ objects: 6000 }) });
      assert.ok(pkg.entityCount > 4000, String(pkg.entityCount));
      assert.ok(pkg.metadata.deferredRefs > 0, 'the sample has reference cycles');
      await engine.setPackageStatus(pkg.id, 'ACTIVE');
      const before = await snapshot(engine, 'big');
      const plan = await engine.prepare(pkg.id, 'big');
      assert.equal(plan.installation.summary.invalid, 0);
      const inst = await engine.install(plan.installation.id);
      const points = await engine.store.restorePoints.get(inst.id);
      assert.equal(points.length, pkg.entityCount);
      // Every point holds the hash its object ended with, patched cycles included.
      const now = new Map(
        (
          await engine.store.objects.getHashes(
            'big',
            points.map((p) => ({ type: p.type, id: p.targetId })),
          )
        ).map((o) => [`${o.type}:${o.id}`, o.hash]),
      );
      assert.deepEqual(
        points.filter((p) => now.get(`${p.type}:${p.targetId}`) !== p.afterHash),
        [],
      );
      const installed = await snapshot(engine, 'big');

      // Every third task edited in the target: the same package again updates
      // exactly those, on whatever page of the install they fall.
      const tasks = (await engine.listObjects('big', { type: 'TTSK', limit: 100_000 })).items.filter((_, i) => i % 3 === 0);
      assert.ok(tasks.length > 500, String(tasks.length));
      await engine.loadObjects(
        'big',
        tasks.map((o) => ({ type: o.type, id: o.id, name: o.name, fields: { ...o.fields, description: 'edited in the target' } })),
      );
      const again = await engine.prepare(pkg.id, 'big');
      assert.deepEqual(
        [again.installation.summary.update, again.installation.summary.create, again.installation.summary.drift],
        [tasks.length, 0, tasks.length],
      );
      const second = await engine.install(again.installation.id);
      assert.deepEqual(await snapshot(engine, 'big'), installed);
      await engine.rollback(second.id);
      assert.equal((await engine.getObject('big', 'TTSK', tasks[0]!.id)).fields.description, 'edited in the target');
      await rejectsWith(engine.rollback(inst.id), '409 CHANGED_SINCE_INSTALL');
      await engine.loadObjects(
        'big',
        tasks.map((o) => ({ type: o.type, id: o.id, name: o.name, fields: o.fields })),
      );
      await engine.rollback(inst.id);
      assert.deepEqual(await snapshot(engine, 'big'), before);
    });

    it('refuses bad input with a clear error and writes nothing', async () => {
      const before = await snapshot(engine, 'dev');
      await rejectsWith(
        engine.loadObjects('dev', [{ type: 'NOPE', id: 'x', name: 'x', fields: {} }]),
        '400 INVALID_REQUEST',
        /object #1 \(NOPE:x\): unknown type NOPE/,
      );
      await rejectsWith(
        engine.loadObjects('dev', [{ type: 'TTSK', id: 'x', name: 'x', fields: { templateID: 5 } }]),
        '400 INVALID_REQUEST',
        /ref field templateID/,
      );
      await rejectsWith(engine.loadObjects('dev', { not: 'an array' }), '400 INVALID_REQUEST');
      await rejectsWith(engine.createEnvironment({ id: 'dev', name: 'again', tier: 'development' }), '409 ENVIRONMENT_EXISTS');
      await rejectsWith(engine.createEnvironment({ id: 'x', name: 'x', tier: 'staging' }), '400 INVALID_REQUEST', /unknown tier/);
      await rejectsWith(
        engine.createPackage({ sourceEnvId: 'dev', name: 'x', selection: [] }).then((p) => {
          if (p.status === 'ASSEMBLING_FAILED') throw new FerryError('ASSEMBLING_FAILED', 409, p.assemblyError!);
        }),
        '409 ASSEMBLING_FAILED',
        /selection is empty/,
      );
      assert.deepEqual(await snapshot(engine, 'dev'), before);
    });
  });
}
