import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assemblePackage, explainPath } from '../../src/core/assemble.js';
import { orderForInstall } from '../../src/core/order.js';
import { key, preparePlan, summarizePlan, type Override, type TargetLookup } from '../../src/core/plan.js';
import { planInstall } from '../../src/core/install-plan.js';
import { changeStatus, installRefusal, pushRefusal } from '../../src/core/rules.js';
import { contentHash } from '../../src/core/hash.js';
import { naturalKeyOf } from '../../src/core/refs.js';
import { DEFAULT_CATALOG as catalog } from '../../src/core/default-catalog.js';
import type { Environment, FerryObject, IdMapEntry, Package, PackageEntity, StoredObject } from '../../src/core/types.js';
import { ValidationError } from '../../src/core/errors.js';
import { world } from '../support/world.js';

/** Template t1 with two tasks (k1 -> k2 predecessor), an assignment, a group and a role. */
function templateWorld() {
  return world()
    .add('GROUP', 'g1', 'Default Group', { description: 'everyone' })
    .add('ROLE', 'r1', 'Designer', {})
    .add('TMPL', 't1', 'Onboarding', { groupID: 'g1', description: 'v1' })
    .add('TTSK', 'k1', 'Brief', { templateID: 't1', roleID: 'r1' })
    .add('TTSK', 'k2', 'Review', { templateID: 't1', roleID: 'r1' })
    .add('TASSGN', 'a1', 'Designer on brief', { templateTaskID: 'k1', roleID: 'r1' })
    .add('TPRED', 'p1', 'Brief before review', { successorID: 'k2', predecessorID: 'k1' })
    .add('TMPL', 't2', 'Unrelated', {});
}

const ids = (list: { type: string; id: string }[]) => list.map((e) => `${e.type}:${e.id}`).sort();

describe('assemblePackage', () => {
  it('follows refs forward and owned children backward, keeping the selected type includes', async () => {
    const w = templateWorld();
    const { entities, externals } = await assemblePackage(w, [{ type: 'TMPL', id: 't1' }], catalog);
    assert.deepEqual(ids(entities), ['GROUP:g1', 'ROLE:r1', 'TASSGN:a1', 'TMPL:t1', 'TPRED:p1', 'TTSK:k1', 'TTSK:k2']);
    assert.deepEqual(externals, []);
  });

  it('records why each entity is in the package', async () => {
    const w = templateWorld();
    const { entities } = await assemblePackage(w, [{ type: 'TMPL', id: 't1' }], catalog);
    const byKey = new Map(entities.map((e) => [`${e.type}:${e.id}`, e]));
    const a1 = byKey.get('TASSGN:a1')!;
    const path = explainPath(a1, (t, i) => byKey.get(`${t}:${i}`));
    assert.deepEqual(path, [
      'TMPL:t1 (selected)',
      'TTSK:k1 (owned child of TMPL:t1, via templateID)',
      'TASSGN:a1 (owned child of TTSK:k1, via templateTaskID)',
    ]);
  });

  it('leaves refs to types outside the includes as external references', async () => {
    const w = templateWorld();
    const { entities, externals } = await assemblePackage(w, [{ type: 'TTSK', id: 'k1' }], catalog);
    assert.deepEqual(ids(entities), ['TASSGN:a1', 'TTSK:k1']);
    assert.deepEqual(externals.map((x) => `${x.fromType}:${x.fromId}.${x.field}->${x.type}:${x.id}`).sort(), [
      'TASSGN:a1.roleID->ROLE:r1',
      'TTSK:k1.roleID->ROLE:r1',
      'TTSK:k1.templateID->TMPL:t1',
    ]);
  });

  it('includes an object reached through two parents once', async () => {
    const w = templateWorld();
    const { entities } = await assemblePackage(
      w,
      [
        { type: 'TMPL', id: 't1' },
        { type: 'TMPL', id: 't1' },
      ],
      catalog,
    );
    assert.equal(entities.filter((e) => e.type === 'ROLE').length, 1);
    assert.equal(entities.length, 7);
  });

  it('handles self-references and reference cycles', async () => {
    const w = world()
      .add('TMPL', 't1', 'Cyclic', {})
      .add('TTSK', 'k1', 'A', { templateID: 't1', parentID: 'k2' })
      .add('TTSK', 'k2', 'B', { templateID: 't1', parentID: 'k1' })
      .add('TTSK', 'k3', 'Self', { templateID: 't1', parentID: 'k3' });
    const { entities } = await assemblePackage(w, [{ type: 'TMPL', id: 't1' }], catalog);
    assert.deepEqual(ids(entities), ['TMPL:t1', 'TTSK:k1', 'TTSK:k2', 'TTSK:k3']);
    const order = orderForInstall(entities, catalog);
    assert.deepEqual(order.cycles, [['TTSK:k1', 'TTSK:k2'], ['TTSK:k3']]);
    assert.equal(order.deferredRefs, 2);
  });

  it('refuses a selection that does not exist in the source', async () => {
    await assert.rejects(assemblePackage(templateWorld(), [{ type: 'TMPL', id: 'nope' }], catalog), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /not found in the source environment: TMPL:nope/);
      return true;
    });
  });

  it('keeps a sub-group hierarchy with its root', async () => {
    const w = world()
      .add('GROUP', 'g1', 'Root', {})
      .add('GROUP', 'g2', 'Child', { parentID: 'g1' })
      .add('GROUP', 'g3', 'Grandchild', { parentID: 'g2' })
      .add('GROUP', 'g4', 'Elsewhere', {});
    const { entities } = await assemblePackage(w, [{ type: 'GROUP', id: 'g1' }], catalog);
    assert.deepEqual(ids(entities), ['GROUP:g1', 'GROUP:g2', 'GROUP:g3']);
  });
});

