// The sync face (002 + the product's Admin API samples), driven as the
// samples drive the product: Intelledox/Infiniti ApiExamples/AdminApi
// (C# Program.cs and the Postman collection), with only the Manage URL
// pointed at Ferry. Set up through the native API; then only the face.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachServer, startDialectServer, type DialectServer, type HttpRes } from './harness.js';
import { IDS, PACK_ARRAYS, POSTMAN_IMPORT_OPTIONS, SMARTIQ_CATALOG, csharpExportBody, devObjects, postmanExportBody } from './sync-fixture.js';

const PASSWORD = 'a long DemoPassword';

/** An HttpClient like the C# sample's: a base address (the Manage URL + api/v1/admin/) and default headers. */
function client(s: DialectServer, serviceUrl: string, headers: Record<string, string> = {}) {
  const h = { accept: 'application/json', ...headers };
  return {
    headers: h,
    post: (path: string, json?: unknown, extra: Record<string, string> = {}) =>
      s.http('POST', serviceUrl + path, { headers: { ...h, ...extra }, ...(json !== undefined ? { json } : {}) }),
    get: (path: string, extra: Record<string, string> = {}) => s.http('GET', serviceUrl + path, { headers: { ...h, ...extra } }),
  };
}

/** GetFormsAuthenticatedClient of the C# sample (or the Postman casing). */
async function login(s: DialectServer, serviceUrl: string, casing: 'csharp' | 'postman', user = 'DemoUser') {
  const c = client(s, serviceUrl);
  const body = casing === 'csharp' ? { UserName: user, Password: PASSWORD } : { username: user, password: PASSWORD };
  const auth = await c.post('login/forms', body, { 'content-type': 'application/json' });
  assert.equal(auth.status, 200, auth.text);
  const token = auth.json.authorizationToken as string;
  assert.ok(token);
  return client(s, serviceUrl, { authorization: `Bearer ${token}` });
}

interface Result {
  type: string;
  id: string;
  name: string;
  result: string;
  reason: string | null;
}
const byId = (results: Result[], type: string, id: string) => results.find((r) => r.type === type && r.id === id);
const ok = (r: HttpRes) => assert.ok(r.status >= 200 && r.status < 300, `${r.status} ${r.text}`);

