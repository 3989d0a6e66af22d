// The pure rules of project duplication (004): request parsing and defaults,
// which configuration objects travel with a project, and what each becomes
// on the target server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCatalog } from '../../src/core/catalog.js';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';
import { parseDuplicationRequest, parseRestorationMetadata, parseTargetRequest } from '../../src/core/duplication-settings.js';
import { resolveConfigurationObjects, selectConfigurationObjects, type ConfigDecision, type ExportRules } from '../../src/core/duplication-rules.js';
import type { Catalog, FerryObject } from '../../src/core/types.js';

const body = (settings?: unknown) => ({
  source: { environment: { id: 'http://a', name: 'A' }, project: { id: 'B7CA92F04B9FAE8D941C3E9B7E0CD754', name: 'Tutorial' } },
  target: { environment: { id: 'http://b', name: 'B' }, project: { name: 'Target Project' } },
  ...(settings !== undefined ? { settings } : {}),
});

describe('parseDuplicationRequest', () => {
  it('names the first missing required field as the request-field table spells it', () => {
    for (const [path, strip] of [
      ['source.environment.id', (b: any) => delete b.source.environment.id],
      ['source.project.name', (b: any) => delete b.source.project.name],
      ['target.project.name', (b: any) => delete b.target.project.name],
      ['target.environment', (b: any) => delete b.target.environment],
    ] as const) {
      const b = body();
      strip(b);
      assert.throws(() => parseDuplicationRequest(b), new RegExp(`^ValidationError: ${path.replaceAll('.', '\\.')} is required$`));
    }
    assert.throws(() => parseDuplicationRequest([]), /the body must be a JSON object/);
    assert.throws(() => parseDuplicationRequest({ ...body(), source: 'x' }), /source must be an object/);
  });

  it('fills the defaults the record echoes, and keeps the default locale one of the locales', () => {
    const r = parseDuplicationRequest(body());
    assert.deepEqual(r.settings, {
      export: {
        projectObjectsPreference: { schemaObjectsOnly: false, skipEmptyProfileFolders: false },
        subscriptionPreferences: { includeUserSubscriptions: false, includeContactSubscriptions: false },
        configurationObjects: { rules: [], objects: [], includeAllUserGroups: false },
      },
      import: { description: '', defaultLocale: 0, locales: [0], configurationObjects: { conflictRules: [], matchUsersByLogin: false } },
    });
    assert.deepEqual(parseDuplicationRequest(body({ import: { locales: [1033, 2052] } })).settings.import.defaultLocale, 1033);
    assert.deepEqual(parseDuplicationRequest(body({ import: { defaultLocale: 2052 } })).settings.import.locales, [2052]);
    assert.throws(
      () => parseDuplicationRequest(body({ import: { defaultLocale: 1031, locales: [1033] } })),
      /settings\.import\.defaultLocale 1031 must be one of settings\.import\.locales/,
    );
  });

  it('checks export rules: types 5 and 34, rules 0-3, type 5 only 1 or 3', () => {
    const rules = (r: unknown) => body({ export: { configurationObjects: { rules: r } } });
    assert.throws(() => parseDuplicationRequest(rules([{ type: 44, rule: 1 }])), /rules\[0\]\.type 44 is not supported/);
    assert.throws(() => parseDuplicationRequest(rules([{ type: 34, rule: 4 }])), /rules\[0\]\.rule 4 is not one of/);
    assert.throws(() => parseDuplicationRequest(rules([{ type: 5, rule: 2 }])), /type 5 \(the default\) only supports rule 1/);
    assert.throws(() => parseDuplicationRequest(rules([{ type: 5, rule: 0 }])), /type 5 \(the default\) only supports rule 1/);
    assert.throws(
      () =>
        parseDuplicationRequest(
          rules([
            { type: 5, rule: 1 },
            { type: 5, rule: 3 },
          ]),
        ),
      /type 5 has two rules/,
    );
    assert.throws(() => parseDuplicationRequest(rules([{ type: '5', rule: 1 }])), /rules\.0\.type must be an integer/);
  });

  it('takes conflict rules from export as well as import (import wins), the SDK extras, and drops unknown fields', () => {
    const r = parseDuplicationRequest(
      body({
        export: {
          projectObjectsPreference: { schemaObjectsOnly: true, skipAllProfileFolders: true },
          subscriptionPreferences: { includeContactsAndContactGroups: true },
          configurationObjects: {
            includeAllUserGroups: true,
            conflictRules: [
              { type: 34, rule: 6 },
              { type: 29, rule: 2 },
            ],
            objects: ['X1'],
          },
        },
        import: { typesMatchByName: [44, 44, 30], configurationObjects: { conflictRules: [{ type: 29, rule: 1 }], matchUsersByLogin: true }, someday: 1 },
        unknownSection: {},
      }),
    );
    assert.deepEqual(r.settings.import.configurationObjects, {
      conflictRules: [
        { type: 34, rule: 6 },
        { type: 29, rule: 1 },
      ],
      matchUsersByLogin: true,
    });
    assert.deepEqual(r.settings.import.typesMatchByName, [44, 30]);
    assert.equal(r.settings.export.projectObjectsPreference.skipAllProfileFolders, true);
    assert.equal(r.settings.export.subscriptionPreferences.includeContactsAndContactGroups, true);
    assert.deepEqual(r.settings.export.configurationObjects.objects, ['X1']);
    assert.throws(
      () => parseDuplicationRequest(body({ import: { configurationObjects: { conflictRules: [{ type: 34, rule: 3 }] } } })),
      /rule 3 is not one of 1/,
    );
  });

  it('keeps target.project.id when given', () => {
    const b = body();
    (b.target.project as { id?: string }).id = 'B7CA92F04B9FAE8D941C3E9B7E0CD754';
    assert.equal(parseDuplicationRequest(b).target.project.id, 'B7CA92F04B9FAE8D941C3E9B7E0CD754');
  });
});