describe('orderForInstall', () => {
  it('puts referenced objects first and is deterministic', async () => {
    const { entities } = await assemblePackage(templateWorld(), [{ type: 'TMPL', id: 't1' }], catalog);
    const a = orderForInstall(entities, catalog);
    const b = orderForInstall([...entities].reverse(), catalog);
    assert.deepEqual(ids(a.ordered), ids(b.ordered));
    assert.deepEqual(
      a.ordered.map((e) => `${e.type}:${e.id}`),
      b.ordered.map((e) => `${e.type}:${e.id}`),
    );
    const pos = (k: string) => a.ordered.findIndex((e) => `${e.type}:${e.id}` === k);
    assert.ok(pos('GROUP:g1') < pos('TMPL:t1'));
    assert.ok(pos('TMPL:t1') < pos('TTSK:k1'));
    assert.ok(pos('TTSK:k1') < pos('TASSGN:a1'));
    assert.ok(pos('TTSK:k2') < pos('TPRED:p1'));
    assert.deepEqual(a.installOrder, ['GROUP', 'ROLE', 'TMPL', 'TTSK', 'TASSGN', 'TPRED']);
    assert.equal(a.deferredRefs, 0);
  });

  it('orders a 200k-long chain without overflowing the stack', () => {
    const list: FerryObject[] = [{ type: 'TMPL', id: 't', name: 't', fields: {} }];
    for (let i = 0; i < 200_000; i++) list.push({ type: 'TTSK', id: `k${i}`, name: 'x', fields: { templateID: 't', parentID: i ? `k${i - 1}` : null } });
    const o = orderForInstall(list, catalog);
    assert.equal(o.ordered[0]!.id, 't');
    assert.equal(o.ordered[1]!.id, 'k0');
    assert.equal(o.ordered[200_000]!.id, 'k199999');
  });
});

// ----------------------------------------------------------------- prepare

const target: Pick<Environment, 'id' | 'parameters' | 'targetOwned'> = { id: 'prod', parameters: { apiBase: 'https://prod.example.test' }, targetOwned: {} };

function stored(o: FerryObject): StoredObject {
  return { ...o, hash: contentHash(o.name, o.fields), updatedAt: '2026-01-01T00:00:00.000Z' };
}

async function entitiesOf(w: ReturnType<typeof world>, sel: { type: string; id: string }[]): Promise<PackageEntity[]> {
  const { entities } = await assemblePackage(w, sel, catalog);
  return orderForInstall(entities, catalog).ordered.map((e, ord) => ({ ...e, hash: contentHash(e.name, e.fields), ord }));
}

