// A client following 003 step by step, from package creation to the
// installation details, on a package of every promotable object of 003's
// catalog, into a preview and a production environment of one server; the
// package status rules; the actions a client may ask for beyond 003
// (allowUpdate, the later revision's OVERWRITING).
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachServer, type DialectServer } from './harness.js';
import { assertError, assertShape, installationRecord } from './promotion-examples.js';
import { DEV, HOSTS, PREVIEW, PROD, client, first, setUpWorld, untilAssembled, type Call, type PromotionWorld } from './promotion-world.js';

/** The promotable objects of 003's "Supported objects" tables. */
const PROMOTABLE_003 = [
  'PROJ',
  'TMPL',
  'UITMPL',
  'PTLTAB',
  'CALEND',
  'EXTSEC',
  'PTLSEC',
  'UIFT',
  'UIGB',
  'UIVW',
  'CTGY',
  'PARAM',
  'PGRP',
  'GROUP',
  'ROLE',
  'TEAM',
  'CMPY',
  'PORT',
  'PRGM',
  'ARVPRC',
  'SCHED',
  'MPATH',
  'TSPRO',
  'HOURT',
  'EXPTYP',
  'RSKTYP',
  'RSPL',
];

type MapRecord = { name: string; action: string; isValid: boolean; targetId?: string; installationStatus?: string; reason?: string };
const records = (map: Record<string, Record<string, MapRecord>>) =>
  Object.entries(map).flatMap(([type, byId]) => Object.entries(byId).map(([id, r]) => ({ type, id, ...r })));

async function objectOf(s: DialectServer, envId: string, type: string, id: string) {
  return s.native('GET', `/environments/${envId}/objects/${type}/${id}`);
}

