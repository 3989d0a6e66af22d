// The seven steps of 000 between two servers, each a real `ferry serve`
// process with its own database and file repository: export and download
// from one, upload, dry run and import into the other.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDialectServer, type DialectServer } from './harness.js';
import { Dev2Prod, PASSWORD, SOURCE, SOURCE_OBJECTS, presentByPart, resultCounts, sourcePackage } from './dev2prod-client.js';

const TARGET = '987654321';

describe('dev2prod: the seven steps of 000 between two server processes', () => {
  let stops: (() => Promise<void>)[] = [];
  let dev: DialectServer;
  let prod: DialectServer;
  let pkg: Awaited<ReturnType<typeof sourcePackage>>;

  before(async () => {
    const [a, b] = await Promise.all([
      startDialectServer({ kind: 'process' }, { env: { FERRY_SERVER_NAME: 'dev-server' } }),
      startDialectServer({ kind: 'process' }, { env: { FERRY_SERVER_NAME: 'prod-server' } }),
    ]);
    stops = [() => a.stop(), () => b.stop()];
    dev = a.server;
    prod = b.server;
    await dev.environment({ id: SOURCE, name: 'Development', tier: 'development' });
    await dev.objects(SOURCE, SOURCE_OBJECTS);
    pkg = await sourcePackage(dev);
    await dev.user('release', { [SOURCE]: 'promoter' }, { password: PASSWORD });
    await prod.native('POST', '/environments', {
      id: TARGET,
      name: 'Production',
      tier: 'production',
      parameters: { statusBase: 'https://status.example.com' },
    });
    await prod.user('release', { [TARGET]: 'promoter' }, { password: PASSWORD });
  });
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  it('export and download from one, upload and import into the other: the dry run says what the import does, the objects are there', async () => {
    const source = await Dev2Prod.login(dev, 'release');
    const target = await Dev2Prod.login(prod, 'release');
    // Each server has its own sessions: a token of one is nothing to the other.
    assert.equal((await prod.http('GET', `/rest/${TARGET}/dev2prod/import/x`, { headers: source.headers })).status, 401);

    const exported = await source.waitExport(SOURCE, await source.exportPackage(SOURCE, pkg.id));
    assert.equal(exported.Status, 'COMPLETED');
    const bundle = await source.download(SOURCE, exported.FileId, 'dev2prod/ces');
    // The other server's repository has no such file.
    assert.equal((await target.call('POST', `/rest/${TARGET}/dev2prod/import?dryRun=true`, { json: { FileId: exported.FileId } })).status, 400);

    const fileId = await target.upload(TARGET, bundle);
    const dry = await target.importFile(TARGET, fileId, true);
    assert.equal(dry.Status, 'COMPLETED');
    // The process that ran it, as FERRY_SERVER_NAME names it (both run on this host).
    assert.equal(dry.ProcessingServerName, 'prod-server');
    assert.equal((await prod.http('GET', '/api/v1/health')).json.server, 'prod-server');
    assert.equal(dry.PackageManagerId, pkg.id, 'the package keeps its id on the other server');
    assert.deepEqual(resultCounts(dry), {
      metadata: [4, 0, 0, 0, 0],
      workflow: [5, 0, 0, 0, 0],
      formLayouts: [4, 0, 0, 0, 0],
      uiComponentConfig: [1, 0, 0, 0, 0],
      securityConfiguration: [0, 0, 0, 0, 0],
    });
    assert.deepEqual(await presentByPart(prod, TARGET), {});

    const real = await target.importFile(TARGET, fileId, false);
    assert.equal(real.Status, 'COMPLETED');
    assert.deepEqual(real.Results, dry.Results);
    assert.deepEqual(real.Totals, { Added: SOURCE_OBJECTS.length, Modified: 0, Removed: 0, Failed: 0, Skipped: 0 });
    assert.deepEqual(await presentByPart(prod, TARGET), { metadata: 4, workflow: 5, formLayouts: 4, uiComponentConfig: 1 });
    // The objects keep their names and content, with new ids and refs rewritten to them.
    const tasks = await prod.native('GET', `/environments/${TARGET}/objects?type=TTSK`);
    const [tmpl] = (await prod.native('GET', `/environments/${TARGET}/objects?type=TMPL`)).items;
    assert.equal(tmpl.name, 'New Agency Onboarding');
    for (const t of tasks.items) assert.equal(t.fields.templateID, tmpl.id);

    const again = await target.importFile(TARGET, fileId, false);
    assert.deepEqual(again.Totals, { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: SOURCE_OBJECTS.length });
    assert.deepEqual(await presentByPart(prod, TARGET), { metadata: 4, workflow: 5, formLayouts: 4, uiComponentConfig: 1 });
  });
});