describe('parseTargetRequest and parseRestorationMetadata', () => {
  it('a PUT needs only the source server; settings {} defer to the source record', () => {
    assert.equal(parseTargetRequest({ source: { environment: { id: 'http://a' } }, settings: {} }).settings, undefined);
    assert.ok(parseTargetRequest(body({ import: { description: 'x' } })).settings);
    assert.throws(() => parseTargetRequest({ target: {} }), /source is required/);
  });

  it("restoration metadata is a JSON string; the document's placeholder conflict rule {type 0, rule 0} is accepted", () => {
    const m = parseRestorationMetadata(
      JSON.stringify({
        target: { environment: { id: 'http://b', name: 'B' }, project: { name: 'New' } },
        settings: { import: { configurationObjects: { conflictRules: [{ type: 0, rule: 0 }], matchUsersByLogin: true } } },
      }),
    );
    assert.deepEqual(m.settings.import.configurationObjects, { conflictRules: [], matchUsersByLogin: true });
    assert.throws(() => parseRestorationMetadata('{'), /metadata is not valid JSON/);
    assert.throws(() => parseRestorationMetadata(undefined), /metadata is required/);
    assert.throws(
      () => parseRestorationMetadata('{"target":{"environment":{"id":"x","name":"y"},"project":{}}}'),
      /metadata\.target\.project\.name is required/,
    );
  });
});

/** The default catalog plus a report type whose owner is a user: what makes a user "related to the project". */
function catalogWithOwners(): Catalog {
  const r = resolveCatalog({
    extend: true,
    types: [{ code: 'RPT', label: 'Report', part: 'reporting', promotable: true, includes: ['RPT'], refs: { ownerID: { type: 'USER' } }, fields: [] }],
  });
  if ('errors' in r) throw new Error(r.errors.join('; '));
  return r.value;
}

