// The promotion face (reference 003) against every example request of the
// document, with the demo data's ids in place of the example's: each answer
// has the documented shape. In process on SQLite and PostgreSQL, and against
// a real `ferry serve` process.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachServer } from './harness.js';
import * as doc from './promotion-examples.js';
import { DEV, HOSTS, PREVIEW, client, first, setUpWorld, untilAssembled, type Call, type PromotionWorld } from './promotion-world.js';

eachServer('promotion face: the examples of 003', (server) => {
  let w: PromotionWorld;
  let call: Call;
  let pkgId = '';
  let installationId = '';

  before(async () => {
    const s = server();
    w = await setUpWorld(s);
    call = client(s, { apikey: w.pat });
  });

  it('Create a package: the example body answers `data` ASSEMBLING, and the package becomes DRAFT', async () => {
    const [tmpl1, tmpl2] = w.dev.filter((o) => o.type === 'TMPL');
    const body = structuredClone(doc.createBody);
    body.source = `https://${HOSTS[DEV]}`;
    body.objectCollections[0]!.entities[0]!.ID = first(w.dev, 'PROJ').id;
    body.objectCollections[1]!.entities[0]!.ID = tmpl1!.id;
    body.objectCollections[1]!.entities[1]!.ID = tmpl2!.id;
    body.objectCollections[2]!.entities[0]!.ID = first(w.dev, 'PTLTAB').id;
    const r = await call('POST', '/packages', { json: body });
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, doc.packageResponse);
    assert.deepEqual(
      [r.json.data.name, r.json.data.description, r.json.data.status, r.json.data.version, r.json.data.installationCounts, r.json.data.publishedAt],
      [body.name, body.description, 'ASSEMBLING', 1, {}, null],
    );
    assert.equal(r.json.data.createdById, 'pat');
    pkgId = r.json.data.id;
    const done = await untilAssembled(call, pkgId);
    assert.equal(done.status, 'DRAFT', JSON.stringify(done));
  });

  it('Get a list of packages: `data` is every package you can see', async () => {
    const r = await call('GET', '/packages');
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, doc.listResponse);
    assert.deepEqual(
      r.json.data.map((p: { id: string }) => p.id),
      [pkgId],
    );
  });

  it('Get a package by ID: `data` with displayEntities by objCode, through any environment', async () => {
    for (const host of [HOSTS[DEV], HOSTS[PREVIEW]]) {
      const r = await call('GET', `/packages/${pkgId}`, { host });
      assert.equal(r.status, 200, r.text);
      doc.assertShape(r.json, doc.packageWithDisplay);
      const display = r.json.data.displayEntities;
      // The selected objects and the promotable objects they include; no sub-objects.
      for (const type of ['PROJ', 'TMPL', 'PTLTAB', 'GROUP', 'ROLE']) assert.ok(display[type]?.length > 0, `displayEntities.${type}`);
      assert.equal(display.TTSK, undefined);
      assert.deepEqual(Object.keys(display).slice(0, 3), ['PROJ', 'TMPL', 'PTLTAB']);
    }
  });

  it("Get a package's configuration definition: packageEntities by objCode, each object with its fields", async () => {
    const r = await call('GET', `/packages/${pkgId}/definition`);
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, doc.definitionResponse);
    const group = r.json.packageEntities.GROUP.find((g: { name: string }) => g.name === 'Default Group');
    const source = first(w.dev, 'GROUP', (o) => o.name === 'Default Group');
    assert.deepEqual(group, { id: source.id, name: source.name, ...source.fields });
    assert.ok(r.json.packageEntities.TTSK.length > 0, 'sub-objects are in the definition');
  });

  it('Replace package details and definition: the example body (with this definition) answers `data` TESTING', async () => {
    const definition = (await call('GET', `/packages/${pkgId}/definition`)).json.packageEntities;
    const body = { ...structuredClone(doc.replaceBody), source: `https://${HOSTS[DEV]}`, packageEntities: definition };
    const r = await call('PUT', `/packages/${pkgId}`, { json: body });
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, { data: { ...doc.packageWithDisplay.data, status: 'TESTING' } });
    assert.deepEqual([r.json.data.status, r.json.data.description], ['TESTING', body.description]);
    // The definition was replaced by itself: the same content, a new version.
    assert.equal(r.json.data.version, 2);
    assert.deepEqual((await call('GET', `/packages/${pkgId}/definition`)).json.packageEntities, definition);
  });

  it('Update specific properties of a package: {"status": "ACTIVE"} sets publishedAt', async () => {
    const r = await call('PATCH', `/packages/${pkgId}`, { json: doc.updateBody });
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, { data: { ...doc.packageWithDisplay.data, status: 'ACTIVE', publishedAt: 'time' } });
    assert.equal(r.json.data.status, 'ACTIVE');
    assert.ok(Date.parse(r.json.data.publishedAt) > 0);
  });

  it('Execute a pre-run: {} through the target environment answers the translation map', async () => {
    const r = await call('POST', `/packages/${pkgId}/prepare-installation`, { json: {}, host: HOSTS[PREVIEW] });
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, doc.prerunResponse);
    assert.deepEqual(
      [r.json.environmentPromotionPackageId, r.json.environmentPromotionPackageVersion, r.json.status, r.json.environment],
      [pkgId, 2, 'PREPARING', HOSTS[PREVIEW]],
    );
    installationId = r.json.id;
    const group = first(w.dev, 'GROUP', (o) => o.name === 'Default Group');
    const existing = first(w.existing, 'GROUP');
    // Found in the target: USEEXISTING with the target's id. Not found: CREATE, no targetId.
    assert.deepEqual(r.json.translationMap.GROUP[group.id], {
      name: 'Default Group',
      action: 'USEEXISTING',
      isValid: true,
      targetId: `e${existing.id.slice(1)}`,
    });
    const tmpl = Object.values(r.json.translationMap.TMPL as Record<string, { action: string; targetId?: string }>)[0]!;
    assert.deepEqual([tmpl.action, tmpl.targetId], ['CREATE', undefined]);
    const actions = new Set(Object.values(r.json.translationMap).flatMap((m) => Object.values(m as object).map((e: { action: string }) => e.action)));
    assert.deepEqual([...actions].sort(), ['CREATE', 'USEEXISTING']);
  });

  it('Execute an installation: {} answers {}', async () => {
    const r = await call('POST', `/installations/${installationId}/install`, { json: {}, host: HOSTS[PREVIEW] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {});
  });

  it('Get a list of installations for a specific package: a bare array of installation records', async () => {
    const r = await call('GET', `/installations?environmentPromotionPackageId=${pkgId}`);
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, [doc.installationRecord]);
    assert.equal(r.json.length, 1);
    assert.deepEqual([r.json[0].id, r.json[0].status], [installationId, 'COMPLETED']);
    // The target as a URL: its host on this server's scheme and port.
    assert.match(r.json[0].environment, /^http:\/\/preview\.example\.test(:\d+)?$/);
  });

  it('Get the installation details: CREATE records INSTALLED with the new targetId, USEEXISTING records REGISTERED', async () => {
    const r = await call('GET', `/installations/${installationId}`);
    assert.equal(r.status, 200, r.text);
    doc.assertShape(r.json, doc.installationRecord);
    const records = Object.values(r.json.translationMap).flatMap((m) => Object.values(m as object)) as {
      action: string;
      targetId?: string;
      installationStatus: string;
    }[];
    for (const e of records) {
      assert.equal(e.installationStatus, e.action === 'CREATE' ? 'INSTALLED' : 'REGISTERED', JSON.stringify(e));
      assert.match(e.targetId ?? '', /^[0-9a-f]{32}$/, JSON.stringify(e));
    }
    const pkg = (await call('GET', `/packages/${pkgId}`)).json.data;
    assert.deepEqual(pkg.installationCounts, { COMPLETED: 1 });
  });

  it('Delete a package: 200 "Deleted"; it is gone', async () => {
    const made = await call('POST', '/packages', { json: { name: 'To delete' }, env: DEV });
    assert.equal(made.status, 200, made.text);
    assert.equal(made.json.data.status, 'DRAFT');
    const r = await call('DELETE', `/packages/${made.json.data.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'Deleted');
    doc.assertError(await call('GET', `/packages/${made.json.data.id}`), 404, /not found/);
  });

  it('authenticates with the apikey or sessionID header (and Bearer); without one, 401 in the error shape', async () => {
    const s = server();
    const login = await s.http('POST', '/api/v1/auth/login', { json: { username: 'pat', password: 'a long password' } });
    assert.equal(login.status, 200, login.text);
    const token = login.json.token as string;
    const variants: Record<string, string>[] = [{ sessionID: token }, { authorization: `Bearer ${w.pat}` }, { apikey: w.pat }];
    for (const headers of variants) {
      const r = await client(s, headers)('GET', '/packages');
      assert.equal(r.status, 200, `${JSON.stringify(Object.keys(headers))}: ${r.text}`);
    }
    doc.assertError(await client(s, {})('GET', '/packages'), 401);
    doc.assertError(await client(s, { apikey: 'not-a-key' })('GET', '/packages'), 401);
    // An API key is not a session id.
    doc.assertError(await client(s, { sessionID: w.pat })('GET', '/packages'), 401);
  });
});
