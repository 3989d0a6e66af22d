// The engine use cases the promotion face (003) needs and any face may use:
// plans that keep matched objects as they are (and keep their rules through
// re-validation), installing with a user's edits, editing several package
// attributes at once, extracting a package again. Both databases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import type { FerryObject, PlanEntry } from '../../src/core/types.js';
import { applyInstallEdits } from '../../src/engine/install-edits.js';
import { createEmptyPackage, editPackage, restartAssembly } from '../../src/engine/package-edits.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { rejectsWith } from '../support/assert.js';

function devObjects(): FerryObject[] {
  return [
    { type: 'GROUP', id: 'g1', name: 'Default Group', fields: { description: 'everyone' } },
    { type: 'ROLE', id: 'r1', name: 'Designer', fields: { description: 'draws' } },
    { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1', description: 'v1' } },
    { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } },
    { type: 'TASSGN', id: 'a1', name: 'Designer on brief', fields: { templateTaskID: 'k1', roleID: 'r1' } },
  ];
}

const byKey = (entries: readonly PlanEntry[], type: string, id: string) => entries.find((e) => e.type === type && e.sourceId === id)!;

for (const dialect of DIALECTS) {
  describe(`plan rules and package edits on ${dialect}`, () => {
    let t: TestEngine;
    let engine: Engine;
    let pkgId = '';
    before(async () => {
      t = await openTestEngine(dialect);
      engine = t.engine;
      await engine.createEnvironment({ id: 'dev', name: 'Development', tier: 'development' });
      await engine.createEnvironment({ id: 'prev', name: 'Preview', tier: 'preview' });
      await engine.loadObjects('dev', devObjects());
      // Preview has the group and the role under other ids, with other descriptions.
      await engine.loadObjects('prev', [
        { type: 'GROUP', id: 'G-P', name: 'Default Group', fields: { description: 'everyone in preview' } },
        { type: 'ROLE', id: 'R-P', name: 'Designer', fields: { description: 'draws in preview' } },
      ]);
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Onboarding', selection: [{ type: 'TMPL', id: 't1' }] });
      pkgId = (await engine.setPackageStatus(pkg.id, 'TESTING')).id;
    });
    after(async () => t.cleanup());

    it('keeps matched objects that differ (USEEXISTING), and a re-validation keeps that rule', async () => {
      const plan = await engine.prepare(pkgId, 'prev', { keepExisting: true });
      assert.equal(plan.installation.keepExisting, true);
      const g = byKey(plan.entries, 'GROUP', 'g1');
      assert.deepEqual([g.action, g.targetId, g.changes], ['USEEXISTING', 'G-P', ['description']]);
      // Stored with the plan: a later re-validation (an override elsewhere) judges by the same rule.
      assert.equal((await engine.getInstallation(plan.installation.id)).keepExisting, true);
      const again = await engine.revalidate(plan.installation.id, [{ type: 'TASSGN', sourceId: 'a1', action: 'IGNORE' }]);
      assert.equal(byKey(again.entries, 'GROUP', 'g1').action, 'USEEXISTING');
      assert.equal(byKey(again.entries, 'ROLE', 'r1').action, 'USEEXISTING');
      // Without the rule the same target gives UPDATE.
      const updating = await engine.prepare(pkgId, 'prev');
      assert.equal(updating.installation.keepExisting, false);
      assert.equal(byKey(updating.entries, 'GROUP', 'g1').action, 'UPDATE');
    });

    it('keeps the match policy through a re-validation', async () => {
      const plan = await engine.prepare(pkgId, 'prev', { policy: 'id+name' });
      assert.equal(byKey(plan.entries, 'GROUP', 'g1').action, 'CREATE');
      const again = await engine.revalidate(plan.installation.id, [{ type: 'TASSGN', sourceId: 'a1', action: 'IGNORE' }]);
      assert.equal(again.installation.policy, 'id+name');
      // Under the default policy the group would match Default Group by name (USEEXISTING or UPDATE).
      const g = byKey(again.entries, 'GROUP', 'g1');
      assert.deepEqual([g.action, g.match], ['CREATE', 'none']);
    });

    it('applies install edits only to a current plan, refuses invalid ones naming them, and puts the plan back', async () => {
      const plan = await engine.prepare(pkgId, 'prev', { keepExisting: true });
      const id = plan.installation.id;
      const before = await engine.getEntries(id);
      // 003's warning: a CREATE parent IGNOREd with children still CREATE.
      await rejectsWith(
        applyInstallEdits(engine, id, [{ type: 'TMPL', sourceId: 't1', action: 'IGNORE' }]),
        '409 PLAN_INVALID',
        /TTSK:k1 "Brief" \(CREATE\): its owner TMPL:t1 is IGNOREd but it is not: IGNORE it too/,
      );
      // 003's other warning: a unique-name record in use switched to CREATE.
      await rejectsWith(applyInstallEdits(engine, id, [{ type: 'GROUP', sourceId: 'g1', action: 'CREATE' }]), '409 PLAN_INVALID', /duplicate the unique name/);
      const after = await engine.getEntries(id);
      assert.deepEqual(
        after.map((e) => [e.type, e.sourceId, e.action, e.targetId, e.isValid]),
        before.map((e) => [e.type, e.sourceId, e.action, e.targetId, e.isValid]),
      );
      // IGNORE of the parent and every child is valid.
      await applyInstallEdits(engine, id, [
        { type: 'TMPL', sourceId: 't1', action: 'IGNORE' },
        { type: 'TTSK', sourceId: 'k1', action: 'IGNORE' },
        { type: 'TASSGN', sourceId: 'a1', action: 'IGNORE' },
      ]);
      assert.equal(byKey(await engine.getEntries(id), 'TMPL', 't1').action, 'IGNORE');

      // The target moved after the pre-run: refused before any edit is looked at.
      const stale = await engine.prepare(pkgId, 'prev', { keepExisting: true });
      await engine.loadObjects('prev', [{ type: 'ROLE', id: 'R-X', name: 'Other', fields: {} }]);
      await rejectsWith(
        applyInstallEdits(engine, stale.installation.id, [{ type: 'TMPL', sourceId: 't1', action: 'IGNORE' }]),
        '409 STALE_PLAN',
        /prepare again/,
      );
      assert.equal(byKey(await engine.getEntries(stale.installation.id), 'TMPL', 't1').action, 'CREATE');
    });

    it('edits several attributes at once, and a refused edit changes nothing', async () => {
      const pkg = await engine.createPackage({ sourceEnvId: 'dev', name: 'Edited', selection: [{ type: 'ROLE', id: 'r1' }] });
      const entities = [{ type: 'ROLE', id: 'r1', name: 'Designer', fields: { description: 'by hand' } }];
      await rejectsWith(editPackage(engine, pkg.id, { name: 'New name', entities, status: 'ASSEMBLING' }), '400 INVALID_REQUEST', /cannot be set directly/);
      await rejectsWith(editPackage(engine, pkg.id, { name: 'New name', entities: [{ type: 'NOPE', id: 'x', name: 'x', fields: {} }] }), '400 INVALID_REQUEST');
      assert.deepEqual(await engine.getPackage(pkg.id), pkg);
      const next = await editPackage(engine, pkg.id, { name: 'New name', description: 'd', entities, status: 'ACTIVE' });
      assert.deepEqual([next.name, next.description, next.status, next.version, next.entityCount], ['New name', 'd', 'ACTIVE', pkg.version + 1, 1]);
      assert.ok(next.publishedAt);
    });

    it('creates an empty package DRAFT; extracting again goes back to ASSEMBLING with a new version', async () => {
      const empty = await createEmptyPackage(engine, { sourceEnvId: 'dev', name: 'Empty' });
      assert.deepEqual([empty.status, empty.version, empty.entityCount], ['DRAFT', 1, 0]);
      const plan = await engine.prepare(empty.id, 'prev');
      const restarted = await restartAssembly(engine, empty.id, [{ type: 'TMPL', id: 't1' }]);
      assert.deepEqual([restarted.status, restarted.version], ['ASSEMBLING', 2]);
      await rejectsWith(restartAssembly(engine, empty.id, [{ type: 'TMPL', id: 't1' }]), '409 PACKAGE_ASSEMBLING');
      const done = await engine.assemble(restarted, [{ type: 'TMPL', id: 't1' }]);
      assert.equal(done.status, 'DRAFT');
      assert.ok(done.entityCount > 0);
      // The plan of the empty package is refused: the package changed since.
      await engine.setPackageStatus(empty.id, 'ACTIVE');
      await rejectsWith(applyInstallEdits(engine, plan.installation.id, []), '409 STALE_PLAN');
    });
  });
}
