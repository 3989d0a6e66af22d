// The seven steps of 000 against the dev2prod face, as written there, between
// two tenants of one server (in process on each database, and a real `ferry
// serve` process): every response field of 001 checked, the statistics
// checked against the objects actually present afterwards, the dry run
// compared with the real run, and a second import of the same file.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { eachServer, type DialectServer } from './harness.js';
import { Dev2Prod, PASSWORD, SOURCE, SOURCE_OBJECTS, partsByType, presentByPart, resultCounts, sourcePackage } from './dev2prod-client.js';

const TARGET = '987654321';
/** The parts of the default catalog in the document's order, then Ferry's own. */
const PARTS = ['metadata', 'workflow', 'formLayouts', 'uiComponentConfig', 'securityConfiguration'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

eachServer('dev2prod: the seven steps of 000 between two tenants of one server', (server) => {
  let s: DialectServer;
  let client: Dev2Prod;
  let pkg: Awaited<ReturnType<typeof sourcePackage>>;
  let exportId: string;
  let exported: any;
  let bundle: Buffer;
  let uploadedId: string;
  let dry: any;
  let real: any;
  let before7: Record<string, number>;

  before(async () => {
    s = server();
    await s.environment({ id: SOURCE, name: 'Development', tier: 'development' });
    await s.native('POST', '/environments', { id: TARGET, name: 'Production', tier: 'production', parameters: { statusBase: 'https://status.example.com' } });
    await s.objects(SOURCE, SOURCE_OBJECTS);
    // The target already holds two of the objects: one equal, one edited there.
    await s.objects(TARGET, [
      { type: 'GROUP', id: 'prod-default', name: 'Default Group', fields: { description: 'Everyone', isActive: true } },
      { type: 'ROLE', id: 'prod-curator', name: 'DAM Curator', fields: { billingPerHour: 70, isActive: true } },
    ]);
    pkg = await sourcePackage(s);
    await s.user('release', { [SOURCE]: 'promoter', [TARGET]: 'promoter' }, { password: PASSWORD });
    client = await Dev2Prod.login(s, 'release');
  });

  it('step 1: POST .../dev2prod/export/types/{id} exports the package and answers {"Id"}', async () => {
    exportId = await client.exportPackage(SOURCE, pkg.id);
    assert.match(exportId, UUID);
  });

  it('step 2: GET .../dev2prod/export/{id} shows the export: every field of 001, one Statistics entry per part', async () => {
    exported = await client.waitExport(SOURCE, exportId);
    assert.deepEqual(Object.keys(exported), [
      'id',
      'PackageBundleName',
      'Status',
      'FileId',
      'StartTime',
      'LastUpdateTime',
      'ItemCount',
      'Statistics',
      'OperationType',
      'Progress',
    ]);
    assert.equal(exported.id, exportId, 'the id is the Id the POST answered');
    assert.equal(exported.Status, 'COMPLETED');
    assert.match(exported.FileId, UUID);
    assert.equal(exported.OperationType, 'Export');
    assert.ok(Number.isInteger(exported.StartTime) && Number.isInteger(exported.LastUpdateTime));
    assert.ok(exported.StartTime <= exported.LastUpdateTime && exported.LastUpdateTime <= Date.now());
    const t = new Date(exported.StartTime).toISOString();
    assert.equal(exported.PackageBundleName, `Package-${pkg.id}-${SOURCE}-${t.slice(0, 10)} ${t.slice(11, 13)}-${t.slice(14, 16)}`);
    assert.equal(exported.ItemCount, pkg.entityCount);
    assert.equal(exported.ItemCount, SOURCE_OBJECTS.length);
    assert.deepEqual(
      exported.Statistics.map((x: { PackageName: string }) => x.PackageName),
      PARTS,
    );
    assert.deepEqual(Object.fromEntries(exported.Statistics.map((x: { PackageName: string; ItemCount: number }) => [x.PackageName, x.ItemCount])), {
      metadata: 4,
      workflow: 5,
      formLayouts: 4,
      uiComponentConfig: 1,
      securityConfiguration: 0,
    });
    assert.equal(exported.Progress, 100);
  });

  it('step 3: GET .../ces/attachment/{FileId} downloads the bundle, also as 000 spells it under /dev2prod', async () => {
    bundle = await client.download(SOURCE, exported.FileId);
    const spelled = await client.download(SOURCE, exported.FileId, 'dev2prod/ces');
    assert.deepEqual(spelled, bundle);
    assert.deepEqual([...bundle.subarray(0, 2)], [0x1f, 0x8b], 'a gzip-compressed .ferry bundle');
    // Exported through the engine: signed with the server's key.
    const trailer = JSON.parse(gunzipSync(bundle).toString('utf8').trim().split('\n').at(-1)!) as { signature?: { key: string } };
    assert.equal(trailer.signature?.key, (await s.native('GET', '/signing-key')).publicKey);
    const details = await s.native('GET', `/files/${exported.FileId}`);
    assert.equal(details.bytes, bundle.length);
    assert.equal(details.sha256, createHash('sha256').update(bundle).digest('hex'));
  });

  it('step 4: POST .../ces/attachment uploads it (multipart Files[], any User-Agent) and answers {"Id"}', async () => {
    uploadedId = await client.upload(TARGET, bundle);
    assert.match(uploadedId, UUID);
    assert.notEqual(uploadedId, exported.FileId);
    // Whatever User-Agent a client sends, or none.
    const again = await client.upload(TARGET, bundle, 'curl/8.5.0');
    assert.notEqual(again, uploadedId);
    const details = await s.native('GET', `/files/${uploadedId}`);
    assert.equal(details.environmentId, TARGET);
    assert.equal(details.sha256, createHash('sha256').update(bundle).digest('hex'));
  });

  it('steps 5 and 6: a dry run changes nothing and reports every field of 001, per part', async () => {
    before7 = await presentByPart(s, TARGET);
    const id = await client.startImport(TARGET, uploadedId, true);
    dry = await client.waitImport(TARGET, id);
    assert.deepEqual(Object.keys(dry), [
      'TimeToLive',
      'StudioLocked',
      'SystemLocked',
      'id',
      'FileId',
      'Status',
      'DryRun',
      'PackageManagerId',
      'StartTime',
      'LastUpdateTime',
      'ProcessingServerName',
      'Results',
      'Totals',
      'OperationType',
      'Progress',
    ]);
    assert.equal(dry.id, id);
    assert.equal(dry.FileId, uploadedId);
    assert.equal(dry.Status, 'COMPLETED');
    assert.equal(dry.DryRun, true);
    assert.equal(dry.OperationType, 'Import');
    assert.equal(dry.StudioLocked, false);
    assert.equal(dry.SystemLocked, false);
    assert.equal(dry.PackageManagerId, pkg.id, 'the package the bundle is stored as (the same id on its own server)');
    assert.equal(dry.ProcessingServerName, hostname());
    assert.ok(dry.StartTime <= dry.LastUpdateTime && dry.LastUpdateTime <= Date.now());
    // The upload is kept for the retention (7 days by default): TimeToLive counts down to its removal.
    assert.ok(dry.TimeToLive > 6.9 * 86_400_000 && dry.TimeToLive <= 7 * 86_400_000, String(dry.TimeToLive));
    assert.deepEqual(
      dry.Results.map((r: { PackageName: string }) => r.PackageName),
      PARTS,
    );
    for (const r of dry.Results) {
      assert.deepEqual(Object.keys(r), ['PackageName', 'Statistics', 'Errors', 'Warnings']);
      assert.deepEqual(Object.keys(r.Statistics), ['Added', 'Modified', 'Removed', 'Failed', 'Skipped']);
      assert.deepEqual(r.Errors, []);
    }
    // metadata: Creative and Copywriter are new, DAM Curator was edited in the target (replaced), Default Group is equal.
    assert.deepEqual(resultCounts(dry), {
      metadata: [2, 1, 0, 0, 1],
      workflow: [5, 0, 0, 0, 0],
      formLayouts: [4, 0, 0, 0, 0],
      uiComponentConfig: [1, 0, 0, 0, 0],
      securityConfiguration: [0, 0, 0, 0, 0],
    });
    assert.deepEqual(dry.Totals, { Added: 12, Modified: 1, Removed: 0, Failed: 0, Skipped: 1 });
    assert.deepEqual(await presentByPart(s, TARGET), before7, 'a dry run changes nothing');
  });

  it('step 7: the import does exactly what the dry run said, and the objects are there', async () => {
    real = await client.importFile(TARGET, uploadedId, false);
    assert.equal(real.Status, 'COMPLETED');
    assert.equal(real.DryRun, false);
    assert.equal(real.FileId, uploadedId);
    assert.equal(real.PackageManagerId, pkg.id);
    assert.deepEqual(real.Results, dry.Results);
    assert.deepEqual(real.Totals, dry.Totals);
    // The statistics against what is in the target now: every Added object is there, nothing else appeared.
    const after = await presentByPart(s, TARGET);
    for (const r of real.Results) assert.equal(after[r.PackageName] ?? 0, (before7[r.PackageName] ?? 0) + r.Statistics.Added, r.PackageName);
    const roles = await s.native('GET', `/environments/${TARGET}/objects?type=ROLE`);
    assert.deepEqual(roles.items.map((o: { name: string; fields: { billingPerHour: number } }) => [o.name, o.fields.billingPerHour]).sort(), [
      ['Copywriter', 80],
      ['DAM Curator', 90],
    ]);
    const ext = await s.native('GET', `/environments/${TARGET}/objects?type=EXTSEC`);
    assert.equal(ext.items[0].fields.url, 'https://status.example.com/agencies');
  });

  it('a second import of the same file changes nothing: all Skipped, nothing duplicated', async () => {
    const present = await presentByPart(s, TARGET);
    const again = await client.importFile(TARGET, uploadedId, false);
    assert.equal(again.Status, 'COMPLETED');
    assert.deepEqual(again.Totals, { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: SOURCE_OBJECTS.length });
    assert.deepEqual(await presentByPart(s, TARGET), present);
  });

  it("step 5 as 000 writes it: the export's own FileId is importable into the other tenant too", async () => {
    const r = await client.importFile(TARGET, exported.FileId, true);
    assert.equal(r.Status, 'COMPLETED');
    assert.equal(r.FileId, exported.FileId);
    assert.equal(r.Totals.Skipped, SOURCE_OBJECTS.length);
  });

  it('the status calls answer every poll the same once finished, and the ids are not interchangeable', async () => {
    assert.deepEqual((await client.call('GET', `/rest/${TARGET}/dev2prod/import/${real.id}`)).json.Results, real.Results);
    const asExport = await client.call('GET', `/rest/${TARGET}/dev2prod/export/${real.id}`);
    assert.equal(asExport.status, 404);
    const asImport = await client.call('GET', `/rest/${SOURCE}/dev2prod/import/${exportId}`);
    assert.equal(asImport.status, 404);
    // Polled through the other tenant's path, an import is not there.
    assert.equal((await client.call('GET', `/rest/${SOURCE}/dev2prod/import/${real.id}`)).status, 404);
  });

  it('every part of the catalog is named, in the order of the document and then the catalog', async () => {
    const parts = new Set(Object.values(await partsByType(s)));
    assert.deepEqual(new Set(PARTS), parts);
  });
});
