import { ownerRefOf } from '../../src/core/refs.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { catalogToJson, childTypesOf, mergeCatalogs, resolveCatalog, validateCatalog } from '../../src/core/catalog.js';
import type { TypeSpecInput } from '../../src/core/catalog.js';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';
import { ValidationError } from '../../src/core/errors.js';
import type { Catalog, TypeCode } from '../../src/core/types.js';
import { readCatalog } from '../../src/engine/catalog-file.js';

/**
 * Types reachable from `start` the way assembly walks: refs forward, owner
 * refs backward (parent -> owned child), only through types in `allowed`.
 */
function reachable(catalog: Catalog, start: TypeCode, allowed: ReadonlySet<TypeCode>): Set<TypeCode> {
  const seen = new Set<TypeCode>([start]);
  const queue: TypeCode[] = [start];
  while (queue.length > 0) {
    const code = queue.shift()!;
    const next: TypeCode[] = Object.values(catalog.types[code]!.refs).map((r) => r.type);
    for (const spec of Object.values(catalog.types)) {
      if (Object.values(spec.refs).some((r) => r.owner && r.type === code)) next.push(spec.code);
    }
    for (const n of next) {
      if (allowed.has(n) && !seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}

const sorted = (codes: Iterable<TypeCode>): TypeCode[] => [...codes].sort();

function errorsOf(result: { value: Catalog } | { errors: string[] }): string[] {
  assert.ok('errors' in result, 'expected the catalog to be rejected');
  return result.errors;
}

function valueOf(result: { value: Catalog } | { errors: string[] }): Catalog {
  if ('errors' in result) assert.fail(`unexpected errors: ${result.errors.join('; ')}`);
  return result.value;
}

/** The "Included promotable sub-objects" column of 003, row by row, as type codes. */
const DOCUMENTED_INCLUDES: Record<TypeCode, TypeCode[]> = {
  PROJ: [
    'PROJ',
    'TASK',
    'ASSGN',
    'PRED',
    'CMPY',
    'RATE',
    'GROUP',
    'ROLE',
    'TEAM',
    'ARVPRC',
    'ARVPTH',
    'ARVSTP',
    'SPAPVR',
    'SCHED',
    'NONWKD',
    'QUED',
    'QUETGP',
    'QUET',
    'RRUL',
    'MPATH',
    'MILE',
    'HOURT',
    'RSPL',
    'CTGY',
    'CTGYPA',
    'PARAM',
    'PGRP',
    'POPT',
    'CTCSD',
  ],
  TMPL: [
    'TMPL',
    'TTSK',
    'TASSGN',
    'TPRED',
    'CMPY',
    'RATE',
    'GROUP',
    'ROLE',
    'TEAM',
    'ARVPRC',
    'ARVPTH',
    'ARVSTP',
    'SPAPVR',
    'SCHED',
    'NONWKD',
    'QUED',
    'QUETGP',
    'QUET',
    'RRUL',
    'MPATH',
    'MILE',
    'HOURT',
    'RSPL',
    'CTGY',
    'CTGYPA',
    'PARAM',
    'PGRP',
    'POPT',
    'CTCSD',
  ],
  UITMPL: ['UITMPL', 'PTLTAB', 'CALEND', 'CALSEC', 'EXTSEC', 'PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM'],
  PTLTAB: ['PTLTAB', 'CALEND', 'CALSEC', 'EXTSEC', 'PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM'],
  CALEND: ['CALEND', 'CALSEC'],
  EXTSEC: ['EXTSEC'],
  PTLSEC: ['PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM'],
  UIFT: ['UIFT', 'PARAM'],
  UIGB: ['UIGB', 'PARAM'],
  UIVW: ['UIVW', 'PARAM'],
  CTGY: ['CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD', 'GROUP'],
  PARAM: ['PARAM', 'POPT'],
  PGRP: ['PGRP'],
  // Sub-groups are GROUPs.
  GROUP: ['GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD'],
  ROLE: ['ROLE'],
  TEAM: ['TEAM', 'GROUP'],
  // 003 prints "Parameter" twice in this row; read as Parameter Option (see default-catalog.ts).
  CMPY: ['CMPY', 'RATE', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD', 'GROUP'],
  PORT: ['PORT', 'PRGM', 'GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD'],
  PRGM: ['PRGM', 'PORT', 'GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD'],
  ARVPRC: ['ARVPRC', 'ARVPTH', 'ARVSTP', 'SPAPVR', 'ROLE', 'TEAM', 'GROUP'],
  SCHED: ['SCHED', 'NONWKD', 'GROUP'],
  MPATH: ['MPATH', 'MILE'],
  TSPRO: ['TSPRO', 'HOURT'],
  HOURT: ['HOURT'],
  EXPTYP: ['EXPTYP'],
  RSKTYP: ['RSKTYP'],
  RSPL: ['RSPL'],
};

describe('default catalog', () => {
  it('validates', () => {
    const c = valueOf(validateCatalog(catalogToJson(DEFAULT_CATALOG)));
    assert.equal(c.version, '2026.1');
  });

  it('round-trips through the file format unchanged', () => {
    const json = JSON.parse(JSON.stringify(catalogToJson(DEFAULT_CATALOG))) as unknown;
    assert.deepEqual(valueOf(validateCatalog(json)), DEFAULT_CATALOG);
  });

  it('reaches every included type from every type by refs forward and owners backward', () => {
    for (const spec of Object.values(DEFAULT_CATALOG.types)) {
      const allowed = new Set(spec.includes);
      const missing = spec.includes.filter((c) => !reachable(DEFAULT_CATALOG, spec.code, allowed).has(c));
      assert.deepEqual(missing, [], `${spec.code} cannot reach ${missing.join(', ')}`);
    }
  });

  it('spells out the 003 rows literally for the key types', () => {
    const inc = (code: TypeCode) => sorted(DEFAULT_CATALOG.types[code]!.includes);
    assert.deepEqual(
      inc('TMPL'),
      sorted([
        'TMPL',
        'TTSK',
        'TASSGN',
        'TPRED',
        'CMPY',
        'RATE',
        'GROUP',
        'ROLE',
        'TEAM',
        'ARVPRC',
        'ARVPTH',
        'ARVSTP',
        'SPAPVR',
        'SCHED',
        'NONWKD',
        'QUED',
        'QUETGP',
        'QUET',
        'RRUL',
        'MPATH',
        'MILE',
        'HOURT',
        'RSPL',
        'CTGY',
        'CTGYPA',
        'PARAM',
        'PGRP',
        'POPT',
        'CTCSD',
      ]),
    );
    assert.deepEqual(inc('GROUP'), sorted(['GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD']));
    assert.deepEqual(inc('PTLSEC'), sorted(['PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM']));
    assert.deepEqual(inc('CTGY'), sorted(['CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD', 'GROUP']));
    assert.deepEqual(inc('ARVPRC'), sorted(['ARVPRC', 'ARVPTH', 'ARVSTP', 'SPAPVR', 'ROLE', 'TEAM', 'GROUP']));
  });

  it('has exactly the 003 promotable objects (plus the 004 types) with their documented includes', () => {
    const environmentPromotable = Object.values(DEFAULT_CATALOG.types).filter((t) => t.promotable && t.scope === 'environment');
    assert.deepEqual(sorted(environmentPromotable.map((t) => t.code)), sorted(Object.keys(DOCUMENTED_INCLUDES)));
    for (const [code, expected] of Object.entries(DOCUMENTED_INCLUDES)) {
      assert.deepEqual(sorted(DEFAULT_CATALOG.types[code]!.includes), sorted(expected), `includes of ${code}`);
    }
  });

  it('keeps sub-objects out of the promotable set and gives them no natural key', () => {
    for (const code of [
      'TASK',
      'ASSGN',
      'PRED',
      'TTSK',
      'TASSGN',
      'TPRED',
      'RATE',
      'ARVPTH',
      'ARVSTP',
      'SPAPVR',
      'NONWKD',
      'QUED',
      'QUETGP',
      'QUET',
      'RRUL',
      'MILE',
      'CTGYPA',
      'POPT',
      'CTCSD',
      'CALSEC',
    ]) {
      const t = DEFAULT_CATALOG.types[code];
      assert.ok(t, `${code} is in the catalog`);
      assert.equal(t.promotable, false, code);
      assert.equal(t.naturalKey, undefined, code);
    }
  });

  it('describes the 004 configuration types', () => {
    const { USER, USRGRP, SECROLE, DBROLE } = DEFAULT_CATALOG.types;
    assert.ok(USER && USRGRP && SECROLE && DBROLE);
    assert.deepEqual([USER.typeNumber, USRGRP.typeNumber, SECROLE.typeNumber, DBROLE.typeNumber], [34, 34, 44, 29]);
    assert.deepEqual(USER.naturalKey, { fields: ['login'], unique: true });
    assert.equal(USER.conflictRule, 'merge');
    assert.deepEqual(USER.targetOwned, ['passwordHash']);
    assert.deepEqual(USER.refs.userGroupIDs, { type: 'USRGRP', many: true });
    assert.deepEqual(USRGRP.refs.parentGroupID, { type: 'USRGRP' });
    assert.deepEqual(SECROLE.mergeFields, ['privileges']);
    assert.deepEqual(DBROLE.targetOwned, ['connectionString', 'password']);
    for (const t of [USER, USRGRP, SECROLE, DBROLE]) {
      assert.equal(t.scope, 'server');
      assert.equal(t.part, 'securityConfiguration');
    }
  });

  it('finds owners and owned child types', () => {
    assert.deepEqual(ownerRefOf(DEFAULT_CATALOG.types.TTSK!), ['templateID', { type: 'TMPL', owner: true, required: true }]);
    assert.equal(ownerRefOf(DEFAULT_CATALOG.types.TMPL!), undefined);
    assert.deepEqual(childTypesOf(DEFAULT_CATALOG, 'TMPL'), [{ type: 'TTSK', field: 'templateID' }]);
    assert.deepEqual(sorted(childTypesOf(DEFAULT_CATALOG, 'TTSK').map((c) => c.type)), ['TASSGN', 'TPRED']);
    // A self-owning type is its own child type: sub-groups.
    assert.deepEqual(childTypesOf(DEFAULT_CATALOG, 'GROUP'), [{ type: 'GROUP', field: 'parentID' }]);
    assert.deepEqual(childTypesOf(DEFAULT_CATALOG, 'ROLE'), []);
  });

  it('is frozen', () => {
    assert.throws(() => {
      DEFAULT_CATALOG.types.TMPL!.includes.push('USER');
    }, TypeError);
  });
});

describe('validateCatalog', () => {
  it('fills defaults', () => {
    const c = valueOf(validateCatalog({ types: [{ code: 'WIDGET' }] }));
    // The type table has no prototype: a code such as "constructor" is not a type.
    assert.equal(Object.getPrototypeOf(c.types), null);
    assert.equal(c.types['constructor'], undefined);
    assert.deepEqual(
      { ...c, types: { ...c.types } },
      {
        version: 'custom',
        types: {
          WIDGET: {
            code: 'WIDGET',
            label: 'WIDGET',
            part: 'metadata',
            fields: [],
            refs: {},
            includes: ['WIDGET'],
            scope: 'environment',
            conflictRule: 'replace',
            promotable: true,
          },
        },
      },
    );
  });

  it('rejects a ref to an unknown type', () => {
    const errors = errorsOf(
      validateCatalog({
        types: [{ code: 'TMPL' }, { code: 'TTSK', refs: { templateID: { type: 'TMPX', owner: true } } }],
      }),
    );
    assert.deepEqual(errors, ['type TTSK: ref templateID points at unknown type TMPX']);
  });

  it('rejects a duplicate code', () => {
    const errors = errorsOf(validateCatalog({ types: [{ code: 'GROUP' }, { code: 'ROLE' }, { code: 'GROUP' }] }));
    assert.deepEqual(errors, ['duplicate type code GROUP']);
  });

  it('rejects owned children forming a cycle between distinct types, naming the path', () => {
    const errors = errorsOf(
      validateCatalog({
        types: [
          { code: 'B', refs: { aID: { type: 'A', owner: true } } },
          { code: 'A', refs: { bID: { type: 'B', owner: true } } },
        ],
      }),
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /owned children form a cycle: A -> B -> A/);
  });

  it('reports a longer owner cycle once', () => {
    const errors = errorsOf(
      validateCatalog({
        types: [
          { code: 'A', refs: { cID: { type: 'C', owner: true } } },
          { code: 'B', refs: { aID: { type: 'A', owner: true } } },
          { code: 'C', refs: { bID: { type: 'B', owner: true } } },
        ],
      }),
    );
    assert.deepEqual(errors, ['owned children form a cycle: A -> C -> B -> A']);
  });

  it('allows a type to own itself (a hierarchy)', () => {
    valueOf(validateCatalog({ types: [{ code: 'GROUP', refs: { parentID: { type: 'GROUP', owner: true } } }] }));
  });

  it('rejects two owner refs', () => {
    const errors = errorsOf(
      validateCatalog({
        types: [{ code: 'P' }, { code: 'Q' }, { code: 'C', refs: { pID: { type: 'P', owner: true }, qID: { type: 'Q', owner: true } } }],
      }),
    );
    assert.deepEqual(errors, ['type C: more than one owner ref (pID, qID)']);
  });

  it('rejects a bad type code', () => {
    for (const code of ['tmpl', '1ABC', 'A-B', 'ABCDEFGHIJKLMNOPQ', '']) {
      const errors = errorsOf(validateCatalog({ types: [{ code }] }));
      assert.equal(errors.length, 1, code);
      assert.match(errors[0]!, /^type code ".*" is invalid: must match/, code);
    }
  });

  it('rejects unknown includes, missing self and empty natural keys', () => {
    const errors = errorsOf(
      validateCatalog({
        types: [
          { code: 'A', includes: ['A', 'NOPE'] },
          { code: 'B', includes: ['A'], naturalKey: { fields: [], unique: true } },
        ],
      }),
    );
    assert.deepEqual(errors, ['type A: includes unknown type NOPE', 'type B: includes must list B itself', 'type B: naturalKey has no fields']);
  });

  it('names the type and the field of a shape error', () => {
    const errors = errorsOf(
      validateCatalog({
        types: [{ code: 'TTSK', refs: { templateID: { type: 7 } }, ownr: true }],
      }),
    );
    assert.ok(
      errors.some((e) => e.startsWith('type TTSK: refs.templateID.type:')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => e.startsWith('type TTSK:') && e.includes("'ownr'")),
      errors.join('\n'),
    );
    assert.deepEqual(errorsOf(validateCatalog([])), ['Expected object, received array']);
    assert.deepEqual(errorsOf(validateCatalog({})), ['types: Required']);
  });
});

describe('resolveCatalog and mergeCatalogs', () => {
  const widget: TypeSpecInput = {
    code: 'WIDGET',
    label: 'Widget',
    part: 'uiComponentConfig',
    refs: { groupID: { type: 'GROUP' }, templateID: { type: 'TMPL', owner: true, required: true } },
  };

  it('extend mode adds a type that references default types', () => {
    const c = valueOf(resolveCatalog({ version: 'acme-1', extend: true, types: [widget] }));
    assert.equal(c.version, '2026.1+acme-1');
    assert.equal(c.types.WIDGET?.label, 'Widget');
    assert.equal(c.types.TMPL, DEFAULT_CATALOG.types.TMPL);
    assert.equal(Object.keys(c.types).length, Object.keys(DEFAULT_CATALOG.types).length + 1);
    assert.deepEqual(
      childTypesOf(c, 'TMPL').map((x) => x.type),
      ['TTSK', 'WIDGET'],
    );
  });

  it('extend mode replaces a default type by code', () => {
    const c = valueOf(resolveCatalog({ extend: true, types: [{ code: 'ROLE', label: 'Job role' }] }));
    assert.equal(c.version, '2026.1+extended');
    assert.equal(c.types.ROLE?.label, 'Job role');
    assert.deepEqual(c.types.ROLE?.naturalKey, undefined);
  });

  it('extend mode checks refs across both catalogs', () => {
    const errors = errorsOf(
      resolveCatalog({
        extend: true,
        types: [{ code: 'WIDGET', refs: { gadgetID: { type: 'GADGET' } } }],
      }),
    );
    assert.deepEqual(errors, ['type WIDGET: ref gadgetID points at unknown type GADGET']);
    // An overlay owner ref can close a cycle with a base type.
    const cycle = errorsOf(
      resolveCatalog({
        extend: true,
        types: [{ code: 'TMPL', refs: { taskID: { type: 'TTSK', owner: true } } }],
      }),
    );
    assert.deepEqual(cycle, ['owned children form a cycle: TMPL -> TTSK -> TMPL']);
  });

  it('replacement mode stands alone', () => {
    const c = valueOf(resolveCatalog({ version: 'mini', types: [{ code: 'WIDGET' }] }));
    assert.deepEqual(Object.keys(c.types), ['WIDGET']);
    assert.equal(c.version, 'mini');
    const errors = errorsOf(resolveCatalog({ types: [widget] }));
    assert.deepEqual(errors, ['type WIDGET: ref groupID points at unknown type GROUP', 'type WIDGET: ref templateID points at unknown type TMPL']);
  });

  it('mergeCatalogs throws a ValidationError on an inconsistent result', () => {
    const overlay = valueOf(validateCatalog({ version: 'x', types: [{ code: 'B' }] }));
    const broken: Catalog = {
      version: 'x',
      types: { ...overlay.types, C: { ...overlay.types.B!, code: 'C', refs: { zID: { type: 'Z' } }, includes: ['C'] } },
    };
    assert.throws(
      () => mergeCatalogs(DEFAULT_CATALOG, broken),
      (e: unknown) => e instanceof ValidationError && e.message === 'type C: ref zID points at unknown type Z',
    );
    const merged = mergeCatalogs(DEFAULT_CATALOG, overlay);
    assert.equal(merged.version, '2026.1+x');
    assert.ok(merged.types.B && merged.types.GROUP);
  });
});

describe('readCatalog', () => {
  it('reads a file, and names the path in every error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-catalog-'));
    try {
      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify({ extend: true, types: [{ code: 'WIDGET' }] }));
      const c = await readCatalog(good);
      assert.ok(c.types.WIDGET && c.types.TMPL);

      const bad = join(dir, 'bad.json');
      await writeFile(bad, '{ "types": [');
      await assert.rejects(readCatalog(bad), (e: unknown) => e instanceof ValidationError && e.message.startsWith(`catalog ${bad}: invalid JSON`));

      const wrong = join(dir, 'wrong.json');
      await writeFile(wrong, JSON.stringify({ types: [{ code: 'A', refs: { x: { type: 'X' } } }, { code: 'A' }] }));
      await assert.rejects(readCatalog(wrong), (e: unknown) => e instanceof ValidationError && e.message === `catalog ${wrong}: duplicate type code A`);

      const missing = join(dir, 'missing.json');
      await assert.rejects(readCatalog(missing), (e: unknown) => e instanceof ValidationError && e.message.startsWith(`catalog ${missing}: cannot read`));

      const roundTrip = join(dir, 'default.json');
      await writeFile(roundTrip, JSON.stringify(catalogToJson(DEFAULT_CATALOG), null, 2));
      assert.deepEqual(await readCatalog(roundTrip), DEFAULT_CATALOG);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