const o = (type: string, id: string, name: string, fields: Record<string, unknown> = {}): FerryObject => ({ type, id, name, fields });
const server = [
  o('SECROLE', 'sr1', 'Normal Users', { privileges: ['read'] }),
  o('SECROLE', 'sr2', 'Admins', { privileges: ['all'] }),
  o('USRGRP', 'g1', 'Everyone'),
  o('USRGRP', 'g2', 'Developers', { parentGroupID: 'g1' }),
  o('USRGRP', 'g3', 'Auditors'),
  o('USER', 'u1', 'Ann', { login: 'ann', userGroupIDs: ['g2'], securityRoleIDs: ['sr1'] }),
  o('USER', 'u2', 'Bob', { login: 'bob', userGroupIDs: ['g1'] }),
  o('USER', 'u3', 'Cy', { login: 'cy' }),
  o('DBROLE', 'd1', 'Warehouse', { connectionString: 'dev' }),
];
const ids = (list: FerryObject[]) => list.map((x) => `${x.type}:${x.id}`).sort();
const rules = (r: Partial<ExportRules>): ExportRules => ({ rules: [], objects: [], includeAllUserGroups: false, ...r });

describe('selectConfigurationObjects', () => {
  const catalog = catalogWithOwners();
  const refs = [{ type: 'USER', id: 'u1' }];

  it('rule 1 (the default): what the project refers to, and what that refers to in turn', () => {
    assert.deepEqual(ids(selectConfigurationObjects(catalog, server, refs, rules({}))), ['SECROLE:sr1', 'USER:u1', 'USRGRP:g1', 'USRGRP:g2']);
  });

  it('rule 3 on users: every user, with the groups and roles they need (type 5 stays related)', () => {
    const got = selectConfigurationObjects(catalog, server, refs, rules({ rules: [{ type: 34, rule: 3 }] }));
    assert.deepEqual(ids(got), ['SECROLE:sr1', 'USER:u1', 'USER:u2', 'USER:u3', 'USRGRP:g1', 'USRGRP:g2']);
  });

  it('rule 2 on users: only the listed ones; rule 0: none, even referred to', () => {
    assert.deepEqual(ids(selectConfigurationObjects(catalog, server, refs, rules({ rules: [{ type: 34, rule: 2 }], objects: ['u3'] }))), ['USER:u3']);
    assert.deepEqual(ids(selectConfigurationObjects(catalog, server, refs, rules({ rules: [{ type: 34, rule: 0 }] }))), []);
  });

  it('rule 0 on users with includeAllUserGroups: the whole group structure and no user (004)', () => {
    const got = selectConfigurationObjects(catalog, server, refs, rules({ rules: [{ type: 34, rule: 0 }], includeAllUserGroups: true }));
    assert.deepEqual(ids(got), ['USRGRP:g1', 'USRGRP:g2', 'USRGRP:g3']);
  });

  it('type 5 rule 3: every configuration object; listed objects join related ones', () => {
    assert.equal(selectConfigurationObjects(catalog, server, [], rules({ rules: [{ type: 5, rule: 3 }] })).length, server.length);
    assert.deepEqual(ids(selectConfigurationObjects(catalog, server, [], rules({ objects: ['d1'] }))), ['DBROLE:d1']);
  });
});