/** Build the lookup the engine would, from a target world and ID map rows. */
function lookupFor(entities: PackageEntity[], t: ReturnType<typeof world>, idMap: IdMapEntry[] = []): TargetLookup {
  const lookup: TargetLookup = { byId: new Map(), idMap: new Map(), targets: new Map(), byKey: new Map(), externals: new Map() };
  for (const o of t.list()) {
    const s = stored(o);
    lookup.targets.set(key(o.type, o.id), s);
    const nk = naturalKeyOf(catalog.types[o.type]!, o);
    if (nk) lookup.byKey.set(key(o.type, nk), [...(lookup.byKey.get(key(o.type, nk)) ?? []), s]);
  }
  for (const e of entities) {
    const s = t.objects.get(`${e.type}:${e.id}`);
    if (s) lookup.byId.set(key(e.type, e.id), stored(s));
  }
  for (const r of idMap) lookup.idMap.set(key(r.type, r.sourceId), r);
  return lookup;
}

function prepare(entities: PackageEntity[], lookup: TargetLookup, overrides: Override[] = [], policy: 'default' | 'id+name' = 'default') {
  return preparePlan({ catalog, target, policy, entities, removals: [], lookup, decisions: [], overrides });
}

const entry = (entries: ReturnType<typeof prepare>, type: string, id: string) => entries.find((e) => e.type === type && e.sourceId === id)!;

