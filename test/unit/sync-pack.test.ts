import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogToJson, resolveCatalog, validateCatalog } from '../../src/core/catalog.js';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';
import { key, preparePlan, summarizePlan, type TargetLookup } from '../../src/core/plan.js';
import { contentHash } from '../../src/core/hash.js';
import { buildPack, PACK_ARRAYS, packArrayOf, readPack, whichIsAhead } from '../../src/core/sync-pack.js';
import type { Catalog, PackageEntity, StoredObject } from '../../src/core/types.js';
import { readCatalog } from '../../src/engine/catalog-file.js';
import { SMARTIQ_CATALOG } from '../dialects/sync-fixture.js';

const smartiq: Catalog = await readCatalog(SMARTIQ_CATALOG);

describe('catalog: the pack array a type travels in', () => {
  it('defaults to the code, and PROJ travels in projects', () => {
    assert.equal(packArrayOf(DEFAULT_CATALOG.types.PROJ!), 'projects');
    assert.equal(packArrayOf(DEFAULT_CATALOG.types.TMPL!), 'TMPL');
    // The file format carries it, so a written-out catalog reads back the same.
    assert.deepEqual(validateCatalog(catalogToJson(DEFAULT_CATALOG)), { value: DEFAULT_CATALOG });
  });

  it('reads `pack` from a catalog file and checks it', () => {
    const ok = resolveCatalog({ extend: true, types: [{ code: 'WIDGET', pack: { array: 'widgets', name: 'title' } }] });
    assert.ok('value' in ok);
    assert.deepEqual(ok.value.types.WIDGET!.pack, { array: 'widgets', name: 'title' });
    const errors = (json: unknown) => {
      const r = resolveCatalog(json);
      assert.ok('errors' in r, JSON.stringify(json));
      return r.errors.join('; ');
    };
    assert.match(
      errors({ extend: true, types: [{ code: 'WIDGET', pack: { array: 'projects' } }] }),
      /types PROJ and WIDGET both travel in sync pack array projects/,
    );
    assert.match(errors({ types: [{ code: 'A', pack: { array: 'options' } }] }), /options and source are reserved/);
    assert.match(errors({ types: [{ code: 'A', pack: { array: 'has space' } }] }), /letters, digits and _/);
    assert.match(errors({ types: [{ code: 'A', pack: { array: 'a', nme: 'x' } }] }), /Unrecognized key/);
  });

  it('ships the product catalog (catalogs/smartiq.json): one type per array of the sample pack', () => {
    const arrays = Object.values(smartiq.types).map(packArrayOf).sort();
    assert.deepEqual(arrays, [...PACK_ARRAYS].sort());
    assert.equal(smartiq.types.USER!.pack!.name, 'username');
  });
});

describe('sync pack', () => {
  const objects = [
    { type: 'PROJECT', id: 'p1', name: 'Form', fields: { version: '1.0', dataSourceIds: ['d1'], name: 'shadowed' } },
    { type: 'DATASOURCE', id: 'd1', name: 'Sql', fields: { connectionString: 'dev' } },
  ];

  it('holds every array, objects flat with id and name first', () => {
    const pack = buildPack(smartiq, objects, null);
    for (const a of PACK_ARRAYS) assert.ok(Array.isArray(pack[a]), a);
    assert.deepEqual(pack.projects, [{ id: 'p1', name: 'Form', version: '1.0', dataSourceIds: ['d1'] }]);
    assert.deepEqual(Object.keys((pack.dataSources as object[])[0]!), ['id', 'name', 'connectionString']);
    // With the default catalog, a type travels in its code's array; the product's arrays are still there.
    const def = buildPack(DEFAULT_CATALOG, [{ type: 'TMPL', id: 't1', name: 'T', fields: {} }], null);
    assert.deepEqual(def.TMPL, [{ id: 't1', name: 'T' }]);
    assert.deepEqual(def.dataSources, []);
  });

  it('reads an edited pack back as data', () => {
    const pack = buildPack(smartiq, objects.slice(1), {
      environment: 'dev',
      uid: 'u1',
      name: 'Dev',
      tier: 'development',
      server: 'http://a',
    }) as Record<string, { connectionString?: string }[]>;
    pack.dataSources![0]!.connectionString = 'prod';
    const r = readPack({ options: { projects: 'Always' }, ...pack }, smartiq);
    assert.ok('value' in r);
    assert.deepEqual(r.value.objects, [{ type: 'DATASOURCE', id: 'd1', name: 'Sql', fields: { connectionString: 'prod' } }]);
    assert.equal(r.value.source?.tier, 'development');
  });

  it('takes the name from the field the catalog names when there is no name', () => {
    const r = readPack(
      {
        users: [{ id: 'u', username: 'admin' }],
        connectorSettings: [{ id: 'c', value: '6', metadata: { description: 'Password Length' } }],
        publishedProjects: [{ id: 'p1', projectId: 'p1', folderId: 'f' }],
      },
      smartiq,
    );
    assert.ok('value' in r);
    assert.deepEqual(
      r.value.objects.map((o) => [o.type, o.name]),
      [
        ['USER', 'admin'],
        ['CONNSETTING', 'Password Length'],
        ['PUBPROJECT', 'p1'],
      ],
    );
  });

  it('names every problem by array and position, and skips arrays asked to', () => {
    const r = readPack(
      {
        projects: [{ id: 'p', name: 'P' }, { id: 'p', name: 'Again' }, { name: 'no id' }, 'text'],
        dataSources: [{ id: 'd' }],
        groups: 'not a list',
        widgets: [{ id: 'w', name: 'W' }],
        contentFolders: [],
        anythingElse: { ignored: true },
      },
      smartiq,
    );
    assert.ok('errors' in r);
    assert.deepEqual(r.errors, [
      'projects[1]: id p appears twice in projects',
      'projects[2]: id must be a string of 1-200 printable characters',
      'projects[3] must be an object',
      'dataSources[0] (d): needs a name of up to 1000 characters (a string `name`)',
      'groups must be an array',
      "widgets: no type of this server's catalog travels in this array (projects, publishedProjects, publishFolders, dataSources, dataObjects, contentLibraryItems, contentFolders, users, groups, roles, customFields, connectorSettings, ...)",
    ]);
    const skipped = readPack({ dataSources: [{ id: 'd' }] }, smartiq, new Set(['dataSources']));
    assert.deepEqual(skipped, { value: { objects: [], source: null } });
    assert.deepEqual(readPack([], smartiq), { errors: ['a sync pack is a JSON object of arrays (projects, dataSources, ...)'] });
  });
});

