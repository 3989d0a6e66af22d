// The dev2prod face's errors (001: 400, 401, 403, 404; never a 500 for bad
// input), its credentials (the SMAX login and cookie, Bearer), the file
// repository's refusals (413, not a bundle, a foreign catalog), and imports
// that are refused: the tenant stays as it was, and every part says what
// failed and why, the dry run exactly like the real run.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../../src/engine/bundle-io.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from '../../src/core/bundle.js';
import { eachServer, type DialectServer } from './harness.js';
import { Dev2Prod, PASSWORD, SOURCE, SOURCE_OBJECTS, presentByPart, resultCounts, sourcePackage } from './dev2prod-client.js';

const TARGET = '987654321';
/** A testing tenant without the `statusBase` parameter the package's external section needs. */
const QA = '222222222';
const HIDDEN = '555500000';

/** A well-formed bundle holding a type no catalog of Ferry knows. */
async function foreignBundle(): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-d2p-'));
  try {
    const path = join(dir, 'foreign.ferry');
    await writeBundle(
      path,
      {
        format: BUNDLE_FORMAT,
        formatVersion: BUNDLE_FORMAT_VERSION,
        createdAt: new Date().toISOString(),
        catalogVersion: 'elsewhere-1',
        source: { envId: 'x', uid: 'f'.repeat(32), name: 'Elsewhere', tier: 'development', url: 'http://elsewhere.test' },
        package: {
          id: 'foreign-package',
          name: 'Foreign',
          description: '',
          version: 1,
          status: 'ACTIVE',
          objectCollections: [{ objCode: 'WIDGET', entities: [{ ID: 'w1' }] }],
          removals: [],
          metadata: { installOrder: ['WIDGET'], displayOrder: ['WIDGET'], deferredRefs: 0 },
        },
        counts: { WIDGET: 1 },
        entityCount: 1,
      },
      [{ type: 'WIDGET', id: 'w1', name: 'A widget', fields: {} }],
    );
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

eachServer('dev2prod: errors, credentials, refused imports', (server) => {
  let s: DialectServer;
  let release: Dev2Prod;
  let pkg: Awaited<ReturnType<typeof sourcePackage>>;
  let fileId: string;
  let adminKey: string;

  before(async () => {
    s = server();
    adminKey = s.adminKey;
    await s.environment({ id: SOURCE, name: 'Development', tier: 'development' });
    await s.native('POST', '/environments', { id: TARGET, name: 'Production', tier: 'production', parameters: { statusBase: 'https://status.example.com' } });
    await s.environment({ id: QA, name: 'QA', tier: 'testing' });
    await s.environment({ id: HIDDEN, name: 'Someone else', tier: 'development' });
    await s.objects(SOURCE, SOURCE_OBJECTS);
    pkg = await sourcePackage(s);
    await s.user('release', { [SOURCE]: 'promoter', [TARGET]: 'promoter', [QA]: 'promoter' }, { password: PASSWORD });
    await s.user('watcher', { [SOURCE]: 'viewer', [TARGET]: 'viewer' }, { password: PASSWORD });
    await s.user('outsider', { [HIDDEN]: 'promoter' }, { password: PASSWORD });
    release = await Dev2Prod.login(s, 'release');
    const exported = await release.waitExport(SOURCE, await release.exportPackage(SOURCE, pkg.id));
    fileId = exported.FileId as string;
  });

  it('login: the token is plain text and also set as the cookie; it works as the cookie and as a Bearer token', async () => {
    const r = await s.http('POST', '/auth/authentication-endpoint/authenticate/token?TENANTID=123456789', {
      json: { login: 'release', password: PASSWORD },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('set-cookie') ?? '', new RegExp(`^SMAX_AUTH_TOKEN=${r.text};.*HttpOnly`));
    const variants: Record<string, string>[] = [
      { cookie: `SMAX_AUTH_TOKEN=${r.text}` },
      // As a browser or a cookie jar sends it: among the product's other cookies.
      { cookie: `JSESSIONID=abc123; SMAX_AUTH_TOKEN=${r.text}; TENANTID=123456789` },
      { authorization: `Bearer ${r.text}` },
    ];
    for (const headers of variants) {
      assert.equal((await s.http('GET', `/rest/${SOURCE}/dev2prod/export/${'0'.repeat(24)}`, { headers })).status, 404, JSON.stringify(headers));
    }
    const wrong = await s.http('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'release', password: 'nope' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(Object.keys(wrong.json), ['code', 'message']);
    const missing = await s.http('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'release' } });
    assert.equal(missing.status, 400);
    assert.match(missing.json.message, /password/);
    // The product's other spelling of the same login, which many of its scripts call.
    const other = await s.http('POST', '/auth/authentication-endpoint/authenticate/login?TENANTID=123456789', {
      json: { login: 'release', password: PASSWORD },
    });
    assert.equal(other.status, 200, other.text);
    assert.match(other.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(
      (await s.http('GET', `/rest/${SOURCE}/dev2prod/export/${'0'.repeat(24)}`, { headers: { cookie: `SMAX_AUTH_TOKEN=${other.text}` } })).status,
      404,
    );
  });

  it("401 without a credential or with an unknown one; a Ferry API key works as Bearer and as the cookie; `apikey` is not this face's", async () => {
    const path = `/rest/${SOURCE}/dev2prod/export/${'0'.repeat(24)}`;
    assert.equal((await s.http('GET', path)).status, 401);
    assert.equal((await s.http('GET', path, { headers: { cookie: 'SMAX_AUTH_TOKEN=not-a-token' } })).status, 401);
    assert.equal((await s.http('GET', path, { headers: { apikey: adminKey } })).status, 401);
    assert.equal((await s.http('GET', path, { headers: { authorization: `Bearer ${adminKey}` } })).status, 404);
    assert.equal((await s.http('GET', path, { headers: { cookie: `SMAX_AUTH_TOKEN=${adminKey}` } })).status, 404);
    const noAuth = await s.http('POST', `/rest/${TARGET}/dev2prod/import`, { json: { FileId: fileId } });
    assert.equal(noAuth.status, 401);
    assert.equal(noAuth.json.code, 'UNAUTHORIZED');
    // The message names where this face takes credentials, and nothing it does not take.
    assert.match(noAuth.json.message, /SMAX_AUTH_TOKEN/);
    assert.match(noAuth.json.message, /Bearer/);
    assert.doesNotMatch(noAuth.json.message, /apikey|sessionID/);
  });

  it('a tenant the caller cannot see reads exactly like one that does not exist (404); a viewer may read, not write (403)', async () => {
    const outsider = await Dev2Prod.login(s, 'outsider');
    const hidden = await outsider.call('POST', `/rest/${TARGET}/dev2prod/import?dryRun=true`, { json: { FileId: fileId } });
    const missing = await outsider.call('POST', `/rest/999999999/dev2prod/import?dryRun=true`, { json: { FileId: fileId } });
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(hidden.json.message.replace(TARGET, 'X'), missing.json.message.replace('999999999', 'X'));
    assert.equal((await outsider.call('GET', `/rest/${SOURCE}/ces/attachment/${fileId}`)).status, 404);
    // Through its own tenant, the outsider still cannot read another tenant's file.
    assert.equal((await outsider.call('GET', `/rest/${HIDDEN}/ces/attachment/${fileId}`)).status, 404);
    assert.equal((await outsider.call('POST', `/rest/${HIDDEN}/dev2prod/import?dryRun=true`, { json: { FileId: fileId } })).status, 400);

    const watcher = await Dev2Prod.login(s, 'watcher');
    assert.equal((await watcher.call('GET', `/rest/${SOURCE}/ces/attachment/${fileId}`)).status, 200);
    const refused = [
      await watcher.call('POST', `/rest/${TARGET}/dev2prod/import?dryRun=true`, { json: { FileId: fileId } }),
      await watcher.call('POST', `/rest/${SOURCE}/dev2prod/export/types/${pkg.id}`, { json: {} }),
      await watcher.call('POST', `/rest/${TARGET}/ces/attachment`, { body: Buffer.from('x'), headers: { 'content-type': 'application/octet-stream' } }),
    ];
    for (const r of refused) {
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.code, 'FORBIDDEN');
    }
  });

  it('export: 404 for an unknown package and for a package of another tenant; the body may be left out', async () => {
    const admin = new Dev2Prod(s, { authorization: `Bearer ${adminKey}` });
    assert.equal((await admin.call('POST', `/rest/${SOURCE}/dev2prod/export/types/54321`, { json: {} })).status, 404);
    const elsewhere = await admin.call('POST', `/rest/${TARGET}/dev2prod/export/types/${pkg.id}`, { json: {} });
    assert.equal(elsewhere.status, 404);
    assert.equal((await admin.call('GET', `/rest/${SOURCE}/dev2prod/export/nope`)).status, 404);
    const noBody = await admin.call('POST', `/rest/${SOURCE}/dev2prod/export/types/${pkg.id}`);
    assert.equal(noBody.status, 200, noBody.text);
    const emptyJson = await admin.call('POST', `/rest/${SOURCE}/dev2prod/export/types/${pkg.id}`, {
      body: Buffer.alloc(0),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(emptyJson.status, 200, emptyJson.text);
    const badJson = await admin.call('POST', `/rest/${SOURCE}/dev2prod/export/types/${pkg.id}`, {
      body: Buffer.from('{"'),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(badJson.status, 400);
  });

  it('export: a package whose assembly failed is a 400 naming why, and nothing is exported (the native API: 409 PACKAGE_NOT_ASSEMBLED)', async () => {
    const created = await s.native('POST', '/packages', {
      sourceEnvId: SOURCE,
      name: 'Broken',
      objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'no-such-template' }] }],
    });
    assert.equal((await s.waitOp(created.operation.id)).status, 'FAILED');
    const id = created.package.id as string;
    const admin = new Dev2Prod(s, { authorization: `Bearer ${adminKey}` });
    const r = await admin.call('POST', `/rest/${SOURCE}/dev2prod/export/types/${id}`, { json: {} });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, new RegExp(`package ${id} is ASSEMBLING_FAILED: there is nothing to export yet`));
    const native = await s.http('POST', `/api/v1/packages/${id}/plans`, { headers: { authorization: `Bearer ${adminKey}` }, json: { targetEnvId: QA } });
    assert.equal(native.status, 409, native.text);
    assert.equal((native.json as { code: string }).code, 'PACKAGE_NOT_ASSEMBLED');
    const ops = (await s.native('GET', `/operations?environmentId=${SOURCE}&limit=500`)) as { items: { kind: string; params: unknown }[] };
    const touching = ops.items.filter((o) => JSON.stringify(o.params).includes(id)).map((o) => o.kind);
    assert.equal(touching.length, 1, `only its assembly ran: ${touching.join(', ')}`);
  });

  it('import: 400 for an unknown FileId, a bad body, a bad dryRun; nothing is started', async () => {
    const cases: [string, unknown][] = [
      ['?dryRun=true', { FileId: 'c7e87b89-f214-4766-8032-bba6967e1c49' }],
      ['', {}],
      ['', { FileId: 42 }],
      ['', { FileId: fileId, Extra: 1 }],
      ['?dryRun=maybe', { FileId: fileId }],
      ['', { FileId: 'a\u0000b' }],
    ];
    for (const [query, body] of cases) {
      const r = await release.call('POST', `/rest/${TARGET}/dev2prod/import${query}`, { json: body });
      assert.equal(r.status, 400, `${query} ${JSON.stringify(body)}: ${r.text}`);
      assert.deepEqual(Object.keys(r.json), ['code', 'message']);
    }
    const unknown = await release.call('POST', `/rest/${TARGET}/dev2prod/import`, { json: { FileId: 'c7e87b89-f214-4766-8032-bba6967e1c49' } });
    assert.match(unknown.json.message, /FileId c7e87b89-f214-4766-8032-bba6967e1c49 names no file/);
    // Only the upload reads multipart: a form sent to the import is a 415 in the face's shape, not read as a body.
    const form = new FormData();
    form.append('FileId', fileId);
    const asForm = await release.call('POST', `/rest/${TARGET}/dev2prod/import`, { body: form });
    assert.equal(asForm.status, 415, asForm.text);
    assert.deepEqual(Object.keys(asForm.json), ['code', 'message']);
  });

  it('the repository refuses what is not a bundle (400, not kept) and, at import, a bundle of a foreign catalog (400)', async () => {
    const form = new FormData();
    form.append('Files[]', new Blob([Buffer.from('{"not": "a bundle"}')]), 'notes.json');
    const notBundle = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body: form });
    assert.equal(notBundle.status, 400);
    assert.match(notBundle.json.message, /notes\.json is not a Ferry bundle/);
    const empty = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body: formWith(Buffer.alloc(0)) });
    assert.equal(empty.status, 400);
    assert.match(empty.json.message, /is not a Ferry bundle \(the file is empty\)/);
    const noFile = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body: new FormData() });
    assert.equal(noFile.status, 400);

    const foreign = await release.upload(TARGET, await foreignBundle());
    const r = await release.call('POST', `/rest/${TARGET}/dev2prod/import?dryRun=true`, { json: { FileId: foreign } });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /holds types this server's catalog does not know: WIDGET/);
  });

  it('an upload over the limit is a 413 and nothing is kept', async (t) => {
    // The real server process keeps its 1 GiB default limit; the in-process servers have 256 KiB.
    if (s.label === 'ferry serve process') return t.skip('the limit of a ferry serve process is 1 GiB');
    const before = (await s.native('GET', '/files')).total;
    // Found while streaming (the declared length leaves room for multipart framing), and refused from the declared length alone.
    for (const kib of [300, 600]) {
      const r = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body: formWith(Buffer.alloc(kib * 1024, 1)) });
      assert.equal(r.status, 413, `${kib} KiB`);
      assert.equal(r.json.code, 'PAYLOAD_TOO_LARGE');
    }
    assert.equal((await s.native('GET', '/files')).total, before);
  });

  it('a refused import (an object invalid in the target) leaves the tenant unchanged and says per part what failed and why, the dry run exactly as the real run', async () => {
    const before = await presentByPart(s, QA);
    const dry = await release.importFile(QA, fileId, true);
    const real = await release.importFile(QA, fileId, false);
    assert.equal(dry.Status, 'FAILED');
    assert.equal(real.Status, 'FAILED');
    assert.deepEqual(resultCounts(real), resultCounts(dry));
    assert.deepEqual(real.Totals, dry.Totals);
    assert.deepEqual(real.Totals, { Added: 0, Modified: 0, Removed: 0, Failed: 1, Skipped: SOURCE_OBJECTS.length - 1 });
    const ui = real.Results.find((p: { PackageName: string }) => p.PackageName === 'uiComponentConfig');
    assert.equal(ui.Statistics.Failed, 1);
    assert.match(ui.Errors[0], /^EXTSEC x-status "Agency status page": parameter \$\{statusBase\} not set in target environment 222222222$/);
    assert.match(ui.Errors.at(-1), /the import is refused: 1 object failed/);
    assert.deepEqual(real.Results, dry.Results);
    assert.deepEqual(await presentByPart(s, QA), before);
  });

  it('a package that may not be installed (DRAFT) is refused the same way by the dry run and the real run', async () => {
    const draft = await sourcePackage(s, SOURCE, 'DRAFT');
    const file = (await release.waitExport(SOURCE, await release.exportPackage(SOURCE, draft.id))).FileId as string;
    const before = await presentByPart(s, TARGET);
    const dry = await release.importFile(TARGET, file, true);
    const real = await release.importFile(TARGET, file, false);
    for (const r of [dry, real]) {
      assert.equal(r.Status, 'FAILED');
      assert.equal(r.Totals.Skipped, SOURCE_OBJECTS.length);
      assert.equal(r.Totals.Added, 0);
      const wf = r.Results.find((p: { PackageName: string }) => p.PackageName === 'workflow');
      assert.deepEqual(wf.Errors, [
        'the import is refused: package is DRAFT: it cannot be installed anywhere (set it ACTIVE, the status a production environment needs); nothing is written',
      ]);
    }
    assert.deepEqual(real.Results, dry.Results);
    assert.deepEqual(await presentByPart(s, TARGET), before);
  });

  it('an import refused before it has a plan (one-way push) says why in every part', async () => {
    // From production down to testing: refused unless forced, and 001 has no way to force.
    await s.objects(
      TARGET,
      SOURCE_OBJECTS.filter((o) => o.type === 'ROLE'),
    );
    const created = await s.native('POST', '/packages', {
      sourceEnvId: TARGET,
      name: 'Roles',
      objectCollections: [{ objCode: 'ROLE', entities: [{ ID: 'r-copy' }] }],
    });
    await s.waitOp(created.operation.id);
    await s.native('PATCH', `/packages/${created.package.id}`, { status: 'ACTIVE' });
    const file = (await release.waitExport(TARGET, await release.exportPackage(TARGET, created.package.id))).FileId as string;
    const dry = await release.importFile(QA, file, true);
    assert.equal(dry.Status, 'FAILED');
    assert.deepEqual(dry.Totals, { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 0 });
    for (const p of dry.Results) assert.match(p.Errors[0], /^the import failed: push one-way: the source is production and the target is testing/);
  });

  it('no bad input is ever a 500', async () => {
    const attempts = [
      ['GET', `/rest/${SOURCE}/dev2prod/export/${'x'.repeat(600)}`],
      ['GET', `/rest/${SOURCE}/dev2prod/import/%E0%A4%A`],
      ['GET', `/rest/${SOURCE}/ces/attachment/..%2F..%2Fetc%2Fpasswd`],
      ['POST', `/rest/${SOURCE}/dev2prod/export/types/%00`],
      ['GET', '/rest/nothing/here'],
      ['DELETE', `/rest/${SOURCE}/dev2prod/import/1`],
    ] as const;
    for (const [method, path] of attempts) {
      const r = await release.call(method, path);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status} ${r.text}`);
    }
  });

  // With a timeout: a body the reader found malformed before the face held the file's stream once hung the request.
  it('a malformed multipart upload (no boundary, a part cut short, no closing boundary) is a 400 and nothing is kept', { timeout: 60_000 }, async () => {
    const bundle = await release.download(SOURCE, fileId);
    const head = Buffer.from(
      '--xx\r\nContent-Disposition: form-data; name="Files[]"; filename="package.ferry"\r\nContent-Type: application/octet-stream\r\n\r\n',
    );
    const bodies: [string, string, Buffer][] = [
      ['no boundary', 'multipart/form-data', Buffer.from('garbage')],
      ['a part cut short', 'multipart/form-data; boundary=xx', Buffer.concat([head, bundle.subarray(0, 100)])],
      ['no closing boundary', 'multipart/form-data; boundary=xx', Buffer.concat([head, bundle])],
    ];
    const before = (await s.native('GET', '/files')).items.length;
    for (const [what, type, body] of bodies) {
      const r = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body, headers: { 'content-type': type } });
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
      assert.deepEqual(Object.keys(r.json), ['code', 'message']);
      assert.match(r.json.message, /multipart/i, what);
    }
    assert.equal((await s.native('GET', '/files')).items.length, before);
    // The whole body, closed as multipart should be, is taken.
    const whole = Buffer.concat([head, bundle, Buffer.from('\r\n--xx--\r\n')]);
    const ok = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body: whole, headers: { 'content-type': 'multipart/form-data; boundary=xx' } });
    assert.equal(ok.status, 200, ok.text);
    // Two files: the first is the one taken.
    const form = new FormData();
    form.append('Files[]', new Blob([bundle]), 'first.ferry');
    form.append('Files[]', new Blob([Buffer.from('not a bundle')]), 'second.txt');
    const two = await release.call('POST', `/rest/${TARGET}/ces/attachment`, { body: form });
    assert.equal(two.status, 200, two.text);
    assert.deepEqual(await release.download(TARGET, two.json.Id), bundle);
  });

  it('dryRun is read whatever its case (TRUE, True, false); a value that is not a boolean is a 400', async () => {
    const before = (await s.native('GET', `/environments/${QA}/objects?limit=500`)).items.length;
    for (const [value, dry] of [
      ['TRUE', true],
      ['True', true],
      ['FALSE', false],
    ] as const) {
      const r = await release.call('POST', `/rest/${QA}/dev2prod/import?dryRun=${value}`, { json: { FileId: fileId } });
      assert.equal(r.status, 200, `${value}: ${r.text}`);
      const done = await release.waitImport(QA, r.json.Id);
      assert.equal(done.DryRun, dry, value);
      if (dry) assert.equal((await s.native('GET', `/environments/${QA}/objects?limit=500`)).items.length, before, `${value} changed nothing`);
    }
    const bad = await release.call('POST', `/rest/${QA}/dev2prod/import?dryRun=yes`, { json: { FileId: fileId } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.message, /dryRun/);
  });

  // Last: it leaves this address throttled for a minute.
  it("the login goes through the server's login throttle: 429 with Retry-After after repeated failures", async () => {
    let last = await s.http('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'release', password: 'wrong' } });
    for (let i = 0; i < 12 && last.status === 401; i++) {
      last = await s.http('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'release', password: 'wrong' } });
    }
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
    // The right password too, until the window ends: guessing learns nothing.
    assert.equal((await s.http('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login: 'release', password: PASSWORD } })).status, 429);
  });
});

function formWith(bytes: Buffer): FormData {
  const form = new FormData();
  form.append('Files[]', new Blob([bytes]), 'big.ferry');
  return form;
}