describe('preparePlan', () => {
  it('creates everything in an empty target', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'TMPL', id: 't1' }]);
    const entries = prepare(ents, lookupFor(ents, world()));
    assert.ok(entries.every((e) => e.action === 'CREATE' && e.isValid && e.targetId === null));
    assert.deepEqual(summarizePlan(entries), { create: 7, update: 0, useExisting: 0, merge: 0, ignore: 0, remove: 0, invalid: 0, drift: 0 });
  });

  it('uses equal objects with the same id, and updates changed ones with the changed fields', async () => {
    const src = templateWorld();
    const ents = await entitiesOf(src, [{ type: 'TMPL', id: 't1' }]);
    const tgt = templateWorld().add('TMPL', 't1', 'Onboarding', { groupID: 'g1', description: 'v0 in target' });
    const entries = prepare(ents, lookupFor(ents, tgt));
    assert.equal(entry(entries, 'TTSK', 'k1').action, 'USEEXISTING');
    assert.equal(entry(entries, 'TMPL', 't1').action, 'UPDATE');
    assert.deepEqual(entry(entries, 'TMPL', 't1').changes, ['description']);
  });

  it('matches by the ID map, then by a unique natural key, with refs rewritten before comparing', async () => {
    const src = templateWorld();
    const ents = await entitiesOf(src, [{ type: 'TMPL', id: 't1' }]);
    const tgt = world().add('GROUP', 'G9', 'Default Group', { description: 'everyone' }).add('TMPL', 'T9', 'Onboarding', { groupID: 'G9', description: 'v1' });
    const idMap: IdMapEntry[] = [{ sourceUid: 'u', type: 'TMPL', sourceId: 't1', targetId: 'T9', hash: stored(tgt.get('TMPL', 'T9')).hash }];
    const entries = prepare(ents, lookupFor(ents, tgt, idMap));
    const g = entry(entries, 'GROUP', 'g1');
    assert.deepEqual([g.action, g.match, g.targetId], ['USEEXISTING', 'naturalKey', 'G9']);
    const t = entry(entries, 'TMPL', 't1');
    // groupID g1 translates to G9, so the template is unchanged.
    assert.deepEqual([t.action, t.match, t.targetId, t.drift], ['USEEXISTING', 'idmap', 'T9', false]);
  });

  it('never lets two entities take the same target object', async () => {
    const src = world()
      .add('TMPL', 'x1', 'Onboarding', { description: 'a' })
      .add('TMPL', 't2', 'Onboarding', { description: 'b' })
      .add('GROUP', 'g1', 'Default Group', {})
      .add('GROUP', 'g2', 'default group', {});
    const ents = await entitiesOf(src, [
      { type: 'TMPL', id: 'x1' },
      { type: 'TMPL', id: 't2' },
      { type: 'GROUP', id: 'g1' },
      { type: 'GROUP', id: 'g2' },
    ]);
    const tgt = world().add('TMPL', 'x1', 'Onboarding', { description: 'a' }).add('GROUP', 'g1', 'Default Group', {});
    const entries = prepare(ents, lookupFor(ents, tgt));
    const x1 = entry(entries, 'TMPL', 'x1');
    const t2 = entry(entries, 'TMPL', 't2');
    assert.deepEqual([x1.action, x1.targetId, x1.match], ['USEEXISTING', 'x1', 'id']);
    // Same (non-unique) name as the object x1 holds by id: no match, so a new one.
    assert.deepEqual([t2.action, t2.targetId, t2.match, t2.isValid], ['CREATE', null, 'none', true]);
    // A unique name another entity holds by id is a conflict to resolve.
    const g2 = entry(entries, 'GROUP', 'g2');
    assert.equal(g2.isValid, false);
    assert.match(g2.reason!, /target GROUP:g1 is already matched by GROUP:g1 \(by id\)/);
    assert.equal(entry(entries, 'GROUP', 'g1').isValid, true);
  });

  it('with keepExisting, uses a matched object whose content differs as it is, listing the differences, until a user sets UPDATE', async () => {
    const src = templateWorld();
    const ents = await entitiesOf(src, [{ type: 'TMPL', id: 't1' }]);
    const tgt = templateWorld().add('TMPL', 't1', 'Onboarding', { groupID: 'g1', description: 'v0 in target' });
    const keep = (overrides: Override[] = []) =>
      preparePlan({
        catalog,
        target,
        policy: 'default',
        keepExisting: true,
        entities: ents,
        removals: [],
        lookup: lookupFor(ents, tgt),
        decisions: [],
        overrides,
      });
    const t = entry(keep(), 'TMPL', 't1');
    assert.deepEqual([t.action, t.autoAction, t.targetId, t.changes, t.isValid], ['USEEXISTING', 'USEEXISTING', 't1', ['description'], true]);
    assert.ok(keep().every((e) => e.action === 'USEEXISTING'));
    const chosen = entry(keep([{ type: 'TMPL', sourceId: 't1', action: 'UPDATE' }]), 'TMPL', 't1');
    assert.deepEqual([chosen.action, chosen.autoAction, chosen.isValid], ['UPDATE', 'USEEXISTING', true]);
  });

  it('reports drift when the target changed since the last install', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'TMPL', id: 't1' }]);
    const tgt = world().add('GROUP', 'G9', 'Default Group', { description: 'edited downstream' });
    const idMap: IdMapEntry[] = [
      { sourceUid: 'u', type: 'GROUP', sourceId: 'g1', targetId: 'G9', hash: contentHash('Default Group', { description: 'everyone' }) },
    ];
    const g = entry(prepare(ents, lookupFor(ents, tgt, idMap)), 'GROUP', 'g1');
    assert.deepEqual([g.action, g.drift, g.changes], ['UPDATE', true, ['description']]);
  });

  it('reports an ambiguous natural key match as invalid', async () => {
    const ents = await entitiesOf(world().add('TMPL', 't1', 'Onboarding', {}), [{ type: 'TMPL', id: 't1' }]);
    const tgt = world().add('TMPL', 'x1', 'Onboarding', {}).add('TMPL', 'x2', 'onboarding ', {});
    const t = entry(prepare(ents, lookupFor(ents, tgt)), 'TMPL', 't1');
    assert.equal(t.isValid, false);
    assert.match(t.reason!, /ambiguous: 2 target TMPL objects match "Onboarding"/);
    // Choosing one resolves it.
    const chosen = entry(prepare(ents, lookupFor(ents, tgt), [{ type: 'TMPL', sourceId: 't1', action: 'USEEXISTING', targetId: 'x2' }]), 'TMPL', 't1');
    assert.deepEqual([chosen.isValid, chosen.targetId, chosen.match], [true, 'x2', 'user']);
  });

  it('marks a required ref that resolves nowhere invalid, and clears an optional one with a note', async () => {
    const w = templateWorld().add('TPRED', 'p2', 'dangling', { successorID: 'k1', predecessorID: 'gone' });
    const ents = await entitiesOf(w, [{ type: 'TMPL', id: 't1' }]);
    const entries = prepare(ents, lookupFor(ents, world()));
    const p2 = entry(entries, 'TPRED', 'p2');
    assert.equal(p2.isValid, false);
    assert.match(p2.reason!, /required ref predecessorID -> TTSK:gone is not in the package and not in the target/);
    const ents2 = await entitiesOf(world().add('TMPL', 't1', 'x', { scheduleID: 's-gone' }), [{ type: 'TMPL', id: 't1' }]);
    const t = entry(prepare(ents2, lookupFor(ents2, world())), 'TMPL', 't1');
    assert.equal(t.isValid, true);
    assert.match(t.reason!, /ref scheduleID -> SCHED:s-gone .* will be cleared/);
  });

  it('requires the children of an IGNOREd parent to be IGNOREd too', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'TMPL', id: 't1' }]);
    const lookup = lookupFor(ents, world());
    const bad = prepare(ents, lookup, [{ type: 'TMPL', sourceId: 't1', action: 'IGNORE' }]);
    assert.equal(entry(bad, 'TTSK', 'k1').isValid, false);
    assert.match(entry(bad, 'TTSK', 'k1').reason!, /owner TMPL:t1 is IGNOREd but it is not/);
    const all = ['TMPL:t1', 'TTSK:k1', 'TTSK:k2', 'TASSGN:a1', 'TPRED:p1'].map((s) => {
      const [type, sourceId] = s.split(':') as [string, string];
      return { type, sourceId, action: 'IGNORE' as const };
    });
    const good = prepare(ents, lookup, all);
    assert.equal(summarizePlan(good).invalid, 0);
    assert.equal(summarizePlan(good).ignore, 5);
  });

  it('marks a required ref to an IGNOREd object without a target invalid', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'TMPL', id: 't1' }]);
    const entries = prepare(ents, lookupFor(ents, world()), [
      { type: 'TTSK', sourceId: 'k1', action: 'IGNORE' },
      { type: 'TASSGN', sourceId: 'a1', action: 'IGNORE' },
    ]);
    const p1 = entry(entries, 'TPRED', 'p1');
    assert.equal(p1.isValid, false);
    assert.match(p1.reason!, /required ref predecessorID -> TTSK:k1 is IGNOREd and has no target object/);
    assert.equal(entry(entries, 'TTSK', 'k1').autoAction, 'CREATE');
  });

  it('refuses a CREATE that would duplicate a unique name', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'TMPL', id: 't1' }]);
    const tgt = world().add('GROUP', 'G9', 'Default Group', { description: 'everyone' });
    const g = entry(prepare(ents, lookupFor(ents, tgt), [{ type: 'GROUP', sourceId: 'g1', action: 'CREATE' }]), 'GROUP', 'g1');
    assert.equal(g.isValid, false);
    assert.match(g.reason!, /CREATE would duplicate the unique name of target GROUP:G9/);
  });

  it('merges memberships for users (rule 6) and keeps target-owned fields', async () => {
    const src = world()
      .add('USRGRP', 'ug1', 'Analysts', {})
      .add('USRGRP', 'ug2', 'Designers', {})
      .add('USER', 'u1', 'Ann', { login: 'ann', userGroupIDs: ['ug1', 'ug2'], passwordHash: 'dev-hash' });
    const ents = await entitiesOf(src, [{ type: 'USER', id: 'u1' }]);
    const tgt = world()
      .add('USRGRP', 'ug1', 'Analysts', {})
      .add('USRGRP', 'ug2', 'Designers', {})
      .add('USRGRP', 'ug3', 'Admins', {})
      .add('USER', 'U9', 'Ann', { login: 'ann', userGroupIDs: ['ug3', 'ug1'], passwordHash: 'prod-secret' });
    const lookup = lookupFor(ents, tgt);
    const entries = prepare(ents, lookup);
    const u = entry(entries, 'USER', 'u1');
    assert.deepEqual([u.action, u.targetId, u.changes], ['MERGE', 'U9', ['userGroupIDs']]);
    const steps = planInstall({ catalog, target, entities: ents, entries, targets: lookup.targets, externals: new Map(), newId: () => 'new' });
    const upd = steps.find((s) => s.op === 'update');
    assert.ok(upd && upd.op === 'update');
    assert.deepEqual(upd.object.fields, { login: 'ann', userGroupIDs: ['ug3', 'ug1', 'ug2'], passwordHash: 'prod-secret' });
  });

  it('matches only on id and name under the strict sync policy', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'GROUP', id: 'g1' }]);
    const tgt = world().add('GROUP', 'g1', 'Renamed Group', { description: 'everyone' });
    const g = entry(prepare(ents, lookupFor(ents, tgt), [], 'id+name'), 'GROUP', 'g1');
    assert.equal(g.isValid, false);
    assert.match(g.reason!, /conflict: target GROUP:g1 is named "Renamed Group", not "Default Group"/);
  });

  it('substitutes ${parameters} and refuses missing ones', async () => {
    const src = world().add('EXTSEC', 'e1', 'Status page', { url: '${apiBase}/status', token: '${secretToken}' });
    const ents = await entitiesOf(src, [{ type: 'EXTSEC', id: 'e1' }]);
    const e = entry(prepare(ents, lookupFor(ents, world())), 'EXTSEC', 'e1');
    assert.equal(e.isValid, false);
    assert.match(e.reason!, /parameter \$\{secretToken\} not set in target environment prod/);
    const ok = preparePlan({
      catalog,
      target: { ...target, parameters: { ...target.parameters, secretToken: 't' } },
      policy: 'default',
      entities: ents,
      removals: [],
      lookup: lookupFor(ents, world()),
      decisions: [],
      overrides: [],
    });
    assert.equal(ok[0]!.isValid, true);
    const steps = planInstall({
      catalog,
      target: { ...target, parameters: { ...target.parameters, secretToken: 't' } },
      entities: ents,
      entries: ok,
      targets: new Map(),
      externals: new Map(),
      newId: () => 'n1',
    });
    assert.deepEqual(steps[0], {
      op: 'create',
      type: 'EXTSEC',
      sourceId: 'e1',
      targetId: 'n1',
      object: { type: 'EXTSEC', id: 'n1', name: 'Status page', fields: { url: 'https://prod.example.test/status', token: 't' } },
      deferred: [],
    });
  });
});