eachServer(
  'sync face: the Admin API samples',
  (server) => {
    let s: DialectServer;
    before(async () => {
      s = server();
      await s.environment({ id: 'dev', name: 'Development', tier: 'development', hosts: ['dev.sync.test'] });
      await s.objects('dev', devObjects());
      await s.environment({ id: 'test', name: 'Test', tier: 'testing', cloneFrom: 'dev' });
      await s.environment({ id: 'prod', name: 'Production', tier: 'production', hosts: ['prod.sync.test'] });
      await s.user('DemoUser', { dev: 'promoter', test: 'promoter', prod: 'promoter' }, { password: PASSWORD });
    });

    it('replays the C# sample: forms login, projects, export with its options, edit connection strings, import into a clone, read back, log off', async () => {
      const dev = await login(s, '/sync/dev/api/v1/admin/', 'csharp');
      const projects = await dev.get('projects');
      assert.equal(projects.status, 200);
      assert.ok(Array.isArray(projects.json));
      assert.deepEqual(projects.json.map((p: { name: string }) => p.name).sort(), [
        'Address block',
        'Generate-AnswerLabels (NamedValuePairs)',
        'Generate-ProvidedData (XML, JSON, CSV)',
      ]);

      const exported = await dev.post('projects/sync/export', csharpExportBody(IDS.project));
      assert.equal(exported.status, 200, exported.text);
      const pack = exported.json;
      for (const a of PACK_ARRAYS) assert.ok(Array.isArray(pack[a]), `pack.${a} is an array`);
      assert.deepEqual(pack.projects.map((p: { id: string }) => p.id).sort(), [IDS.fragment, IDS.project].sort(), 'the project and its fragment');
      assert.equal(pack.dataSources.length, 1);
      assert.equal(pack.dataObjects.length, 1);
      // publishFolders, groups, users, ... are false in the C# sample.
      for (const a of ['publishFolders', 'publishedProjects', 'users', 'groups', 'roles', 'customFields', 'connectorSettings'])
        assert.deepEqual(pack[a], [], a);
      const p = pack.projects.find((x: { id: string }) => x.id === IDS.project);
      assert.equal(p.name, 'Generate-AnswerLabels (NamedValuePairs)');
      assert.equal(p.version, '5.0', 'flat: the fields beside id and name');
      assert.equal(pack.source.tier, 'development');

      // "Make Changes to the sync pack": the sample's own loop.
      for (const ds of pack.dataSources) if (ds.connectionString != null) ds.connectionString = String(ds.connectionString).replace('dev', 'prod');

      const test = await login(s, '/sync/test/api/v1/admin/', 'postman');
      const imported = await test.post('projects/sync/import', { options: POSTMAN_IMPORT_OPTIONS, ...pack });
      assert.equal(imported.status, 200, imported.text);
      assert.ok(imported.headers.get('x-ferry-installation'));
      const results = imported.json as { type: string; id: string; name: string; result: string; reason: string | null }[];
      assert.equal(results.length, 4);
      for (const r of results) assert.deepEqual(Object.keys(r).sort(), ['id', 'name', 'reason', 'result', 'type']);
      assert.equal(byId(results, 'dataSources', IDS.dataSource)?.result, 'updated');
      assert.equal(byId(results, 'projects', IDS.project)?.result, 'unchanged', 'a clone already holds it');

      const back = await test.get(`projects/${IDS.project}`);
      assert.equal(back.status, 200);
      assert.equal(back.json.name, 'Generate-AnswerLabels (NamedValuePairs)');
      const ds = await s.native('GET', `/environments/test/objects/DATASOURCE/${IDS.dataSource}`);
      assert.equal(ds.fields.connectionString, 'Data Source=prod-sql;Initial Catalog=devForms');

      // Logoff as the Postman collection sends it: JSON content type, no body (and there, no Authorization either).
      const postmanLogoff = await s.http('POST', '/sync/test/api/v1/admin/logoff', {
        headers: { accept: 'application/json', 'content-type': 'application/json' },
      });
      assert.equal(postmanLogoff.status, 204, postmanLogoff.text);
      assert.equal((await test.get('projects')).status, 200, 'a logoff without a token expires nothing');
      assert.equal((await test.post('logoff', undefined, { 'content-type': 'application/json' })).status, 204);
      assert.equal((await test.get('projects')).status, 401, 'the token is expired');
    });

    it('replays the Postman collection: its export body (misspelt defaultData included), its import body, into production', async () => {
      const dev = await login(s, '/sync/dev/api/v1/admin/', 'postman');
      const exported = await dev.post('projects/sync/export', postmanExportBody([IDS.project, IDS.project2]));
      assert.equal(exported.status, 200, exported.text);
      const pack = exported.json;
      assert.equal(pack.dataSources[0].defaultData, '<sampleData><username>admin</username></sampleData>', 'a misspelt option is ignored');
      assert.deepEqual(
        pack.publishedProjects.map((x: { projectId: string }) => x.projectId),
        [IDS.project],
      );
      assert.equal(pack.publishFolders[0].name, 'PublishFolder');
      for (const a of ['users', 'groups', 'roles', 'customFields', 'connectorSettings']) assert.equal(pack[a].length, 1, `every object of ${a}`);
      assert.equal(pack.users[0].username, 'admin');

      const prod = await login(s, '/sync/prod/api/v1/admin/', 'csharp');
      const imported = await prod.post('projects/sync/import', { options: POSTMAN_IMPORT_OPTIONS, ...pack });
      assert.equal(imported.status, 200, imported.text);
      const results = imported.json as { type: string; id: string; result: string }[];
      assert.ok(
        results.every((r) => r.result === 'created'),
        JSON.stringify(results),
      );
      assert.equal(results.length, 12);
      const back = await prod.get(`projects/${IDS.project2}`);
      assert.equal(back.json.name, 'Generate-ProvidedData (XML, JSON, CSV)');
      // Sync keeps ids: what it created carries the source's.
      const pub = await s.native('GET', `/environments/prod/objects/PUBPROJECT/${IDS.project}`);
      assert.equal(pub.fields.folderId, IDS.publishFolder);
    });

    it('takes the product pack as it is: objects without name (users by username, connector settings by description)', async () => {
      const prod = await login(s, '/sync/prod/api/v1/admin/', 'csharp');
      const pack = {
        options: { users: 'Always', connectorSettings: 'Never' },
        users: [{ id: '524233f1-cc1c-42fb-976e-fe918e6cee5f', username: 'Development_Guest', firstName: '', groups: ['Infiniti Users'] }],
        connectorSettings: [{ id: 'd743e22c-babc-4244-9041-1f1cc3462755', value: '6', metadata: { description: 'Password Length' } }],
        projects: [],
      };
      const r = await prod.post('projects/sync/import', pack);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, [{ type: 'users', id: '524233f1-cc1c-42fb-976e-fe918e6cee5f', name: 'Development_Guest', result: 'created', reason: null }]);
    });
  },
  undefined,
  { catalog: SMARTIQ_CATALOG },
);