eachServer('promotion face: a package of every promotable object, into preview and production', (server) => {
  let w: PromotionWorld;
  let call: Call;
  let pkgId = '';
  let previewInstall = '';

  before(async () => {
    w = await setUpWorld(server());
    call = client(server(), { apikey: w.pat });
  });

  it('creates the package through the source environment (its Host), with every promotable objCode of 003', async () => {
    const objectCollections = PROMOTABLE_003.map((objCode) => ({
      objCode,
      entities: w.dev.filter((o) => o.type === objCode).map((o) => ({ ID: o.id, name: o.name })),
    }));
    const r = await call('POST', '/packages', { json: { name: 'Everything', description: 'all of 003', objectCollections }, host: HOSTS[DEV] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.status, 'ASSEMBLING');
    assert.match(r.json.data.source, /^http:\/\/dev\.example\.test(:\d+)?$/);
    pkgId = r.json.data.id;
    const pkg = await untilAssembled(call, pkgId);
    assert.equal(pkg.status, 'DRAFT', JSON.stringify(pkg));
    assert.deepEqual(Object.keys(pkg.displayEntities).sort(), [...PROMOTABLE_003].sort());
    const definition = (await call('GET', `/packages/${pkgId}/definition`)).json.packageEntities;
    // Sub-objects come with the objects that include them.
    for (const type of ['TTSK', 'TASSGN', 'TPRED', 'TASK', 'QUED', 'ARVPTH', 'CTGYPA', 'POPT', 'NONWKD', 'MILE']) assert.ok(definition[type]?.length > 0, type);
  });

  it('DRAFT installs nowhere: the pre-run says why, the install is refused and writes nothing', async () => {
    const pre = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: HOSTS[PREVIEW] });
    assert.equal(pre.status, 200, pre.text);
    assert.match(pre.json.installBlocker, /DRAFT/);
    assertError(
      await call('POST', `/installations/${pre.json.id}/install`, { json: {}, host: HOSTS[PREVIEW] }),
      409,
      /package is DRAFT: it cannot be installed anywhere/,
    );
    assert.equal((await call('GET', `/installations/${pre.json.id}`)).json.status, 'PREPARING');
  });

  it('ASSEMBLING (and ASSEMBLING_FAILED) cannot be set by a client; an unknown status is refused', async () => {
    for (const status of ['ASSEMBLING', 'ASSEMBLING_FAILED']) {
      assertError(await call('PATCH', `/packages/${pkgId}`, { json: { status } }), 400, /cannot be set directly/);
    }
    assertError(
      await call('PATCH', `/packages/${pkgId}`, { json: { status: 'PUBLISHED' } }),
      400,
      /body\.status must be one of ASSEMBLING, DRAFT, TESTING, ACTIVE, DISABLED/,
    );
    assert.equal((await call('GET', `/packages/${pkgId}`)).json.data.status, 'DRAFT');
  });

  it('TESTING installs into preview: every record INSTALLED or REGISTERED, refs remapped, existing records untouched', async () => {
    const s = server();
    assert.equal((await call('PATCH', `/packages/${pkgId}`, { json: { status: 'TESTING' } })).json.data.status, 'TESTING');
    const pre = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: HOSTS[PREVIEW] });
    assert.equal(pre.status, 200, pre.text);
    assert.equal(pre.json.installBlocker, undefined);
    previewInstall = pre.json.id;
    const planned = records(pre.json.translationMap);
    assert.ok(planned.every((r) => r.isValid && (r.action === 'CREATE' || r.action === 'USEEXISTING')));
    // The five objects preview already has are used as they are, even the role whose rate differs.
    const existing = planned.filter((r) => r.action === 'USEEXISTING');
    assert.deepEqual(existing.map((r) => `${r.type} ${r.name}`).sort(), w.existing.map((o) => `${o.type} ${o.name}`).sort());

    const ins = await call('POST', `/installations/${previewInstall}/install`, { json: {}, host: HOSTS[PREVIEW] });
    assert.equal(ins.status, 200, ins.text);
    const done = await call('GET', `/installations/${previewInstall}`);
    assertShape(done.json, installationRecord);
    assert.equal(done.json.status, 'COMPLETED');
    const installed = records(done.json.translationMap);
    for (const r of installed) assert.equal(r.installationStatus, r.action === 'CREATE' ? 'INSTALLED' : 'REGISTERED', JSON.stringify(r));

    // The role whose rate differs keeps preview's rate (USEEXISTING never modifies the target).
    const pm = first(w.existing, 'ROLE', (o) => o.name === 'Project Manager');
    assert.equal((await objectOf(s, PREVIEW, 'ROLE', `e${pm.id.slice(1)}`)).fields.billingPerHour, pm.fields.billingPerHour);
    // Refs point at the ids the objects got in preview.
    const tmplIds = new Set(installed.filter((r) => r.type === 'TMPL').map((r) => r.targetId));
    const tasks = (await s.native('GET', `/environments/${PREVIEW}/objects?type=TTSK&limit=1000`)).items as { fields: { templateID: string } }[];
    assert.equal(tasks.length, w.dev.filter((o) => o.type === 'TTSK').length);
    assert.ok(tasks.every((t) => tmplIds.has(t.fields.templateID)));
  });

  it('TESTING does not install into production; ACTIVE does, and sets publishedAt', async () => {
    const pre = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: HOSTS[PROD] });
    assert.equal(pre.status, 200, pre.text);
    assert.match(pre.json.installBlocker, /TESTING: it cannot be installed into a production environment/);
    assertError(await call('POST', `/installations/${pre.json.id}/install`, { json: {}, host: HOSTS[PROD] }), 409, /TESTING/);

    const active = await call('PATCH', `/packages/${pkgId}`, { json: { status: 'ACTIVE' } });
    assert.equal(active.json.data.status, 'ACTIVE');
    assert.ok(Date.parse(active.json.data.publishedAt) > 0);
    // The status gate is checked at install: the same pre-run now installs.
    const ins = await call('POST', `/installations/${pre.json.id}/install`, { json: {}, host: HOSTS[PROD] });
    assert.equal(ins.status, 200, ins.text);
    const done = await call('GET', `/installations/${pre.json.id}`);
    assert.equal(done.json.status, 'COMPLETED', done.text);
    assert.match(done.json.environment, /^http:\/\/prod\.example\.test(:\d+)?$/);
  });

  it('lists the installations of the package across every environment it went to, with their counts', async () => {
    const list = await call('GET', `/installations?environmentPromotionPackageId=${pkgId}`);
    assert.equal(list.status, 200, list.text);
    assertShape(list.json, [installationRecord]);
    const summary = (list.json as { status: string; environment: string }[]).map((i) => `${i.status} ${new URL(i.environment).hostname}`);
    assert.deepEqual(summary, [`PREPARING ${HOSTS[PREVIEW]}`, `COMPLETED ${HOSTS[PREVIEW]}`, `COMPLETED ${HOSTS[PROD]}`]);
    assert.deepEqual((await call('GET', `/packages/${pkgId}`)).json.data.installationCounts, { PREPARING: 1, COMPLETED: 2 });
  });

  it('DISABLED installs nowhere, sets retiredAt and keeps the package and its history', async () => {
    const disabled = await call('PATCH', `/packages/${pkgId}`, { json: { status: 'DISABLED' } });
    assert.equal(disabled.json.data.status, 'DISABLED');
    assert.ok(Date.parse(disabled.json.data.retiredAt) > 0);
    const pre = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: HOSTS[PREVIEW] });
    assertError(await call('POST', `/installations/${pre.json.id}/install`, { json: {}, host: HOSTS[PREVIEW] }), 409, /DISABLED/);
    const list = await call('GET', `/installations?environmentPromotionPackageId=${pkgId}`);
    assert.equal(list.json.filter((i: { status: string }) => i.status === 'COMPLETED').length, 2);
    assert.equal((await call('GET', `/packages/${pkgId}`)).json.data.status, 'DISABLED');
  });

  it('"allowUpdate": true offers UPDATE for a matched record that differs; without it the record is used as it is', async () => {
    const s = server();
    const role = first(w.dev, 'ROLE', (o) => o.name === 'Project Manager');
    const made = await call('POST', '/packages', { json: { name: 'Rates', objectCollections: [{ objCode: 'ROLE', entities: [{ ID: role.id }] }] }, env: DEV });
    const id = made.json.data.id;
    await untilAssembled(call, id);
    await call('PATCH', `/packages/${id}`, { json: { status: 'ACTIVE' } });
    const target = `e${first(w.existing, 'ROLE', (o) => o.name === 'Project Manager').id.slice(1)}`;

    const plain = await call('POST', `/packages/${id}/prepare-installation`, { json: {}, host: HOSTS[PREVIEW] });
    assert.deepEqual(plain.json.translationMap.ROLE[role.id], { name: 'Project Manager', action: 'USEEXISTING', isValid: true, targetId: target });

    const updating = await call('POST', `/packages/${id}/prepare-installation`, { json: { allowUpdate: true }, host: HOSTS[PREVIEW] });
    assert.equal(updating.status, 200, updating.text);
    assert.deepEqual(updating.json.translationMap.ROLE[role.id], { name: 'Project Manager', action: 'UPDATE', isValid: true, targetId: target });
    assert.equal((await call('POST', `/installations/${updating.json.id}/install`, { json: {}, host: HOSTS[PREVIEW] })).status, 200);
    const done = (await call('GET', `/installations/${updating.json.id}`)).json;
    assert.deepEqual([done.translationMap.ROLE[role.id].action, done.translationMap.ROLE[role.id].installationStatus], ['UPDATE', 'UPDATED']);
    assert.equal((await objectOf(s, PREVIEW, 'ROLE', target)).fields.billingPerHour, role.fields.billingPerHour);
  });

  it('a client of the later revision may set OVERWRITING on a record whose target exists: the target record is replaced', async () => {
    const s = server();
    const role = first(w.dev, 'ROLE', (o) => o.name === 'Project Manager');
    const made = await call('POST', '/packages', {
      json: { packageName: 'Rates, later revision', objectCollections: [{ objCode: 'ROLE', entities: [{ ID: role.id }] }] },
      env: DEV,
    });
    assert.equal(made.json.data.name, 'Rates, later revision');
    const id = made.json.data.id;
    await untilAssembled(call, id);
    await call('PATCH', `/packages/${id}`, { json: { status: 'ACTIVE' } });
    const target = first(w.existing, 'ROLE', (o) => o.name === 'Project Manager');
    const pre = await call('POST', `/packages/${id}/prepare-installation`, { json: {}, host: HOSTS[PROD] });
    const map = pre.json.translationMap;
    assert.equal(map.ROLE[role.id].action, 'USEEXISTING');
    map.ROLE[role.id].action = 'OVERWRITING';
    const ins = await call('POST', `/installations/${pre.json.id}/install`, { json: { translationMap: map }, host: HOSTS[PROD] });
    assert.equal(ins.status, 200, ins.text);
    const done = (await call('GET', `/installations/${pre.json.id}`)).json;
    assert.deepEqual(done.translationMap.ROLE[role.id], {
      name: 'Project Manager',
      action: 'OVERWRITING',
      isValid: true,
      targetId: target.id,
      installationStatus: 'UPDATED',
    });
    assert.equal((await objectOf(s, PROD, 'ROLE', target.id)).fields.billingPerHour, role.fields.billingPerHour);
  });

  it("the later revision's PUT and PATCH name the package `packageName`: accepted as `name`; without either, PUT is refused", async () => {
    const role = first(w.dev, 'ROLE', (o) => o.name === 'Project Manager');
    const made = await call('POST', '/packages', {
      json: { name: 'Renamed later', objectCollections: [{ objCode: 'ROLE', entities: [{ ID: role.id }] }] },
      env: DEV,
    });
    const id = made.json.data.id;
    const read = await untilAssembled(call, id);
    const definition = (await call('GET', `/packages/${id}/definition`)).json.packageEntities;
    const body = { description: 'd', source: `https://${HOSTS[DEV]}`, status: 'TESTING', version: read.version, packageEntities: definition };
    assertError(await call('PUT', `/packages/${id}`, { json: body }), 400, /body\.name is required/);
    assert.equal((await call('GET', `/packages/${id}`)).json.data.status, 'DRAFT');
    const put = await call('PUT', `/packages/${id}`, { json: { packageName: 'Put by the later revision', ...body } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.data.name, 'Put by the later revision');
    assert.equal(put.json.data.status, 'TESTING');
    // `name` wins when both are given, as on create.
    const both = await call('PATCH', `/packages/${id}`, { json: { name: 'By name', packageName: 'By packageName' } });
    assert.equal(both.json.data.name, 'By name');
    const patched = await call('PATCH', `/packages/${id}`, { json: { packageName: 'Patched by the later revision' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.data.name, 'Patched by the later revision');
  });
});
