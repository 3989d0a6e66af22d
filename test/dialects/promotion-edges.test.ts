// What 003 warns about, and what a careful face refuses: the translation
// map edits that would fail (now validation errors that stop the install),
// a target changed after the pre-run, bad bodies and sources (each a 4xx in
// the face's error shape that changes nothing), environment selection, and
// tenants that must not see each other.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachServer, type DialectServer } from './harness.js';
import { assertError } from './promotion-examples.js';
import { DEV, HOSTS, PREVIEW, PROD, client, first, setUpWorld, untilAssembled, type Call, type PromotionWorld } from './promotion-world.js';

async function count(s: DialectServer, envId: string): Promise<number> {
  return ((await s.native('GET', `/environments/${envId}/objects?limit=1`)) as { total: number }).total;
}

eachServer('promotion face: the edge cases 003 warns about', (server) => {
  let w: PromotionWorld;
  let call: Call;
  /** A TESTING package of one template (with its tasks, the default group...). */
  let pkgId = '';
  let tmplId = '';

  const prerun = async (host: string = HOSTS[PREVIEW]) => {
    const r = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host });
    assert.equal(r.status, 200, r.text);
    return r.json as { id: string; translationMap: Record<string, Record<string, { action: string; targetId?: string }>> };
  };

  before(async () => {
    w = await setUpWorld(server());
    call = client(server(), { apikey: w.pat });
    tmplId = first(w.dev, 'TMPL').id;
    const made = await call('POST', '/packages', {
      json: { name: 'One template', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: tmplId }] }] },
      env: DEV,
    });
    pkgId = made.json.data.id;
    await untilAssembled(call, pkgId);
    await call('PATCH', `/packages/${pkgId}`, { json: { status: 'TESTING' } });
  });

  it('a CREATE parent set to IGNORE with children still CREATE stops the install, naming them; nothing changes', async () => {
    const s = server();
    const pre = await prerun();
    const before = await count(s, PREVIEW);
    const map = structuredClone(pre.translationMap);
    map.TMPL![tmplId]!.action = 'IGNORE';
    const r = await call('POST', `/installations/${pre.id}/install`, { json: { translationMap: map }, host: HOSTS[PREVIEW] });
    assertError(
      r,
      409,
      /nothing was installed: \d+ entries are invalid: TTSK:\w+ "[^"]+" \(CREATE\): its owner TMPL:\w+ is IGNOREd but it is not: IGNORE it too/,
    );
    assert.equal(r.json.error.code, 'PLAN_INVALID');
    assert.equal(await count(s, PREVIEW), before);
    // The pre-run is as it was.
    assert.equal((await call('GET', `/installations/${pre.id}`)).json.translationMap.TMPL[tmplId].action, 'CREATE');

    // IGNOREd with all its children, it installs: those records SKIPPED.
    for (const type of ['TMPL', 'TTSK', 'TASSGN', 'TPRED']) for (const rec of Object.values(map[type] ?? {})) rec.action = 'IGNORE';
    const ok = await call('POST', `/installations/${pre.id}/install`, { json: { translationMap: map }, host: HOSTS[PREVIEW] });
    assert.equal(ok.status, 200, ok.text);
    const done = (await call('GET', `/installations/${pre.id}`)).json;
    assert.equal(done.status, 'COMPLETED');
    assert.deepEqual([done.translationMap.TMPL[tmplId].action, done.translationMap.TMPL[tmplId].installationStatus], ['IGNORE', 'SKIPPED']);
  });

  it('a USEEXISTING record with a unique name switched to CREATE stops the install; a non-unique one may be created twice', async () => {
    const s = server();
    const group = first(w.dev, 'GROUP', (o) => o.name === 'Default Group');
    const pre = await prerun();
    const map = structuredClone(pre.translationMap);
    assert.equal(map.GROUP![group.id]!.action, 'USEEXISTING');
    map.GROUP![group.id]!.action = 'CREATE';
    assertError(await call('POST', `/installations/${pre.id}/install`, { json: map, host: HOSTS[PREVIEW] }), 409, /CREATE would duplicate the unique name/);

    // Templates need no unique name: preview gets a template of the same name, matched, then created anyway.
    const tmpl = first(w.dev, 'TMPL');
    await s.objects(PREVIEW, [{ type: 'TMPL', id: 'preview-copy', name: tmpl.name, fields: { description: 'made in preview' } }]);
    const again = await prerun();
    assert.deepEqual([again.translationMap.TMPL![tmplId]!.action, again.translationMap.TMPL![tmplId]!.targetId], ['USEEXISTING', 'preview-copy']);
    again.translationMap.TMPL![tmplId]!.action = 'CREATE';
    const ok = await call('POST', `/installations/${again.id}/install`, { json: { translationMap: again.translationMap }, host: HOSTS[PREVIEW] });
    assert.equal(ok.status, 200, ok.text);
    const named = ((await s.native('GET', `/environments/${PREVIEW}/objects?type=TMPL&limit=100`)) as { items: { name: string }[] }).items.filter(
      (o) => o.name === tmpl.name,
    );
    assert.equal(named.length, 2);
  });

  it('an install is refused when the target changed after the pre-run: prepare again', async () => {
    const s = server();
    const pre = await prerun(HOSTS[PROD]);
    await call('PATCH', `/packages/${pkgId}`, { json: { status: 'ACTIVE' } });
    await s.objects(PROD, [{ type: 'ROLE', id: 'role-added-later', name: 'Added after the pre-run', fields: {} }]);
    const before = await count(s, PROD);
    for (const json of [{}, { translationMap: pre.translationMap }]) {
      const r = await call('POST', `/installations/${pre.id}/install`, { json, host: HOSTS[PROD] });
      assertError(r, 409, /changed since the plan was prepared.*prepare again/);
      assert.equal(r.json.error.code, 'STALE_PLAN');
    }
    assert.equal(await count(s, PROD), before);
    const fresh = await prerun(HOSTS[PROD]);
    assert.equal((await call('POST', `/installations/${fresh.id}/install`, { json: {}, host: HOSTS[PROD] })).status, 200);
    assert.equal((await call('GET', `/installations/${fresh.id}`)).json.status, 'COMPLETED');
    await call('PATCH', `/packages/${pkgId}`, { json: { status: 'TESTING' } });
  });

  it('an install sent through another environment than the pre-run is refused', async () => {
    const pre = await prerun();
    const r = await call('POST', `/installations/${pre.id}/install`, { json: {}, host: HOSTS[PROD] });
    assertError(r, 409, new RegExp(`prepared for environment ${PREVIEW}, but this request is made through environment ${PROD}`));
    assert.equal((await call('GET', `/installations/${pre.id}`)).json.status, 'PREPARING');
  });

  it('a promotion from a higher tier to a lower one needs "force": true in the pre-run body', async () => {
    const role = first(w.existing, 'ROLE');
    const made = await call('POST', '/packages', {
      json: { name: 'Downwards', objectCollections: [{ objCode: 'ROLE', entities: [{ ID: role.id }] }] },
      host: HOSTS[PROD],
    });
    await untilAssembled(call, made.json.data.id);
    const refused = await call('POST', `/packages/${made.json.data.id}/prepare-installation`, { json: {}, host: HOSTS[PREVIEW] });
    assertError(refused, 409, /push one-way: the source is production and the target is preview.*send "force": true in the pre-run body/);
    const forced = await call('POST', `/packages/${made.json.data.id}/prepare-installation`, { json: { force: true }, host: HOSTS[PREVIEW] });
    assert.equal(forced.status, 200, forced.text);
  });

  it('bad translation maps are 400s naming the record', async () => {
    const pre = await prerun();
    const bad: [unknown, RegExp][] = [
      [{ translationMap: 5 }, /translationMap must be an object/],
      [
        { translationMap: { TMPL: { [tmplId]: { action: 'FLY' } } } },
        /translationMap\.TMPL\.\w+\.action must be one of CREATE, USEEXISTING, IGNORE, OVERWRITING, UPDATE, MERGE/,
      ],
      [{ translationMap: { TMPL: { 'no-such-id': { action: 'IGNORE' } } } }, /translationMap\.TMPL\.no-such-id is not in this installation's translation map/],
      [{ translationMap: { TMPL: { [tmplId]: { action: 'USEEXISTING', targetId: 7 } } } }, /targetId must be an id/],
      [{ tarnslationMap: {} }, /body\.tarnslationMap is not a known field/],
    ];
    for (const [json, message] of bad) assertError(await call('POST', `/installations/${pre.id}/install`, { json, host: HOSTS[PREVIEW] }), 400, message);
    assert.equal((await call('GET', `/installations/${pre.id}`)).json.status, 'PREPARING');
  });

  it('a missing ID makes the package ASSEMBLING_FAILED with the reason; extracting again (PATCH with source) makes it DRAFT', async () => {
    const made = await call('POST', '/packages', {
      json: {
        name: 'Broken',
        source: `https://${HOSTS[DEV]}`,
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'ffffffffffffffffffffffffffffffff' }] }],
      },
    });
    assert.equal(made.status, 200, made.text);
    const failed = await untilAssembled(call, made.json.data.id);
    assert.equal(failed.status, 'ASSEMBLING_FAILED');
    assert.match(failed.reason, /TMPL:ffffffffffffffffffffffffffffffff/);
    const collections = [{ objCode: 'TMPL', entities: [{ ID: tmplId }] }];
    assertError(
      await call('PATCH', `/packages/${made.json.data.id}`, { json: { objectCollections: collections } }),
      400,
      /source is required with objectCollections/,
    );
    const again = await call('PATCH', `/packages/${made.json.data.id}`, { json: { objectCollections: collections, source: `https://${HOSTS[DEV]}` } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.data.status, 'ASSEMBLING');
    const done = await untilAssembled(call, made.json.data.id);
    assert.deepEqual([done.status, done.reason], ['DRAFT', undefined]);
  });

  it('extracting again bumps the version: a pre-run of the old content is refused', async () => {
    const pre = await prerun();
    const before = (await call('GET', `/packages/${pkgId}`)).json.data;
    const r = await call('PATCH', `/packages/${pkgId}`, {
      json: { source: `https://${HOSTS[DEV]}`, objectCollections: [{ objCode: 'TMPL', entities: [{ ID: tmplId }] }] },
    });
    assert.equal(r.status, 200, r.text);
    const after = await untilAssembled(call, pkgId);
    assert.ok(after.version > before.version);
    // New content needs its approval again.
    assert.equal(after.status, 'DRAFT');
    await call('PATCH', `/packages/${pkgId}`, { json: { status: 'TESTING' } });
    assertError(
      await call('POST', `/installations/${pre.id}/install`, { json: {}, host: HOSTS[PREVIEW] }),
      409,
      /package .* changed since the plan was prepared/,
    );
  });

  it('PUT requires every editable attribute and checks each; a refused PUT changes nothing', async () => {
    const before = (await call('GET', `/packages/${pkgId}`)).json.data;
    const definition = (await call('GET', `/packages/${pkgId}/definition`)).json.packageEntities;
    const good = {
      name: 'Renamed',
      description: 'd',
      source: `https://${HOSTS[DEV]}`,
      status: 'TESTING',
      version: before.version,
      packageEntities: definition,
    };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...good, version: undefined }, /body\.version is required/],
      [{ ...good, packageEntities: undefined }, /body\.packageEntities is required/],
      [{ ...good, version: 'one' }, /body\.version must be integer/],
      [{ ...good, status: 'LIVE' }, /body\.status must be one of/],
      [{ ...good, status: 'ASSEMBLING' }, /cannot be set directly/],
      [{ ...good, source: 'not a url' }, /body\.source must be a URL/],
      [{ ...good, source: 'ftp://dev.example.test' }, /http or https URL/],
      [{ ...good, source: 'https://nowhere.example.test' }, /names no environment/],
      [{ ...good, source: `https://${HOSTS[PROD]}` }, new RegExp(`assembled from environment ${DEV} and its source cannot change`)],
      [{ ...good, metadata: { installOrder: ['GROUP', 'NOPE'] } }, /body\.metadata\.installOrder\[1\] NOPE is not an objCode/],
      [{ ...good, packageEntities: { NOPE: [{ id: 'x', name: 'x' }] } }, /unknown type NOPE/],
      [{ ...good, packageEntities: { ROLE: [{ name: 'no id' }] } }, /body\.packageEntities\.ROLE\[0\]\.id is required/],
      [{ ...good, id: 'another-package' }, /is not this package/],
      [{ ...good, colour: 'blue' }, /body\.colour is not a known field/],
    ];
    for (const [json, message] of bad) assertError(await call('PUT', `/packages/${pkgId}`, { json }), 400, message);
    assert.deepEqual((await call('GET', `/packages/${pkgId}`)).json.data, before);
    assert.deepEqual((await call('GET', `/packages/${pkgId}/definition`)).json.packageEntities, definition);
    // Sent back as read (with the read-only fields), it is accepted.
    const roundTrip = await call('PUT', `/packages/${pkgId}`, { json: { ...before, ...good, name: before.name } });
    assert.equal(roundTrip.status, 200, roundTrip.text);
  });

  it('resolves the environment by Host, then X-Ferry-Environment, then the home environment', async () => {
    const s = server();
    const olga = client(s, { apikey: w.olga });
    await call('PATCH', `/packages/${pkgId}`, { json: { status: 'ACTIVE' } });
    const byHost = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: HOSTS[PROD], env: PREVIEW });
    assert.equal(byHost.json.environment, HOSTS[PROD]);
    const byHeader = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: 'unknown.example.test', env: PREVIEW });
    assert.equal(byHeader.json.environment, HOSTS[PREVIEW]);
    // A source URL naming this server itself (not one environment's host): the request's environment.
    const own = await call('POST', '/packages', { json: { name: 'From the server address', source: s.base }, env: DEV });
    assert.equal(own.status, 200, own.text);
    assert.match(own.json.data.source, /^http:\/\/dev\.example\.test(:\d+)?$/);
    // pat has three environments and names none: told how to name one.
    assertError(await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {} }), 400, /names no environment.*Host header.*X-Ferry-Environment/);
    // olga's one environment is production; the package was installed there, so she may read and prepare it.
    const home = await olga('POST', `/packages/${pkgId}/prepare-installation`, { json: {} });
    assert.equal(home.status, 200, home.text);
    assert.equal(home.json.environment, HOSTS[PROD]);
    await call('PATCH', `/packages/${pkgId}`, { json: { status: 'TESTING' } });
  });

  it('an environment or package the caller cannot see reads exactly like one that does not exist', async () => {
    const s = server();
    const olga = client(s, { apikey: w.olga });
    const vic = client(s, { apikey: w.vic });
    const hidden = await call('POST', '/packages', { json: { name: 'Development only' }, env: DEV });
    const id = hidden.json.data.id as string;
    const missing = '00000000-0000-4000-8000-000000000000';
    const a = await olga('GET', `/packages/${id}`);
    const b = await olga('GET', `/packages/${missing}`);
    assertError(a, 404);
    assertError(b, 404);
    assert.equal(a.json.error.message.replace(id, 'X'), b.json.error.message.replace(missing, 'X'));
    assert.ok(!(await olga('GET', '/packages')).json.data.some((p: { id: string }) => p.id === id));
    assertError(await olga('GET', `/installations?environmentPromotionPackageId=${id}`), 404);
    // A source URL of an environment she cannot see is refused like an unknown host.
    const theirs = await olga('POST', '/packages', { json: { name: 'x', source: `https://${HOSTS[DEV]}` } });
    assertError(theirs, 400, /names no environment: no environment of this server you can see has the host dev\.example\.test/);
    // She sees only the installations into production.
    const list = await olga('GET', `/installations?environmentPromotionPackageId=${pkgId}`);
    assert.equal(list.status, 200, list.text);
    assert.ok(list.json.length > 0 && list.json.every((i: { environment: string }) => new URL(i.environment).hostname === HOSTS[PROD]));
    // A viewer reads but does not create or prepare.
    assert.equal((await vic('GET', `/packages/${pkgId}`)).status, 200);
    assertError(await vic('POST', '/packages', { json: { name: 'x' }, env: DEV }), 403, /creating a package needs the promoter role/);
    assertError(await vic('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, env: PREVIEW }), 403);
  });

  it('a USEEXISTING record set to IGNORE is left as it is, and the records that refer to it still point at it', async () => {
    const s = server();
    // A second preview holding the objects production has (the group, the roles, the hour type), under production's ids.
    const other = '100000009';
    await s.environment({ id: other, name: 'Preview 2', tier: 'preview' });
    await s.objects(other, w.existing);
    await s.native('PATCH', '/users/pat', { roles: { [DEV]: 'promoter', [PREVIEW]: 'promoter', [PROD]: 'promoter', [other]: 'promoter' } });
    const pre = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, env: other });
    assert.equal(pre.status, 200, pre.text);
    const map = pre.json.translationMap as Record<string, Record<string, { action: string; targetId?: string }>>;
    const existing = Object.entries(map).flatMap(([type, recs]) =>
      Object.entries(recs)
        .filter(([, r]) => r.action === 'USEEXISTING')
        .map(([id, r]) => ({ type, id, targetId: r.targetId! })),
    );
    const roles = existing.filter((e) => e.type === 'ROLE');
    assert.ok(roles.length > 0, 'the template uses roles production has');
    for (const e of existing) map[e.type]![e.id]!.action = 'IGNORE';
    const ins = await call('POST', `/installations/${pre.json.id}/install`, { json: { translationMap: map }, env: other });
    assert.equal(ins.status, 200, ins.text);
    const done = (await call('GET', `/installations/${pre.json.id}`)).json;
    assert.equal(done.status, 'COMPLETED', JSON.stringify(done.reason));
    for (const e of existing) {
      assert.deepEqual([done.translationMap[e.type][e.id].action, done.translationMap[e.type][e.id].installationStatus], ['IGNORE', 'SKIPPED']);
      // Left as it was.
      const before = w.existing.find((o) => o.id === e.targetId)!;
      assert.deepEqual((await s.native('GET', `/environments/${other}/objects/${e.type}/${e.targetId}`)).fields, before.fields);
    }
    // The created tasks point at the existing roles, not at nothing.
    const byRole = new Map(roles.map((r) => [r.id, r.targetId]));
    const tasks = Object.entries(map.TTSK ?? {}).filter(([id]) => byRole.has(w.dev.find((o) => o.type === 'TTSK' && o.id === id)?.fields.roleID as string));
    assert.ok(tasks.length > 0, 'some task of the template has one of those roles');
    for (const [id] of tasks) {
      const created = done.translationMap.TTSK[id].targetId as string;
      const sourceRole = w.dev.find((o) => o.type === 'TTSK' && o.id === id)!.fields.roleID as string;
      assert.equal((await s.native('GET', `/environments/${other}/objects/TTSK/${created}`)).fields.roleID, byRole.get(sourceRole));
    }
  });

  it('answers malformed requests with 4xx in the error shape, never 500', async () => {
    const cases: [string, string, unknown, number][] = [
      ['POST', '/packages', { objectCollections: [] }, 400],
      ['POST', '/packages', { name: 'x', objectCollections: [{ objCode: 'TTSK', entities: [] }] }, 400],
      ['POST', '/packages', { name: 'x', objectCollections: [{ objCode: 'TMPL', entities: [{ id: 'lower-case' }] }] }, 400],
      ['POST', '/packages', { name: 'x', objectCollections: 'all' }, 400],
      ['POST', '/packages', [], 400],
      ['POST', `/packages/${pkgId}/prepare-installation`, { allowUpdate: 'yes' }, 400],
      ['PATCH', `/packages/${pkgId}`, {}, 400],
      ['PATCH', `/packages/${pkgId}`, { packageEntities: {}, objectCollections: [] }, 400],
      ['GET', '/installations', undefined, 400],
      ['GET', '/installations/no-such-installation', undefined, 404],
      ['POST', '/installations/no-such-installation/install', {}, 404],
      ['GET', '/no-such-route', undefined, 404],
    ];
    for (const [method, path, json, status] of cases) {
      const r = await call(method, path, { ...(json !== undefined ? { json } : {}), env: DEV });
      assertError(r, status);
    }
    const notJson = await server().http('POST', '/environment-promotion/api/v1/packages', {
      headers: { apikey: w.pat, 'content-type': 'application/json', 'x-ferry-environment': DEV },
      body: '{"name":',
    });
    assertError(notJson, 400);
    assert.equal(notJson.json.error.code, 'INVALID_JSON');
  });
});
