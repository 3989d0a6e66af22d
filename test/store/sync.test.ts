// Environment sync (002) through the engine, on both databases: a clone,
// edits upstream and downstream, strict matching, drift, one-way push,
// compare, rollback of a sync.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine, Progress } from '../../src/engine/engine.js';
import { FerryError } from '../../src/core/errors.js';
import { exportPack, importObjects, originOfPack, syncEnvironments, type SyncOutcome } from '../../src/engine/sync.js';
import { compareEnvironments } from '../../src/engine/compare.js';
import { readPack } from '../../src/core/sync-pack.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { IDS, SMARTIQ_CATALOG, devObjects } from '../dialects/sync-fixture.js';

const result = (o: SyncOutcome, type: string, id: string) => o.results.find((r) => r.type === type && r.id === id);
const code = (e: unknown) => (e instanceof FerryError ? `${e.status} ${e.code}` : String(e));

for (const dialect of DIALECTS) {
  describe(`environment sync on ${dialect}`, () => {
    let t: TestEngine;
    let engine: Engine;
    const edit = async (env: string, type: string, id: string, change: (o: { name: string; fields: Record<string, unknown> }) => void) => {
      const o = await engine.getObject(env, type, id);
      const next = { type, id, name: o.name, fields: { ...o.fields } };
      change(next);
      await engine.loadObjects(env, [next]);
    };

    before(async () => {
      t = await openTestEngine(dialect, undefined, SMARTIQ_CATALOG);
      engine = t.engine;
      await engine.createEnvironment({ id: 'dev', name: 'Development', tier: 'development' });
      await engine.loadObjects('dev', devObjects());
    });
    after(async () => t.cleanup());

    it('clones with progress, and remembers what it copied: an edit made in the clone before any sync is drift', async () => {
      const seen: Progress[] = [];
      const env = await engine.createEnvironment({ id: 'test', name: 'Test', tier: 'testing', cloneFrom: 'dev' }, undefined, (p) => seen.push(p));
      assert.equal(env.clonedFrom, 'dev');
      assert.equal(seen.at(-1)?.done, 12);
      assert.equal(seen.at(-1)?.total, 12);
      assert.ok(seen.length > 2, 'progress type by type');
      assert.deepEqual(await compareEnvironments(engine, 'dev', 'test').then((c) => c.summary), {
        same: 12,
        differs: 0,
        aheadInA: 0,
        aheadInB: 0,
        aheadInBoth: 0,
        onlyInA: 0,
        onlyInB: 0,
      });

      await edit('test', 'DATASOURCE', IDS.dataSource, (o) => (o.fields.connectionString = 'Data Source=test-sql'));
      await edit('test', 'PROJECT', IDS.project2, (o) => (o.name = 'Renamed in test'));
      await edit('dev', 'PROJECT', IDS.project, (o) => (o.fields.version = '6.0'));
      await edit('dev', 'DATASOURCE', IDS.dataSource, (o) => (o.fields.schema = '<xs:schema/>'));

      const c = await compareEnvironments(engine, 'dev', 'test');
      const ahead = Object.fromEntries(c.items.map((i) => [i.id + ':' + i.type, [i.status, i.ahead, i.basis]]));
      assert.deepEqual(ahead[`${IDS.project}:PROJECT`], ['differs', 'a', 'sync']);
      assert.deepEqual(ahead[`${IDS.project2}:PROJECT`], ['differs', 'b', 'sync']);
      assert.deepEqual(ahead[`${IDS.dataSource}:DATASOURCE`], ['differs', 'both', 'sync']);
      assert.deepEqual(c.items.find((i) => i.id === IDS.project2)!.changes, ['name']);

      const version = (await engine.getEnvironment('test')).version;
      const dry = await syncEnvironments(engine, 'dev', 'test', [], { dryRun: true });
      assert.equal((await engine.getEnvironment('test')).version, version, 'a dry run writes nothing');
      assert.equal(dry.installation?.status, 'PREPARED');

      const o = await syncEnvironments(engine, 'dev', 'test', []);
      assert.equal(o.installation?.status, 'COMPLETED');
      assert.deepEqual(
        o.results.map((r) => r.result),
        dry.results.map((r) => r.result),
      );
      assert.equal(result(o, 'PROJECT', IDS.project)?.result, 'updated');
      assert.equal(result(o, 'PROJECT', IDS.project2)?.result, 'conflict');
      assert.equal(result(o, 'DATASOURCE', IDS.dataSource)?.result, 'drift');
      assert.equal(result(o, 'DATAOBJECT', IDS.dataObject)?.result, 'unchanged', 'a drifted owner still owns its children');
      assert.deepEqual(o.summary, { created: 0, updated: 1, unchanged: 9, conflict: 1, drift: 1 });
      assert.equal((await engine.getObject('test', 'PROJECT', IDS.project)).fields.version, '6.0');
      assert.equal((await engine.getObject('test', 'PROJECT', IDS.project2)).name, 'Renamed in test');
      assert.equal((await engine.getObject('test', 'DATASOURCE', IDS.dataSource)).fields.connectionString, 'Data Source=test-sql');

      // A drifted copy stays drift at the next sync, until someone overwrites it.
      const again = await syncEnvironments(engine, 'dev', 'test', [{ type: 'DATASOURCE', id: IDS.dataSource }]);
      assert.equal(result(again, 'DATASOURCE', IDS.dataSource)?.result, 'drift');
      const over = await syncEnvironments(engine, 'dev', 'test', [{ type: 'DATASOURCE', id: IDS.dataSource }], { overwriteDrift: true });
      assert.equal(result(over, 'DATASOURCE', IDS.dataSource)?.result, 'updated');
      assert.match(result(over, 'DATASOURCE', IDS.dataSource)!.reason!, /overwrote changes made in the destination/);

      // A sync is an installation like any other: it rolls back.
      await engine.rollback(over.installation!.id);
      assert.equal((await engine.getObject('test', 'DATASOURCE', IDS.dataSource)).fields.connectionString, 'Data Source=test-sql');
    });

    it('creates with the source ids, and a name held by another id is a conflict that its dependents share', async () => {
      await engine.createEnvironment({ id: 'qa', name: 'QA', tier: 'testing' });
      await engine.loadObjects('qa', [{ type: 'DATASOURCE', id: 'qa-own-id', name: 'SampleXml', fields: {} }]);
      const o = await syncEnvironments(engine, 'dev', 'qa', [{ type: 'PROJECT', id: IDS.project }]);
      assert.equal(result(o, 'PROJECT', IDS.project)?.result, 'created');
      assert.equal(o.installation?.policy, 'id+name', 'the plan keeps the strict rule through its re-validations');
      assert.equal((await engine.getObject('qa', 'PROJECT', IDS.project)).name, 'Generate-AnswerLabels (NamedValuePairs)', 'same id as the source');
      assert.equal(result(o, 'DATASOURCE', IDS.dataSource)?.result, 'conflict');
      assert.match(result(o, 'DATASOURCE', IDS.dataSource)!.reason!, /qa-own-id is named "SampleXml" and has another id/);
      assert.equal(result(o, 'DATAOBJECT', IDS.dataObject)?.result, 'conflict');
      // The project's optional ref to the data source that was not written is cleared, and said so.
      assert.match(result(o, 'PROJECT', IDS.project)!.reason!, /ref dataSourceIds .* will be cleared/);
      await assert.rejects(engine.getObject('qa', 'DATAOBJECT', IDS.dataObject));
    });

    it('pushes one way: down from production only when forced by someone who may', async () => {
      await engine.createEnvironment({ id: 'prod', name: 'Production', tier: 'production' });
      await syncEnvironments(engine, 'dev', 'prod', [{ type: 'ROLE', id: IDS.role }]);
      await assert.rejects(syncEnvironments(engine, 'prod', 'dev', []), (e) => {
        assert.equal(code(e), '409 PUSH_ONE_WAY');
        assert.match((e as Error).message, /prod is production and dev is development/);
        return true;
      });
      await assert.rejects(syncEnvironments(engine, 'prod', 'dev', [], { force: true }), (e) => code(e) === '403 FORBIDDEN');
      const forced = await syncEnvironments(engine, 'prod', 'dev', [], { force: true, mayForce: true });
      assert.equal(forced.summary.unchanged, 1);
    });

    it('exports a pack and imports it back edited; a pack from production is refused downwards by its source', async () => {
      const pack = await exportPack(engine, 'dev', {
        selection: [{ type: 'PROJECT', id: IDS.project }],
        omitArrays: new Set(['publishFolders', 'publishedProjects']),
      });
      assert.deepEqual(pack.publishedProjects, []);
      (pack.dataSources as { connectionString: string }[])[0]!.connectionString = 'Data Source=prod-sql';
      const read = readPack(pack, engine.catalog);
      assert.ok('value' in read);
      const o = await importObjects(engine, 'prod', read.value.objects, { envId: 'dev', name: 'Development', tier: 'development' });
      assert.equal(result(o, 'DATASOURCE', IDS.dataSource)?.result, 'created');
      assert.equal((await engine.getObject('prod', 'DATASOURCE', IDS.dataSource)).fields.connectionString, 'Data Source=prod-sql');

      const fromProd = await exportPack(engine, 'prod', { selection: [{ type: 'ROLE', id: IDS.role }] });
      const back = readPack(fromProd, engine.catalog);
      assert.ok('value' in back);
      await assert.rejects(
        importObjects(engine, 'dev', back.value.objects, { envId: 'prod', name: 'Production', tier: 'production' }),
        (e) => code(e) === '409 PUSH_ONE_WAY',
      );
      // The pack's own word on its tier changes nothing when its uid names an environment here: dropping it does not
      // slip a production pack past one-way push, and a tier that is not one is refused as data.
      const noTier = structuredClone(fromProd) as { source: Record<string, unknown> };
      delete noTier.source.tier;
      const read2 = readPack(noTier, engine.catalog);
      assert.ok('value' in read2);
      await assert.rejects(
        importObjects(engine, 'dev', read2.value.objects, await originOfPack(engine, read2.value.source)),
        (e) => code(e) === '409 PUSH_ONE_WAY',
      );
      const badTier = structuredClone(fromProd) as { source: Record<string, unknown> };
      badTier.source.tier = 'staging';
      assert.deepEqual(readPack(badTier, engine.catalog), { errors: ['source.tier must be one of development, testing, preview, production (or left out)'] });
      assert.deepEqual(readPack({ ...fromProd, source: 5 }, engine.catalog), { errors: ['source must be an object (where the pack was exported)'] });
      // Nothing to import: nothing written, no package.
      const none = await importObjects(engine, 'dev', [], null);
      assert.deepEqual([none.installation, none.results], [null, []]);
    });
  });
}
