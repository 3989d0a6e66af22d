// The duplication face (004 + mstrio-py) on one server: sessions, projects,
// a duplication within the server end to end, the list, errors of the
// document's troubleshooting table, backup and restoration, versions.
// In process on SQLite and PostgreSQL, and against a real `ferry serve`.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { eachServer, type DialectServer } from './harness.js';
import { ASYNC, DUP, duplicationBody, envOfProject, login, objectsOf, OBJECTS, settle } from './duplication-support.js';

const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;

eachServer('duplication face', (server) => {
  let s: DialectServer;
  let admin: Record<string, string>;
  let src: { url: string; projectId: string; name: string };

  before(async () => {
    s = server();
    const env = await s.environment({ id: 'dup-src', name: 'Tutorial', tier: 'development' });
    await s.objects('dup-src', OBJECTS);
    await s.user('ops', {}, { password: 'ops password 1', admin: true });
    await s.user('vic', { 'dup-src': 'viewer' }, { password: 'vic password 1' });
    await s.user('eve', { 'dup-src': 'admin' }, { password: 'eve password 1' });
    admin = await login(s, 'ops', 'ops password 1');
    src = { url: s.base, projectId: env.uid, name: 'Tutorial' };
  });

  it('opens a session as the SDK does: form login, a numeric session timeout, versions, logout', async () => {
    const r = await s.http('POST', '/api/auth/login', { form: { loginMode: '1', applicationType: '76', username: 'vic', password: 'vic password 1' } });
    assert.equal(r.status, 204);
    const token = r.headers.get('x-mstr-authtoken')!;
    assert.match(r.headers.get('set-cookie')!, /^JSESSIONID=[^;]+; Path=\/; Expires=.*HttpOnly; SameSite=Lax/);
    const session = await s.http('GET', '/api/sessions', { headers: { 'x-mstr-authtoken': token } });
    assert.equal(session.status, 200);
    assert.equal(typeof session.json.timeout, 'number');
    assert.equal(session.json.username, 'vic');
    // The cookie alone is a credential too; and a login as JSON with an API key (loginMode 4096).
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await s.http('GET', '/api/sessions', { headers: { cookie } })).status, 200);
    const key = await s.user('kim', { 'dup-src': 'viewer' });
    const byKey = await s.http('POST', '/api/auth/login', { json: { loginMode: 4096, username: key, applicationType: 76 } });
    assert.equal(byKey.status, 204);
    assert.equal((await s.http('GET', '/api/sessions/userInfo', { headers: { 'x-mstr-authtoken': byKey.headers.get('x-mstr-authtoken')! } })).json.name, 'kim');

    const status = await s.http('GET', '/api/status');
    assert.equal(status.status, 200);
    for (const v of [status.json.iServerVersion, status.json.webVersion]) {
      const [major, minor, build] = String(v).slice(0, 9).split('.').map(Number);
      assert.ok(major! > 11 || (major === 11 && (minor! > 5 || (minor === 5 && build! >= 1200))), `version ${v} enables cross-environment duplication`);
    }

    assert.equal((await s.http('PUT', '/api/sessions', { headers: { 'x-mstr-authtoken': token } })).status, 204);
    assert.equal((await s.http('POST', '/api/auth/logout', { headers: { 'x-mstr-authtoken': token } })).status, 204);
    const after = await s.http('GET', '/api/sessions', { headers: { 'x-mstr-authtoken': token } });
    assert.equal(after.status, 401);
    assert.deepEqual(Object.keys(after.json).sort(), ['code', 'iServerCode', 'message', 'ticketId']);
    assert.equal(after.json.code, 'ERR009');

    const bad = await s.http('POST', '/api/auth/login', { form: { loginMode: '1', username: 'vic', password: 'wrong' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.code, 'ERR003');
    const mode = await s.http('POST', '/api/auth/login', { form: { loginMode: '8', username: 'vic' } });
    assert.equal(mode.status, 400);
    assert.match(mode.json.message, /loginMode "8" is not supported/);
  });

  it('lists the projects the caller may see; a project as an object; paged for the SDK', async () => {
    const vic = await login(s, 'vic', 'vic password 1');
    const list = await s.http('GET', '/api/projects', { headers: vic });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.map((p: { id: string; name: string; status: number }) => [p.id, p.name, p.status]),
      [[src.projectId, 'Tutorial', 0]],
    );
    const obj = await s.http('GET', `/api/objects/${src.projectId}?type=32&comments=True`, { headers: { ...vic, 'x-mstr-projectid': src.projectId } });
    assert.equal(obj.status, 200);
    assert.equal(obj.json.id, src.projectId);
    assert.equal(obj.json.type, 32);
    assert.match(obj.json.dateCreated, DATE);
    const paged = await s.http('GET', '/api/monitors/projects?offset=0&limit=1000', { headers: vic });
    assert.equal(paged.headers.get('x-mstr-total-count'), '1');
    assert.equal(paged.json.projects[0].name, 'Tutorial');
    // Another tenant's project reads exactly like a missing one.
    const other = await s.environment({ id: 'dup-hidden', name: 'Hidden', tier: 'testing' });
    const hidden = await s.http('GET', `/api/objects/${other.uid}?type=32`, { headers: vic });
    const missing = await s.http('GET', `/api/objects/${'0'.repeat(32)}?type=32`, { headers: vic });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.code, 'PROJECT_NOT_FOUND');
    assert.equal(hidden.json.message.replace(other.uid, 'X'), missing.json.message.replace('0'.repeat(32), 'X'));
  });

  it('duplicates a project within the server from the POST alone: EXPORTING at once, then IMPORTING, COMPLETED', async () => {
    const body = duplicationBody(
      src,
      { url: s.base, name: 'Tutorial copy' },
      {
        import: { description: 'a copy for testing', defaultLocale: 2052, locales: [1033, 2052] },
      },
    );
    const r = await s.http('POST', DUP, { headers: { ...admin, ...ASYNC, 'x-mstr-projectid': src.projectId }, json: body });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('preference-applied'), 'respond-async');
    const rec = r.json;
    assert.match(rec.id, /^[0-9A-F]{32}$/);
    assert.equal(rec.status, 'EXPORTING');
    assert.equal(rec.progress, 0);
    assert.equal(rec.message, '');
    assert.match(rec.createdDate, DATE);
    assert.match(rec.lastUpdatedDate, DATE);
    assert.deepEqual(rec.source, { environment: body.source.environment, project: body.source.project, creator: rec.source.creator });
    assert.deepEqual(Object.keys(rec.source.creator).sort(), ['id', 'name']);
    assert.equal(rec.source.creator.name, 'ops');
    assert.match(rec.target.project.id, /^[0-9a-f]{32}$/);
    assert.equal(rec.target.project.name, 'Tutorial copy');
    assert.deepEqual(rec.settings.import, {
      description: 'a copy for testing',
      defaultLocale: 2052,
      locales: [1033, 2052],
      configurationObjects: { conflictRules: [], matchUsersByLogin: false },
    });
    assert.deepEqual(rec.settings.export.projectObjectsPreference, { schemaObjectsOnly: false, skipEmptyProfileFolders: false });

    const done = await settle(s, admin, rec.id);
    assert.equal(done.status, 'COMPLETED', done.message);
    assert.equal(done.progress, 100);
    assert.ok(
      done.seen.every((x: string) => ['EXPORTING', 'IMPORTING', 'COMPLETED'].includes(x)),
      done.seen.join(' '),
    );

    // The new project holds every object of the source under its own id, as it was (parameters not substituted).
    const env = await envOfProject(s, rec.target.project.id);
    assert.equal(env.name, 'Tutorial copy');
    assert.equal(env.tier, 'development');
    assert.deepEqual(await objectsOf(s, env.id), await objectsOf(s, 'dup-src'));
    const projects = await s.http('GET', '/api/projects', { headers: admin });
    assert.equal(projects.json.find((p: { id: string }) => p.id === rec.target.project.id).description, 'a copy for testing');

    // The same name again is taken.
    const again = await s.http('POST', DUP, { headers: { ...admin, ...ASYNC }, json: body });
    assert.equal(again.status, 409);
    assert.equal(again.json.code, 'PROJECT_NAME_EXISTS');
  });

  it('without Prefer: respond-async, answers once the duplication has settled; keeps a given target.project.id', async () => {
    const body = duplicationBody(src, { url: s.base, name: 'Tutorial sync' });
    const wanted = 'ab'.repeat(16);
    (body.target.project as { id?: string }).id = wanted.toUpperCase();
    const r = await s.http('POST', DUP, { headers: admin, json: body });
    assert.equal(r.status, 201);
    assert.equal(r.json.status, 'COMPLETED');
    assert.equal(r.json.target.project.id, wanted);
    assert.equal((await envOfProject(s, wanted)).name, 'Tutorial sync');
    const same = await s.http('POST', DUP, { headers: admin, json: { ...body, target: { ...body.target, project: { id: wanted, name: 'Another' } } } });
    assert.equal(same.status, 409);
    assert.equal(same.json.code, 'PROJECT_ID_EXISTS');
  });

  it('lists records under both duplications (SDK) and projectDuplications (document), with total, offset and limit; deletes one', async () => {
    const all = await s.http('GET', `${DUP}?offset=0&limit=1000`, { headers: admin });
    assert.equal(all.status, 200);
    assert.ok(all.json.total >= 2);
    assert.deepEqual(all.json.duplications, all.json.projectDuplications);
    const one = await s.http('GET', `${DUP}?offset=1&limit=1`, { headers: admin });
    assert.equal(one.json.duplications.length, 1);
    assert.equal(one.json.duplications[0].id, all.json.duplications[1].id);
    assert.equal(one.json.total, all.json.total);
    // A viewer of the source project sees its records; a user of another project sees none.
    const vic = await login(s, 'vic', 'vic password 1');
    assert.equal((await s.http('GET', DUP, { headers: vic })).json.total, all.json.total);
    await s.user('olga', { 'dup-hidden': 'admin' }, { password: 'olga password 1' });
    const olga = await login(s, 'olga', 'olga password 1');
    assert.equal((await s.http('GET', DUP, { headers: olga })).json.total, 0);
    const id = all.json.duplications[0].id;
    assert.equal((await s.http('GET', `${DUP}/${id}`, { headers: olga })).status, 404);
    // A viewer sees it but may not delete it; its admin may.
    const denied = await s.http('DELETE', `${DUP}/${id}`, { headers: vic });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.code, 'FORBIDDEN');
    assert.equal((await s.http('DELETE', `${DUP}/${id}`, { headers: admin })).status, 204);
    const gone = await s.http('GET', `${DUP}/${id}`, { headers: admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.code, 'NOT_FOUND');
    const bad = await s.http('GET', `${DUP}?limit=0`, { headers: admin });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /limit must be/);
  });

  it("answers each error of the document's troubleshooting table in its shape", async () => {
    const body = duplicationBody(src, { url: s.base, name: 'Never made' });
    // 400 INVALID_REQUEST naming the missing field; a body that is not JSON.
    const missing = await s.http('POST', DUP, {
      headers: { ...admin, ...ASYNC },
      json: { ...body, target: { environment: body.target.environment, project: {} } },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.code, 'INVALID_REQUEST');
    assert.equal(missing.json.message, 'target.project.name is required');
    assert.match(missing.json.ticketId, /^[0-9A-Z]+$/);
    assert.equal(typeof missing.json.iServerCode, 'number');
    const notJson = await s.http('POST', DUP, { headers: { ...admin, 'content-type': 'application/json' }, body: '{"source":' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.code, 'INVALID_REQUEST');
    const rule = await s.http('POST', DUP, {
      headers: admin,
      json: { ...body, settings: { export: { configurationObjects: { rules: [{ type: 5, rule: 0 }] } } } },
    });
    assert.equal(rule.status, 400);
    assert.match(rule.json.message, /type 5 \(the default\) only supports rule 1/);
    // A project is an environment: its name is at most 200 characters, here as on the native API (cross-server too).
    const long = await s.http('POST', DUP, { headers: admin, json: duplicationBody(src, { url: 'http://elsewhere.test', name: 'n'.repeat(201) }) });
    assert.equal(long.status, 400, long.text);
    assert.equal(long.json.message, 'target.project.name must be at most 200 characters');
    // 403 FORBIDDEN: a viewer of the source; an environment admin who is not a server admin (a same-server duplication creates a project).
    const vic = await login(s, 'vic', 'vic password 1');
    const viewer = await s.http('POST', DUP, { headers: { ...vic, ...ASYNC }, json: body });
    assert.equal(viewer.status, 403);
    assert.equal(viewer.json.code, 'FORBIDDEN');
    const eve = await login(s, 'eve', 'eve password 1');
    const envAdmin = await s.http('POST', DUP, { headers: { ...eve, ...ASYNC }, json: body });
    assert.equal(envAdmin.status, 403);
    assert.match(envAdmin.json.message, /server admin/);
    // 404 PROJECT_NOT_FOUND
    const unknown = await s.http('POST', DUP, { headers: admin, json: duplicationBody({ ...src, projectId: 'f'.repeat(32) }, { url: s.base, name: 'x' }) });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.code, 'PROJECT_NOT_FOUND');
    // 409 PROJECT_NAME_EXISTS (names compare trimmed, case-insensitively)
    const taken = await s.http('POST', DUP, { headers: admin, json: duplicationBody(src, { url: s.base, name: ' TUTORIAL ' }) });
    assert.equal(taken.status, 409);
    assert.equal(taken.json.code, 'PROJECT_NAME_EXISTS');
    // 401 without a credential.
    assert.equal((await s.http('POST', DUP, { json: body })).status, 401);
    // Nothing was made by any of them.
    const projects = await s.http('GET', '/api/projects', { headers: admin });
    assert.ok(!projects.json.some((p: { name: string }) => p.name === 'Never made' || p.name === 'x'));
  });

  it('downloads the package of an exported duplication and restores it as a new project on any server', async () => {
    // A duplication for another server, whose target never comes: the source ends EXPORTED.
    const body = duplicationBody(
      src,
      { url: 'http://elsewhere.test:8080', name: 'Over there' },
      { export: { configurationObjects: { rules: [{ type: 34, rule: 3 }] } } },
    );
    const r = await s.http('POST', DUP, { headers: { ...admin, ...ASYNC }, json: body });
    assert.equal(r.status, 201, r.text);
    const done = await settle(s, admin, r.json.id);
    assert.equal(done.status, 'EXPORTED', done.message);
    assert.ok(
      done.seen.every((x: string) => ['EXPORTING', 'EXPORT_SYNCING', 'EXPORTED'].includes(x)),
      done.seen.join(' '),
    );
    const pkg = await s.http('GET', `${DUP}/${r.json.id}/backup`, { headers: admin });
    assert.equal(pkg.status, 200);
    assert.equal(pkg.headers.get('content-disposition'), `attachment; filename="${r.json.id}.projdup"`);
    assert.equal(pkg.bytes[0], 0x1f);
    // The backup went through the engine's bundle writer: signed with the server's key.
    const trailer = JSON.parse(gunzipSync(pkg.bytes).toString('utf8').trim().split('\n').at(-1)!) as { signature?: { key: string } };
    assert.equal(trailer.signature?.key, (await s.native('GET', '/signing-key')).publicKey);

    const form = new FormData();
    // As the SDK sends it: metadata first (a JSON string), then the file.
    form.append(
      'metadata',
      JSON.stringify({
        settings: {
          import: {
            description: 'restored',
            defaultLocale: 0,
            locales: [0],
            configurationObjects: { conflictRules: [{ type: 0, rule: 0 }], matchUsersByLogin: false },
          },
        },
        target: { environment: { id: s.base, name: s.base }, project: { name: 'Tutorial restored' } },
      }),
    );
    form.append('file', new Blob([pkg.bytes], { type: 'application/octet-stream' }), 'package.projdup');
    const restore = await s.http('POST', `${DUP}/restoration`, { headers: { ...admin, ...ASYNC }, body: form });
    assert.equal(restore.status, 201, restore.text);
    assert.equal(restore.json.status, 'IMPORT_SYNCING');
    assert.equal(restore.json.source.project.id, src.projectId);
    assert.deepEqual(restore.json.settings.export.configurationObjects.rules, [{ type: 34, rule: 3 }]);
    const restored = await settle(s, admin, restore.json.id);
    assert.equal(restored.status, 'COMPLETED', restored.message);
    assert.ok(
      restored.seen.every((x: string) => ['IMPORT_SYNCING', 'IMPORTING', 'COMPLETED'].includes(x)),
      restored.seen.join(' '),
    );
    // Same server: its configuration objects are the very ones exported, so they are already equal.
    assert.match(restored.message, /3 already equal/);
    const env = await envOfProject(s, restore.json.target.project.id);
    assert.deepEqual(await objectsOf(s, env.id), await objectsOf(s, 'dup-src'));

    // The package exists only on the source of a duplication to another server, once exported.
    const local = (await s.http('GET', `${DUP}?limit=100`, { headers: admin })).json.duplications.find(
      (d: { target: { project: { name: string } } }) => d.target.project.name === 'Tutorial copy',
    );
    const noPkg = await s.http('GET', `${DUP}/${local.id}/backup`, { headers: admin });
    assert.equal(noPkg.status, 400);
    assert.match(noPkg.json.message, /stayed within this server/);
    // Not a package: refused, nothing kept.
    const junk = new FormData();
    junk.append('metadata', JSON.stringify({ target: { environment: { id: s.base, name: 'x' }, project: { name: 'Junk' } } }));
    junk.append('file', new Blob(['not a package']), 'junk.projdup');
    const refused = await s.http('POST', `${DUP}/restoration`, { headers: admin, body: junk });
    assert.equal(refused.status, 400);
    assert.match(refused.json.message, /junk\.projdup/);
    const noMeta = new FormData();
    noMeta.append('file', new Blob([pkg.bytes]), 'p.projdup');
    assert.match((await s.http('POST', `${DUP}/restoration`, { headers: admin, body: noMeta })).json.message, /metadata is required/);
    // A package changed after it was written: the import fails saying so, and makes nothing.
    const lines = gunzipSync(pkg.bytes).toString('utf8').split('\n');
    lines[2] = lines[2]!.replace('"name":"', '"name":"tampered ');
    const tampered = new FormData();
    tampered.append('metadata', JSON.stringify({ target: { environment: { id: s.base, name: 'x' }, project: { name: 'Tampered' } } }));
    tampered.append('file', new Blob([gzipSync(lines.join('\n'))]), 'tampered.projdup');
    const t = await s.http('POST', `${DUP}/restoration`, { headers: { ...admin, ...ASYNC }, body: tampered });
    assert.equal(t.status, 201, t.text);
    const failed = await settle(s, admin, t.json.id);
    assert.equal(failed.status, 'IMPORT_FAILED');
    assert.match(failed.message, /integrity/);
    assert.doesNotMatch(failed.message, /\/files\//);
    assert.ok(!(await s.http('GET', '/api/projects', { headers: admin })).json.some((p: { name: string }) => p.name === 'Tampered'));

    // A truncated multipart body, and a NUL in the metadata: 400s, nothing kept.
    const truncated = await s.http('POST', `${DUP}/restoration`, {
      headers: { ...admin, 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="p.projdup"\r\n\r\nabc',
    });
    assert.equal(truncated.status, 400, truncated.text);
    const nul = new FormData();
    nul.append('metadata', JSON.stringify({ target: { environment: { id: s.base, name: 'x' }, project: { name: 'Bad\u0000name' } } }));
    nul.append('file', new Blob([pkg.bytes]), 'p.projdup');
    const nulRes = await s.http('POST', `${DUP}/restoration`, { headers: admin, body: nul });
    assert.equal(nulRes.status, 400);
    assert.match(nulRes.json.message, /metadata\.target\.project\.name contains a NUL/);
    // One package per restoration: a second file part is the client's mistake, named in the document's shape.
    const two = new FormData();
    two.append('metadata', JSON.stringify({ target: { environment: { id: s.base, name: 'x' }, project: { name: 'Two files' } } }));
    two.append('file', new Blob([pkg.bytes]), 'p.projdup');
    two.append('file', new Blob([pkg.bytes]), 'q.projdup');
    const twoRes = await s.http('POST', `${DUP}/restoration`, { headers: admin, body: two });
    assert.equal(twoRes.status, 400, twoRes.text);
    assert.equal(twoRes.json.code, 'INVALID_REQUEST');
    assert.match(twoRes.json.message, /more file parts than this request takes \(one file\)/);
  });

  it("restores as the document's sample curl does: PUT /{id} with the multipart form; its JSON content type over a form is named", async () => {
    const r = await s.http('POST', DUP, { headers: { ...admin, ...ASYNC }, json: duplicationBody(src, { url: 'http://elsewhere.test:8080', name: 'Far' }) });
    assert.equal(r.status, 201, r.text);
    assert.equal((await settle(s, admin, r.json.id)).status, 'EXPORTED');
    const pkg = await s.http('GET', `${DUP}/${r.json.id}/backup`, { headers: admin });
    const form = () => {
      const f = new FormData();
      f.append('file', new Blob([pkg.bytes]), 'package.projdup');
      f.append(
        'metadata',
        JSON.stringify({
          target: { environment: { id: s.base, name: 'Target environment' }, project: { name: 'Restored by PUT' } },
          settings: {
            import: {
              description: 'string',
              defaultLocale: 2052,
              locales: [1033, 2052],
              configurationObjects: { conflictRules: [{ type: 0, rule: 0 }], matchUsersByLogin: true },
            },
          },
        }),
      );
      return f;
    };
    // The sample's curl as written: -H "Content-Type: application/json" over --form sends a form under a JSON content type.
    const mislabelled = await s.http('PUT', `${DUP}/${r.json.id}`, { headers: { ...admin, 'content-type': 'application/json' }, body: form() });
    assert.equal(mislabelled.status, 400, mislabelled.text);
    assert.equal(mislabelled.json.code, 'INVALID_REQUEST');
    assert.match(mislabelled.json.message, /multipart\/form-data/);
    const put = await s.http('PUT', `${DUP}/${r.json.id}`, { headers: { ...admin, ...ASYNC }, body: form() });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.json.status, 'IMPORT_SYNCING');
    assert.equal(put.json.target.project.name, 'Restored by PUT');
    const done = await settle(s, admin, put.json.id);
    assert.equal(done.status, 'COMPLETED', done.message);
    const env = await envOfProject(s, done.target.project.id);
    assert.deepEqual(await objectsOf(s, env.id), await objectsOf(s, 'dup-src'));
    // The source's record is untouched by a restoration under its id.
    assert.equal((await s.http('GET', `${DUP}/${r.json.id}`, { headers: admin })).json.status, 'EXPORTED');
  });

  it('cancels only what is still running; a finished duplication is an error (PUT /{id} and PUT /{id}/status)', async () => {
    const list = (await s.http('GET', `${DUP}?limit=100`, { headers: admin })).json.duplications;
    const completed = list.find((d: { status: string }) => d.status === 'COMPLETED');
    const exported = list.find((d: { status: string }) => d.status === 'EXPORTED');
    for (const [rec, path] of [
      [completed, `${DUP}/${completed.id}/status`],
      [exported, `${DUP}/${exported.id}`],
    ]) {
      const r = await s.http('PUT', path, { headers: admin, json: { status: 'cancelled' } });
      assert.equal(r.status, 400, r.text);
      assert.match(
        r.json.message,
        new RegExp(`is ${rec.status}; only a duplication that is EXPORTING, EXPORT_SYNCING, IMPORT_SYNCING or IMPORTING can be cancelled`),
      );
    }
    const wrong = await s.http('PUT', `${DUP}/${completed.id}/status`, { headers: admin, json: { status: 'completed' } });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json.message, /can only be set to "cancelled"/);
  });

  it('tells another server its versions and checks the other way round: 200 compatible, 400 why not', async () => {
    const v = await s.http('GET', `${DUP}/versions`, { headers: admin });
    assert.equal(v.status, 200);
    const ok = await s.http('POST', `${DUP}/validations`, { headers: admin, json: v.json });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.compatible, true);
    const unknownTypes = await s.http('POST', `${DUP}/validations`, { headers: admin, json: { ...v.json, types: [...v.json.types, 'WIDGET'] } });
    assert.equal(unknownTypes.status, 400);
    assert.match(unknownTypes.json.message, /does not know .* WIDGET/);
    const format = await s.http('POST', `${DUP}/validations`, { headers: admin, json: { ...v.json, packageFormatVersion: 99 } });
    assert.equal(format.status, 400);
    assert.match(format.json.message, /version 99/);
  });

  it('a target refuses a source it does not trust, saying so, and creates nothing', async () => {
    const id = 'C17A7B510F8A4B74B6B19F168106921E';
    const body = duplicationBody({ ...src, url: 'http://untrusted.test:9999' }, { url: s.base, name: 'Pulled' });
    const r = await s.http('PUT', `${DUP}/${id}`, { headers: { ...admin, ...ASYNC }, json: body });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /the source server http:\/\/untrusted\.test:9999 is not trusted by this server.*FERRY_TRUSTED_SOURCES/);
    assert.equal((await s.http('GET', `${DUP}/${id}`, { headers: admin })).status, 404);
    const badId = await s.http('PUT', `${DUP}/not-an-id`, { headers: admin, json: body });
    assert.equal(badId.status, 400);
    const vic = await login(s, 'vic', 'vic password 1');
    assert.equal((await s.http('PUT', `${DUP}/${id}`, { headers: vic, json: body })).status, 403);
  });
});