eachServer(
  'sync face: clones, strict matching, drift, one-way push',
  (server) => {
    let s: DialectServer;
    let admin: ReturnType<typeof client>;
    before(async () => {
      s = server();
      await s.environment({ id: 'dev', name: 'Development', tier: 'development' });
      await s.objects('dev', devObjects());
      await s.environment({ id: 'prod', name: 'Production', tier: 'production' });
      await s.environment({ id: 'sandbox', name: 'Sandbox', tier: 'development' });
      await s.user('DemoUser', { dev: 'promoter' }, { password: PASSWORD });
      await s.user('pat', { prod: 'promoter', sandbox: 'promoter' }, { password: PASSWORD });
      admin = client(s, '', { authorization: `Bearer ${s.adminKey}` });
    });

    it('clones through the face, syncs edits (updated), leaves a renamed copy (conflict) and a downstream edit (drift) alone', async () => {
      const clone = await admin.post('/sync/dev/api/v1/admin/clone', { id: 'test', name: 'Test', tier: 'testing' });
      assert.equal(clone.status, 201, clone.text);
      assert.equal(clone.json.clonedFrom, 'dev');
      await s.native('PATCH', '/users/DemoUser', { roles: { dev: 'promoter', test: 'promoter' } });
      // Downstream: one project renamed, one data source edited, right after the clone.
      const p2 = await s.native('GET', `/environments/test/objects/PROJECT/${IDS.project2}`);
      await s.objects('test', [{ ...p2, name: 'Renamed in test' }]);
      const ds = await s.native('GET', `/environments/test/objects/DATASOURCE/${IDS.dataSource}`);
      await s.objects('test', [{ ...ds, fields: { ...ds.fields, connectionString: 'Data Source=test-sql' } }]);
      // Upstream: both edited, and the project too.
      const devObjs = devObjects();
      const edited = devObjs.map((o) => (o.type === 'PROJECT' || o.type === 'DATASOURCE' ? { ...o, fields: { ...o.fields, version: '9.0' } } : o));
      await s.objects('dev', edited);

      const dev = await login(s, '/sync/dev/api/v1/admin/', 'csharp');
      const pack = (await dev.post('projects/sync/export', { ids: [IDS.project, IDS.project2], options: { publishFolders: true } })).json;
      const test = await login(s, '/sync/test/api/v1/admin/', 'csharp');
      const beforeDry = await s.native('GET', '/environments/test');
      const dry = await test.post('projects/sync/import?dryRun=true', pack);
      assert.equal(dry.status, 200, dry.text);
      assert.equal((await s.native('GET', '/environments/test')).version, beforeDry.version, 'a dry run writes nothing');

      const r = await test.post('projects/sync/import', pack);
      assert.equal(r.status, 200, r.text);
      const res = r.json as Result[];
      assert.deepEqual(
        res.map((x) => x.result),
        dry.json.map((x: { result: string }) => x.result),
        'the dry run said what the import did',
      );
      assert.equal(byId(res, 'projects', IDS.project)?.result, 'updated');
      const conflict = byId(res, 'projects', IDS.project2)!;
      assert.equal(conflict.result, 'conflict');
      assert.match(conflict.reason!, /named "Renamed in test", not "Generate-ProvidedData/);
      const drift = byId(res, 'dataSources', IDS.dataSource)!;
      assert.equal(drift.result, 'drift');
      assert.match(drift.reason!, /edited in the destination since the last sync.*overwriteDrift/);
      assert.equal((await s.native('GET', `/environments/test/objects/PROJECT/${IDS.project2}`)).name, 'Renamed in test', 'conflict untouched');
      assert.equal((await s.native('GET', `/environments/test/objects/DATASOURCE/${IDS.dataSource}`)).fields.connectionString, 'Data Source=test-sql');
      assert.equal((await s.native('GET', `/environments/test/objects/PROJECT/${IDS.project}`)).fields.version, '9.0');

      // Asked to, sync overwrites the drifted copy; then it is in step.
      const over = await test.post('projects/sync/import?overwriteDrift=true', pack);
      assert.equal(byId(over.json, 'dataSources', IDS.dataSource)?.result, 'updated');
      assert.equal(
        (await s.native('GET', `/environments/test/objects/DATASOURCE/${IDS.dataSource}`)).fields.connectionString,
        'Data Source=dev-sql;Initial Catalog=devForms',
      );
      const again = await test.post('projects/sync/import', pack);
      assert.equal(byId(again.json, 'dataSources', IDS.dataSource)?.result, 'unchanged');
    });

    it('a name held by another id is a conflict, and what needs it is not written either', async () => {
      await s.environment({ id: 'other', name: 'Other', tier: 'testing' });
      await s.objects('other', [{ type: 'DATASOURCE', id: 'someone-elses-id', name: 'SampleXml', fields: {} }]);
      const dev = client(s, '/sync/dev/api/v1/admin/', { authorization: `Bearer ${s.adminKey}` });
      const pack = (await dev.post('projects/sync/export', { ids: [IDS.dataSource] })).json;
      const r = await client(s, '/sync/other/api/v1/admin/', { authorization: `Bearer ${s.adminKey}` }).post('projects/sync/import', pack);
      assert.equal(r.status, 200, r.text);
      const ds = byId(r.json, 'dataSources', IDS.dataSource);
      assert.equal(ds?.result, 'conflict');
      assert.match(ds.reason!, /someone-elses-id is named "SampleXml" and has another id/);
      const dataObject = byId(r.json, 'dataObjects', IDS.dataObject);
      assert.equal(dataObject?.result, 'conflict', 'its owner is not written');
      assert.equal((await s.native('GET', '/environments/other/objects?limit=10')).total, 1);
    });

    it('pushes one way: production to development is refused (409, both tiers named) unless an admin forces it', async () => {
      await s.objects('prod', [{ type: 'ROLE', id: 'r-prod', name: 'Auditor', fields: { permissions: [] } }]);
      const pat = await login(s, '/sync/prod/api/v1/admin/', 'csharp', 'pat');
      const pack = (await pat.post('projects/sync/export', { ids: ['r-prod'] })).json;
      const into = await login(s, '/sync/sandbox/api/v1/admin/', 'csharp', 'pat');
      const refused = await into.post('projects/sync/import', pack);
      assert.equal(refused.status, 409);
      assert.equal(refused.json.code, 'PUSH_ONE_WAY');
      assert.match(refused.json.message, /production/);
      assert.match(refused.json.message, /development/);
      assert.equal((await into.post('projects/sync/import?force=true', pack)).status, 403, 'force needs an admin');
      const forced = await client(s, '/sync/sandbox/api/v1/admin/', { authorization: `Bearer ${s.adminKey}` }).post('projects/sync/import?force=true', pack);
      assert.equal(forced.status, 200, forced.text);
      assert.equal(forced.json[0].result, 'created');
    });

    it('refuses a bad pack with a 400 naming the problem, and writes nothing', async () => {
      const test = client(s, '/sync/test/api/v1/admin/', { authorization: `Bearer ${s.adminKey}` });
      const v = (await s.native('GET', '/environments/test')).version;
      const cases: [unknown, RegExp][] = [
        [{ dataSources: [{ id: 'x' }] }, /dataSources\[0\] \(x\): needs a name/],
        [{ dataSources: 'nope' }, /dataSources must be an array/],
        [{ widgets: [{ id: 'w', name: 'W' }] }, /widgets: no type of this server's catalog travels in this array/],
        [{ projects: [{ id: 'p', name: 'P', dataSourceIds: 'not-a-list' }] }, /ref field dataSourceIds must be an array of ids/],
        [{ options: { projects: 'Sometimes' }, projects: [] }, /options.projects must be "Always" or "Never"/],
        [[1, 2], /a sync pack is a JSON object/],
        [{ source: 'dev', roles: [{ id: 'r', name: 'R' }] }, /source must be an object/],
        [{ source: { tier: 'staging' }, roles: [{ id: 'r', name: 'R' }] }, /source.tier must be one of development, testing, preview, production/],
      ];
      for (const [body, message] of cases) {
        const r = await test.post('projects/sync/import', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.deepEqual(Object.keys(r.json).sort(), ['code', 'message']);
        assert.match(r.json.message, message);
      }
      const notJson = await s.http('POST', '/sync/test/api/v1/admin/projects/sync/import', {
        headers: { ...test.headers, 'content-type': 'application/json' },
        body: '{"projects": [',
      });
      assert.equal(notJson.status, 400);
      assert.equal((await s.native('GET', '/environments/test')).version, v);
      const badExport = await test.post('projects/sync/export', { projects: [{ id: 'no-such-project' }] });
      assert.equal(badExport.status, 404);
      assert.match(badExport.json.message, /no-such-project/);
      assert.equal((await test.post('projects/sync/export', { options: { projects: 'yes' }, ids: [IDS.project] })).status, 400);
      assert.equal((await test.post('projects/sync/export', {})).status, 400);
    });

    it('takes the pack as a multipart file, and answers at the server root by Host or X-Ferry-Environment', async () => {
      const h = { authorization: `Bearer ${s.adminKey}` };
      const pack = (await s.http('POST', '/projects/sync/export', { headers: { ...h, 'x-ferry-environment': 'dev' }, json: { ids: [IDS.role] } })).json;
      assert.equal(pack.roles[0].name, 'Global Administrator');
      const form = new FormData();
      form.append('options', JSON.stringify({ roles: 'Always' }));
      form.append('file', new Blob([JSON.stringify(pack)], { type: 'application/json' }), 'pack.json');
      const r = await s.http('POST', '/sync/api/v1/admin/projects/sync/import', { headers: { ...h, 'x-ferry-environment': 'prod' }, body: form });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json[0].result, 'created');
      const nul = new FormData();
      nul.append('file', new Blob([JSON.stringify({ roles: [{ id: 'x', name: 'a\u0000b' }] })]), 'pack.json');
      const refused = await s.http('POST', '/sync/prod/api/v1/admin/projects/sync/import', { headers: h, body: nul });
      assert.equal(refused.status, 400);
      assert.match(refused.json.message, /file.roles\[0\].name contains a NUL character/);
      const two = new FormData();
      for (const name of ['a.json', 'b.json']) two.append('file', new Blob([JSON.stringify(pack)]), name);
      const twoFiles = await s.http('POST', '/sync/prod/api/v1/admin/projects/sync/import', { headers: h, body: two });
      assert.deepEqual([twoFiles.status, twoFiles.json.code], [400, 'INVALID_REQUEST'], twoFiles.text);
      assert.match(twoFiles.json.message, /more file parts than this request takes/);
      await s.native('PATCH', '/environments/prod', { hosts: ['prod.sync.test'] });
      const byHost = await s.http('POST', '/projects/sync/import', { headers: { ...h, host: 'prod.sync.test' }, json: pack });
      assert.equal(byHost.json[0].result, 'unchanged');
    });

    it('an environment the caller cannot see reads like one that does not exist', async () => {
      const pat = await login(s, '/sync/prod/api/v1/admin/', 'csharp', 'pat');
      for (const path of ['projects', 'projects/sync/export']) {
        const method = path === 'projects' ? 'GET' : 'POST';
        const json = method === 'POST' ? { ids: [IDS.project] } : undefined;
        const hidden = await s.http(method, `/sync/dev/api/v1/admin/${path}`, { headers: pat.headers, json });
        const missing = await s.http(method, `/sync/nope/api/v1/admin/${path}`, { headers: pat.headers, json });
        assert.equal(hidden.status, 404);
        assert.equal(missing.status, 404);
        assert.equal(hidden.json.message.replace('dev', 'X'), missing.json.message.replace('nope', 'X'));
      }
      assert.equal((await s.http('GET', '/sync/dev/api/v1/admin/projects')).status, 401, 'no credential');
    });
  },
  undefined,
  { catalog: SMARTIQ_CATALOG },
);

// The samples' last step: "Create a client for another environment", here on another server.
describe('sync face: a pack from one server imported by a second server process', () => {
  let other: Awaited<ReturnType<typeof startDialectServer>> | undefined;
  let first: Awaited<ReturnType<typeof startDialectServer>> | undefined;
  before(async () => {
    first = await startDialectServer({ kind: 'in-process', db: 'sqlite' }, { catalog: SMARTIQ_CATALOG });
    other = await startDialectServer({ kind: 'process' }, { catalog: SMARTIQ_CATALOG });
  });
  after(async () => {
    await first?.stop();
    await other?.stop();
  });
  it('imports what the first exported, edited, and reads it back', async () => {
    const a = first!.server;
    const b = other!.server;
    await a.environment({ id: 'dev', name: 'Development', tier: 'development' });
    await a.objects('dev', devObjects());
    await a.user('DemoUser', { dev: 'viewer' }, { password: PASSWORD });
    await b.environment({ id: '200000001', name: 'Test', tier: 'testing' });
    await b.user('DemoUser', { '200000001': 'promoter' }, { password: PASSWORD });
    const dev = await login(a, '/sync/dev/api/v1/admin/', 'csharp');
    const pack = (await dev.post('projects/sync/export', csharpExportBody(IDS.project))).json;
    for (const ds of pack.dataSources) ds.connectionString = String(ds.connectionString).replace('dev', 'prod');
    const test = await login(b, '/sync/200000001/api/v1/admin/', 'postman');
    const r = await test.post('projects/sync/import', { options: POSTMAN_IMPORT_OPTIONS, ...pack });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.every((x: { result: string }) => x.result === 'created'));
    const back = await test.get(`projects/${IDS.project}`);
    assert.equal(back.json.name, 'Generate-AnswerLabels (NamedValuePairs)');
    // `<server>/sync` alone: a user with a role on one environment is at home there.
    const home = await b.http('GET', '/sync/api/v1/admin/projects', { headers: test.headers });
    assert.equal(home.status, 200, home.text);
    assert.deepEqual(home.json.map((p: { id: string }) => p.id).sort(), [IDS.fragment, IDS.project].sort());
    ok(await test.post('logoff'));
  });
});