describe('which side is ahead', () => {
  const copy = (hash: string, updatedAt = '2025-01-01') => ({ name: 'x', hash, updatedAt });
  it('judges against what the last sync gave the destination', () => {
    assert.deepEqual(whichIsAhead(copy('new'), copy('given'), 'given'), { ahead: 'a', basis: 'sync' });
    assert.deepEqual(whichIsAhead(copy('given'), copy('edited'), 'given'), { ahead: 'b', basis: 'sync' });
    assert.deepEqual(whichIsAhead(copy('new'), copy('edited'), 'given'), { ahead: 'both', basis: 'sync' });
    // Synced the other way (b -> a): the same rule from a's side.
    assert.deepEqual(whichIsAhead(copy('given'), copy('new'), undefined, 'given'), { ahead: 'b', basis: 'sync' });
  });
  it('falls back to the later edit', () => {
    assert.deepEqual(whichIsAhead(copy('1', '2025-02-01'), copy('2', '2025-01-01')), { ahead: 'a', basis: 'updatedAt' });
    assert.deepEqual(whichIsAhead(copy('1'), copy('2')), { ahead: null, basis: 'updatedAt' });
  });
});

describe('the strict id+name plan (sync)', () => {
  const stored = (o: { type: string; id: string; name: string; fields: Record<string, unknown> }): StoredObject => ({
    ...o,
    hash: contentHash(o.name, o.fields),
    updatedAt: '2025-01-01',
  });
  const entity = (type: string, id: string, name: string, fields: Record<string, unknown>, ord: number): PackageEntity => ({
    type,
    id,
    name,
    fields,
    hash: contentHash(name, fields),
    ord,
    via: null,
  });
  const lookup = (target: StoredObject[], entities: PackageEntity[]): TargetLookup => {
    const l: TargetLookup = { byId: new Map(), idMap: new Map(), targets: new Map(), byKey: new Map(), externals: new Map() };
    for (const o of target) {
      if (entities.some((e) => e.type === o.type && e.id === o.id)) l.byId.set(key(o.type, o.id), o);
      const nk = JSON.stringify([o.name.trim().toLowerCase()]);
      l.byKey.set(key(o.type, nk), [...(l.byKey.get(key(o.type, nk)) ?? []), o]);
    }
    return l;
  };
  const plan = (entities: PackageEntity[], target: StoredObject[], overrides: { type: string; sourceId: string; action: 'IGNORE' }[] = []) =>
    preparePlan({
      catalog: smartiq,
      target: { id: 'test', parameters: {}, targetOwned: {} },
      policy: 'id+name',
      entities,
      removals: [],
      lookup: lookup(target, entities),
      decisions: [],
      overrides,
    });

  it('reports a name held by another id as a conflict', () => {
    const entries = plan([entity('DATASOURCE', 'd1', 'Sql', {}, 0)], [stored({ type: 'DATASOURCE', id: 'other', name: 'sql', fields: {} })]);
    assert.equal(entries[0]!.isValid, false);
    assert.match(entries[0]!.reason!, /conflict: target DATASOURCE:other is named "sql" and has another id than d1/);
  });

  it('an IGNOREd conflict is valid, keeps its id for the refs to it, and its children may still be written', () => {
    const ents = [entity('DATASOURCE', 'd1', 'Sql', { connectionString: 'new' }, 0), entity('DATAOBJECT', 'o1', 'rows', { dataSourceId: 'd1', x: 2 }, 1)];
    const target = [
      stored({ type: 'DATASOURCE', id: 'd1', name: 'Renamed', fields: {} }),
      stored({ type: 'DATAOBJECT', id: 'o1', name: 'rows', fields: { dataSourceId: 'd1', x: 1 } }),
    ];
    const first = plan(ents, target);
    assert.equal(summarizePlan(first).invalid, 1);
    const entries = plan(ents, target, [{ type: 'DATASOURCE', sourceId: 'd1', action: 'IGNORE' }]);
    const [ds, obj] = entries;
    assert.deepEqual([ds!.action, ds!.isValid, ds!.targetId], ['IGNORE', true, 'd1']);
    assert.match(ds!.reason!, /is named "Renamed"/);
    assert.deepEqual([obj!.action, obj!.isValid, obj!.changes], ['UPDATE', true, ['x']]);
  });
});