describe('preparePlan removals', () => {
  const tgt = () =>
    world()
      .add('TMPL', 't1', 'Onboarding', {})
      .add('ROLE', 'r1', 'Designer', {})
      .add('ROLE', 'r2', 'Reviewer', {})
      .add('TTSK', 'k1', 'Brief', { templateID: 't1', roleID: 'r1' });
  const entity = (o: FerryObject, ord: number): PackageEntity => ({ ...o, hash: contentHash(o.name, o.fields), ord, via: null });
  function plan(entities: PackageEntity[]) {
    const t = tgt();
    const lookup = lookupFor(entities, t);
    lookup.byId.set(key('ROLE', 'r1'), stored(t.get('ROLE', 'r1')));
    lookup.externals.set(key('TMPL', 't1'), 't1');
    lookup.externals.set(key('ROLE', 'r1'), 'r1');
    lookup.externals.set(key('ROLE', 'r2'), 'r2');
    // What the engine finds in the target: task k1 points at role r1 through roleID, a plain ref.
    lookup.referrers = new Map([[key('ROLE', 'r1'), [{ type: 'TTSK', id: 'k1', field: 'roleID' }]]]);
    return preparePlan({ catalog, target, policy: 'default', entities, removals: [{ type: 'ROLE', id: 'r1' }], lookup, decisions: [], overrides: [] });
  }

  it('refuses to remove an object that target objects still point at', () => {
    const r = entry(plan([]), 'ROLE', 'r1');
    assert.deepEqual([r.action, r.isValid], ['REMOVE', false]);
    assert.equal(r.reason, 'removing it would leave 1 object in the target pointing at it (TTSK:k1 roleID); remove them too or change their refs first');
  });

  it('removes it when the same plan rewrites the referrer without that ref', () => {
    const entries = plan([entity({ type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r2' } }, 0)]);
    assert.deepEqual([entry(entries, 'TTSK', 'k1').action, entry(entries, 'ROLE', 'r1').isValid], ['UPDATE', true]);
    // A plan that keeps the ref (USEEXISTING: the same content) does not free it.
    const kept = plan([entity({ type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } }, 0)]);
    assert.deepEqual([entry(kept, 'TTSK', 'k1').action, entry(kept, 'ROLE', 'r1').isValid], ['USEEXISTING', false]);
  });
});

describe('planInstall', () => {
  it('rewrites every ref to target ids and patches cycles in a second phase', async () => {
    const w = world()
      .add('TMPL', 't1', 'Cyclic', {})
      .add('TTSK', 'k1', 'A', { templateID: 't1', parentID: 'k2' })
      .add('TTSK', 'k2', 'B', { templateID: 't1', parentID: 'k1' });
    const ents = await entitiesOf(w, [{ type: 'TMPL', id: 't1' }]);
    const entries = prepare(ents, lookupFor(ents, world()));
    let n = 0;
    const steps = planInstall({ catalog, target, entities: ents, entries, targets: new Map(), externals: new Map(), newId: (t) => `${t.type}-${++n}` });
    const creates = steps.filter((s) => s.op === 'create');
    const idOf = new Map(creates.map((s) => [s.sourceId, s.targetId]));
    for (const s of creates) if (s.type === 'TTSK') assert.equal(s.object.fields.templateID, idOf.get('t1'));
    const patches = steps.filter((s) => s.op === 'patch');
    assert.equal(patches.length, 1);
    const p = patches[0]!;
    assert.ok(p.op === 'patch');
    const other = p.sourceId === 'k1' ? 'k2' : 'k1';
    assert.deepEqual(p.fields, { parentID: idOf.get(other) });
    const first = creates.find((s) => s.sourceId === p.sourceId)!;
    assert.ok(first.op === 'create');
    assert.equal(first.object.fields.parentID, null);
  });

  it('refuses an invalid plan', async () => {
    const ents = await entitiesOf(templateWorld(), [{ type: 'TMPL', id: 't1' }]);
    const entries = prepare(ents, lookupFor(ents, world()), [{ type: 'TMPL', sourceId: 't1', action: 'IGNORE' }]);
    assert.throws(() => planInstall({ catalog, target, entities: ents, entries, targets: new Map(), externals: new Map(), newId: () => 'x' }), /invalid entr/);
  });
});

describe('rules', () => {
  it('gates installs by package status and tier (003)', () => {
    assert.equal(installRefusal('ACTIVE', 'production'), null);
    assert.equal(installRefusal('TESTING', 'preview'), null);
    assert.match(installRefusal('TESTING', 'production')!, /cannot be installed into a production/);
    assert.match(installRefusal('DRAFT', 'development')!, /DRAFT/);
    assert.match(installRefusal('DISABLED', 'testing')!, /DISABLED/);
  });

  it('refuses pushing to a lower tier unless forced (002)', () => {
    assert.equal(pushRefusal('development', 'production', false), null);
    assert.match(pushRefusal('production', 'development', false)!, /push one-way/);
    assert.equal(pushRefusal('production', 'development', true), null);
  });

  it('stamps publishedAt and retiredAt, and keeps ASSEMBLING to the system', () => {
    const pkg = { status: 'DRAFT', publishedAt: null, retiredAt: null } as unknown as Package;
    const active = changeStatus(pkg, 'ACTIVE', 'T1');
    assert.equal(active.publishedAt, 'T1');
    assert.equal(changeStatus(active, 'DISABLED', 'T2').retiredAt, 'T2');
    assert.throws(() => changeStatus(pkg, 'ASSEMBLING', 'T'), /set by assembly/);
  });
});
