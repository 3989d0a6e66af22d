import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

/**
 * A second tenant's things probed by a user who has every right on their
 * own tenant and none on the other: every probe answers exactly like a
 * probe for something that never existed, and no list shows the other
 * tenant's ids or names.
 */
for (const dialect of DIALECTS) {
  describe(`tenant isolation on ${dialect}`, () => {
    let s: TestServer;
    let alice: string;
    const b = { pkg: '', inst: '', op: '', file: '', objId: 'b-secret-tmpl', objName: 'Bravo Secret Template' };
    const a = { pkg: '', file: '' };

    before(async () => {
      s = await openTestServer(dialect);
      for (const id of ['tenant-a', 'tenant-b'])
        assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id, name: `Tenant ${id}`, tier: 'development' })).status, 201);
      assert.equal(
        (await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'tenant-b-prod', name: 'Bravo production', tier: 'production' })).status,
        201,
      );
      const load = (env: string, prefix: string, name: string) =>
        s.call(ADMIN_KEY, 'POST', `/api/v1/environments/${env}/objects`, [
          { type: 'GROUP', id: `${prefix}-group`, name: `${name} Group`, fields: {} },
          {
            type: 'TMPL',
            id: prefix === 'b' ? b.objId : `${prefix}-tmpl`,
            name: prefix === 'b' ? b.objName : `${name} Template`,
            fields: { groupID: `${prefix}-group` },
          },
        ]);
      assert.equal((await load('tenant-a', 'a', 'Alpha')).status, 200);
      assert.equal((await load('tenant-b', 'b', 'Bravo')).status, 200);
      alice = await s.user('alice', { 'tenant-a': 'admin' });

      // Tenant B's history: a package, an installation, an operation, a bundle file.
      const pb = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'tenant-b',
        name: 'Bravo package',
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: b.objId }] }],
      });
      b.pkg = pb.body.package.id;
      await s.waitOp(ADMIN_KEY, pb.body.operation.id);
      await s.call(ADMIN_KEY, 'PATCH', `/api/v1/packages/${b.pkg}`, { status: 'ACTIVE' });
      const plan = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${b.pkg}/plans`, { targetEnvId: 'tenant-b-prod' });
      b.inst = plan.body.installation.id;
      const ins = await s.call(ADMIN_KEY, 'POST', `/api/v1/installations/${b.inst}/install`);
      assert.equal((await s.waitOp(ADMIN_KEY, ins.body.operation.id)).status, 'COMPLETED');
      const ex = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${b.pkg}/export`);
      b.op = ex.body.operation.id;
      const op = await s.waitOp(ADMIN_KEY, b.op);
      b.file = (op.result as { file: { id: string } }).file.id;
      // Alice's own package, to aim at tenant B as a target.
      const pa = await s.call(alice, 'POST', '/api/v1/packages', {
        sourceEnvId: 'tenant-a',
        name: 'Alpha package',
        objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'a-tmpl' }] }],
      });
      a.pkg = pa.body.package.id;
      await s.waitOp(alice, pa.body.operation.id);
      // And her own bundle, to import into tenant B.
      const ax = await s.call(alice, 'POST', `/api/v1/packages/${a.pkg}/export`);
      a.file = ((await s.waitOp(alice, ax.body.operation.id)).result as { file: { id: string } }).file.id;
    });
    after(async () => s.cleanup());

    const GHOST = '00000000-0000-4000-8000-000000000000';
    /** [what, method, url with B's real id, the same url with an id that never existed, body]. */
    const probes = (): [string, InjectOptions['method'], string, string, unknown?][] => [
      ['environment', 'GET', '/api/v1/environments/tenant-b', '/api/v1/environments/tenant-z'],
      ['environment change', 'PATCH', '/api/v1/environments/tenant-b', '/api/v1/environments/tenant-z', { name: 'mine now' }],
      ['environment delete', 'DELETE', '/api/v1/environments/tenant-b', '/api/v1/environments/tenant-z'],
      ['environment history', 'GET', '/api/v1/environments/tenant-b/history', '/api/v1/environments/tenant-z/history'],
      ['object list', 'GET', '/api/v1/environments/tenant-b/objects?type=TMPL', '/api/v1/environments/tenant-z/objects?type=TMPL'],
      ['object by id', 'GET', `/api/v1/environments/tenant-b/objects/TMPL/${b.objId}`, '/api/v1/environments/tenant-z/objects/TMPL/nope'],
      [
        'object by name',
        'GET',
        `/api/v1/environments/tenant-b/objects/TMPL/${encodeURIComponent(b.objName)}`,
        '/api/v1/environments/tenant-z/objects/TMPL/nope',
      ],
      [
        'object by id through tenant A',
        'GET',
        `/api/v1/environments/tenant-a/objects/TMPL/${b.objId}`,
        '/api/v1/environments/tenant-a/objects/TMPL/never-existed',
      ],
      [
        'object put',
        'PUT',
        `/api/v1/environments/tenant-b/objects/TMPL/${b.objId}`,
        '/api/v1/environments/tenant-z/objects/TMPL/nope',
        { name: 'overwritten' },
      ],
      ['object delete', 'DELETE', `/api/v1/environments/tenant-b/objects/TMPL/${b.objId}`, '/api/v1/environments/tenant-z/objects/TMPL/nope'],
      ['object load', 'POST', '/api/v1/environments/tenant-b/objects', '/api/v1/environments/tenant-z/objects', [{ type: 'GROUP', id: 'x', name: 'x' }]],
      ['package', 'GET', `/api/v1/packages/${b.pkg}`, `/api/v1/packages/${GHOST}`],
      ['package definition', 'GET', `/api/v1/packages/${b.pkg}/definition`, `/api/v1/packages/${GHOST}/definition`],
      ['package entities', 'GET', `/api/v1/packages/${b.pkg}/entities`, `/api/v1/packages/${GHOST}/entities`],
      ['package explain', 'GET', `/api/v1/packages/${b.pkg}/entities/TMPL/${b.objId}/explain`, `/api/v1/packages/${GHOST}/entities/TMPL/${b.objId}/explain`],
      ['package change', 'PATCH', `/api/v1/packages/${b.pkg}`, `/api/v1/packages/${GHOST}`, { status: 'DISABLED' }],
      ['package delete', 'DELETE', `/api/v1/packages/${b.pkg}`, `/api/v1/packages/${GHOST}`],
      ['package removals', 'PUT', `/api/v1/packages/${b.pkg}/removals`, `/api/v1/packages/${GHOST}/removals`, { removals: [] }],
      ['package plan', 'POST', `/api/v1/packages/${b.pkg}/plans`, `/api/v1/packages/${GHOST}/plans`, { targetEnvId: 'tenant-a' }],
      ['package export', 'POST', `/api/v1/packages/${b.pkg}/export`, `/api/v1/packages/${GHOST}/export`],
      ['package assemble', 'POST', `/api/v1/packages/${b.pkg}/assemble`, `/api/v1/packages/${GHOST}/assemble`],
      ['plan into tenant B', 'POST', `/api/v1/packages/${a.pkg}/plans`, `/api/v1/packages/${a.pkg}/plans`, { targetEnvId: 'tenant-b' }],
      [
        'package from tenant B',
        'POST',
        '/api/v1/packages',
        '/api/v1/packages',
        { sourceEnvId: 'tenant-b', name: 'x', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'x' }] }] },
      ],
      ['import into tenant B', 'POST', '/api/v1/imports', '/api/v1/imports', { fileId: a.file, targetEnvId: 'tenant-b', dryRun: true }],
      ['installation', 'GET', `/api/v1/installations/${b.inst}`, `/api/v1/installations/${GHOST}`],
      ['installation entries', 'GET', `/api/v1/installations/${b.inst}/entries`, `/api/v1/installations/${GHOST}/entries`],
      ['installation steps', 'GET', `/api/v1/installations/${b.inst}/steps`, `/api/v1/installations/${GHOST}/steps`],
      ['installation install', 'POST', `/api/v1/installations/${b.inst}/install`, `/api/v1/installations/${GHOST}/install`],
      ['installation rollback', 'POST', `/api/v1/installations/${b.inst}/rollback`, `/api/v1/installations/${GHOST}/rollback`],
      ['installation revalidate', 'POST', `/api/v1/installations/${b.inst}/revalidate`, `/api/v1/installations/${GHOST}/revalidate`, { overrides: [] }],
      ['operation', 'GET', `/api/v1/operations/${b.op}`, `/api/v1/operations/${GHOST}`],
      ['operation cancel', 'POST', `/api/v1/operations/${b.op}/cancel`, `/api/v1/operations/${GHOST}/cancel`],
      ['file', 'GET', `/api/v1/files/${b.file}`, `/api/v1/files/${GHOST}`],
      ['file content', 'GET', `/api/v1/files/${b.file}/content`, `/api/v1/files/${GHOST}/content`],
      ['file delete', 'DELETE', `/api/v1/files/${b.file}`, `/api/v1/files/${GHOST}`],
      ['import a B file', 'POST', '/api/v1/imports', '/api/v1/imports', { fileId: b.file, targetEnvId: 'tenant-a', dryRun: true }],
      ['audit of B', 'GET', '/api/v1/audit?environmentId=tenant-b', '/api/v1/audit?environmentId=tenant-z'],
    ];

    // An environment named in a body (not the URL) that the caller cannot see is a 400 naming the field, as if it did not exist.
    const ghostBodies = (): Record<string, unknown> => ({
      'import a B file': { fileId: GHOST, targetEnvId: 'tenant-a', dryRun: true },
      'plan into tenant B': { targetEnvId: 'tenant-z' },
      'package from tenant B': { sourceEnvId: 'tenant-z', name: 'x', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 'x' }] }] },
      'import into tenant B': { fileId: a.file, targetEnvId: 'tenant-z', dryRun: true },
    });
    const inBody = new Set(['plan into tenant B', 'package from tenant B', 'import into tenant B']);

    it('every probe of tenant B answers 404 (400 for an environment named in a body), exactly like a probe of something that does not exist', async () => {
      for (const [what, method, real, ghost, body] of probes()) {
        const r = await s.call(alice, method, real, body);
        const g = await s.call(alice, method, ghost, ghostBodies()[what] ?? body);
        const expected = inBody.has(what) ? 400 : 404;
        assert.equal(r.status, expected, `${what}: ${method} ${real} -> ${r.status} ${r.text}`);
        assert.equal(g.status, expected, `${what} (ghost): ${method} ${ghost} -> ${g.status} ${g.text}`);
        const norm = (m: string) =>
          m
            .replace(/tenant-[bz]/g, 'ENV')
            .replace(/[0-9a-f-]{36}/g, 'ID')
            .replace(/TMPL:\S+/g, 'TMPL:X');
        assert.equal(r.body.code, g.body.code, what);
        assert.equal(norm(r.body.message), norm(g.body.message), `${what}: "${r.body.message}" vs "${g.body.message}"`);
        for (const secret of [b.objName, 'Bravo', 'tenant-b-prod']) assert.ok(!r.text.includes(secret), `${what} leaks ${secret}: ${r.text}`);
      }
    });

    it('tenant B is untouched by all that', async () => {
      const obj = await s.call(ADMIN_KEY, 'GET', `/api/v1/environments/tenant-b/objects/TMPL/${b.objId}`);
      assert.equal(obj.body.name, b.objName);
      const pkg = await s.call(ADMIN_KEY, 'GET', `/api/v1/packages/${b.pkg}`);
      assert.equal(pkg.body.status, 'ACTIVE');
      assert.equal((await s.call(ADMIN_KEY, 'GET', `/api/v1/files/${b.file}`)).status, 200);
      const env = await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/tenant-b');
      assert.equal(env.body.name, 'Tenant tenant-b');
    });

    it('no list shows tenant B: environments, packages, installations, operations, files, audit', async () => {
      const secrets = ['tenant-b', b.objId, b.objName, b.pkg, b.inst, b.op, b.file, 'Bravo'];
      for (const url of [
        '/api/v1/environments',
        '/api/v1/packages',
        '/api/v1/packages?sourceEnvId=tenant-b',
        '/api/v1/installations',
        '/api/v1/installations?environmentId=tenant-b-prod',
        `/api/v1/installations?packageId=${b.pkg}`,
        '/api/v1/operations',
        '/api/v1/operations?environmentId=tenant-b',
        '/api/v1/files',
        '/api/v1/environments/tenant-a/objects?limit=1000',
      ]) {
        const r = await s.call(alice, 'GET', url);
        assert.equal(r.status, 200, `${url}: ${r.text}`);
        for (const secret of secrets) assert.ok(!r.text.includes(secret), `${url} leaks ${secret}`);
      }
      // Alice's own audit entries show what she asked for, never what she learnt nothing about.
      const audit = await s.call(alice, 'GET', '/api/v1/audit?actor=alice&limit=1000');
      assert.equal(audit.status, 200);
      for (const e of audit.body.items as { envId: string | null; subject: string | null; result: string }[]) {
        // A probe by id (package, installation, operation, file) must not learn which environment it belongs to.
        if ([b.pkg, b.inst, b.op, b.file].some((id) => (e.subject ?? '').includes(id)))
          assert.ok(e.envId === null || e.envId === 'tenant-a', `audit names ${e.envId} for ${e.subject}`);
        assert.ok(!JSON.stringify(e).includes('tenant-b-prod'), "the target of B's installation never shows");
      }
      const own = await s.call(alice, 'GET', '/api/v1/packages');
      assert.deepEqual(
        own.body.items.map((p: { id: string }) => p.id),
        [a.pkg],
      );
    });

    it("the refused probes are in tenant B's audit log, for its admins to see", async () => {
      const r = await s.call(ADMIN_KEY, 'GET', '/api/v1/audit?environmentId=tenant-b&actor=alice');
      assert.ok(
        r.body.items.some((e: { result: string }) => e.result === 'refused 404 NOT_FOUND'),
        'probes are audited',
      );
    });
  });
}