describe('resolveConfigurationObjects', () => {
  const catalog = DEFAULT_CATALOG;
  const incoming = [
    o('USRGRP', 'g2', 'Developers', { parentGroupID: 'g1' }),
    o('USER', 'u1', 'Ann', { login: 'ann', userGroupIDs: ['g2'], securityRoleIDs: ['sr1'], passwordHash: 'source-hash' }),
    o('SECROLE', 'sr1', 'Normal Users', { privileges: ['read', 'write'] }),
  ];
  const at = (d: { decisions: ConfigDecision[] }, type: string, id: string) => d.decisions.find((x) => x.type === type && x.sourceId === id)!;

  it('an empty target: everything is created under its own id', () => {
    const r = resolveConfigurationObjects(catalog, incoming, [], { conflictRules: [], matchUsersByLogin: false });
    assert.deepEqual(
      r.decisions.map((d) => [d.type, d.targetId, d.outcome]),
      [
        ['USRGRP', 'g2', 'created'],
        ['USER', 'u1', 'created'],
        ['SECROLE', 'sr1', 'created'],
      ],
    );
  });

  it('same id: 1 keeps the target object, 2 replaces it (keeping target-owned fields), 6 merges memberships and privileges', () => {
    const target = [
      o('USER', 'u1', 'Ann T', { login: 'ann', userGroupIDs: ['g9'], securityRoleIDs: [], passwordHash: 'target-hash' }),
      o('SECROLE', 'sr1', 'Normal Users', { privileges: ['read', 'admin'] }),
      o('USRGRP', 'g2', 'Developers (target)', {}),
    ];
    const keep = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [{ type: 5, rule: 1 }], matchUsersByLogin: false });
    assert.deepEqual(
      keep.decisions.map((d) => d.outcome),
      ['kept', 'kept', 'kept'],
    );
    const replace = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [{ type: 34, rule: 2 }], matchUsersByLogin: false });
    const u = at(replace, 'USER', 'u1');
    assert.equal(u.outcome, 'replaced');
    assert.deepEqual(u.object, o('USER', 'u1', 'Ann', { login: 'ann', userGroupIDs: ['g2'], securityRoleIDs: ['sr1'], passwordHash: 'target-hash' }));
    assert.equal(at(replace, 'USRGRP', 'g2').outcome, 'replaced');
    // Without a rule for 44 or 5, a security role follows the catalog's rule: merge.
    assert.deepEqual(at(replace, 'SECROLE', 'sr1').object?.fields.privileges, ['read', 'admin', 'write']);
    const merge = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [{ type: 34, rule: 6 }], matchUsersByLogin: false });
    assert.deepEqual(at(merge, 'USER', 'u1').object?.fields, {
      login: 'ann',
      userGroupIDs: ['g9', 'g2'],
      securityRoleIDs: ['sr1'],
      passwordHash: 'target-hash',
    });
    // Merge on a group (not a user or a security role) falls back to use-existing.
    assert.equal(at(merge, 'USRGRP', 'g2').outcome, 'kept');
  });

  it('matchUsersByLogin false keeps both users and renames the incoming login; true adopts the target id, then the rule applies', () => {
    const target = [o('USER', 'U9', 'Ann', { login: 'ann', userGroupIDs: [] }), o('USER', 'U8', 'Ann 1', { login: 'ann_1' })];
    const both = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [], matchUsersByLogin: false });
    const u = at(both, 'USER', 'u1');
    assert.equal(u.targetId, 'u1');
    assert.equal(u.renamedFrom, 'ann');
    assert.equal(u.object?.fields.login, 'ann_2');
    const adopt = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [{ type: 34, rule: 6 }], matchUsersByLogin: true });
    const a = at(adopt, 'USER', 'u1');
    assert.deepEqual([a.targetId, a.matchedBy, a.outcome], ['U9', 'login', 'merged']);
    assert.deepEqual(a.object?.fields.userGroupIDs, ['g2']);
  });

  it('typesMatchByName matches by name; otherwise a taken name is kept apart under a new name', () => {
    const target = [o('SECROLE', 'SRX', 'Normal Users', { privileges: ['read'] }), o('USRGRP', 'GX', 'Developers', {})];
    const apart = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [], matchUsersByLogin: false });
    assert.equal(at(apart, 'SECROLE', 'sr1').object?.name, 'Normal Users (1)');
    assert.equal(at(apart, 'USRGRP', 'g2').object?.name, 'Developers (1)');
    const named = resolveConfigurationObjects(catalog, incoming, target, { conflictRules: [], matchUsersByLogin: false, typesMatchByName: [44, 34] });
    assert.deepEqual([at(named, 'SECROLE', 'sr1').targetId, at(named, 'SECROLE', 'sr1').matchedBy], ['SRX', 'name']);
    // The incoming user's refs follow the ids their groups and roles ended up with.
    assert.deepEqual(at(named, 'USER', 'u1').object?.fields, { login: 'ann', userGroupIDs: ['GX'], securityRoleIDs: ['SRX'], passwordHash: 'source-hash' });
    assert.equal(named.translate('USRGRP', 'g2'), 'GX');
  });
});
