// Duplication from one Ferry server to another (004 "cross environment"):
// two servers listening on 127.0.0.1, the target trusting the source through
// FERRY_TRUSTED_SOURCES. In process on SQLite and PostgreSQL (a second
// source that runs no operations holds a duplication EXPORTING, so cancels
// can be provoked at will).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, startDialectServer, type DialectServer } from './harness.js';
import { DIALECTS } from '../support/engines.js';
import { ASYNC, DUP, duplicationBody, envOfProject, login, objectsOf, OBJECTS, settle } from './duplication-support.js';

/** Add sources the targets of this process trust (the target reads the variable when it calls out). */
function trust(...bases: string[]): void {
  const current = JSON.parse(process.env.FERRY_TRUSTED_SOURCES || '{}') as Record<string, string>;
  for (const b of bases) current[b] = ADMIN_KEY;
  process.env.FERRY_TRUSTED_SOURCES = JSON.stringify(current);
}

const projectObjects = (m: Map<string, unknown>) => new Map([...m].filter(([k]) => !/^(USER|USRGRP|SECROLE|DBROLE):/.test(k)));

for (const db of DIALECTS) {
  describe(`duplication between two servers [in process, ${db}]`, () => {
    let src: DialectServer;
    let idle: DialectServer;
    let tgt: DialectServer;
    const stops: (() => Promise<void>)[] = [];
    let sh: Record<string, string>;
    let ih: Record<string, string>;
    let th: Record<string, string>;
    let project: { url: string; projectId: string; name: string };
    let idleProject: { url: string; projectId: string; name: string };

    before(async () => {
      for (const [config, set] of [
        [{}, (s: DialectServer) => (src = s)],
        [{ workers: 0 }, (s: DialectServer) => (idle = s)],
        [{}, (s: DialectServer) => (tgt = s)],
      ] as const) {
        const running = await startDialectServer({ kind: 'in-process', db }, { config });
        stops.push(() => running.stop());
        set(running.server);
      }
      trust(src.base, idle.base);
      for (const s of [src, idle]) {
        const env = await s.environment({ id: 'sales', name: 'Sales', tier: 'production' });
        await s.objects('sales', OBJECTS);
        if (s === src) project = { url: s.base, projectId: env.uid, name: 'Sales' };
        else idleProject = { url: s.base, projectId: env.uid, name: 'Sales' };
      }
      // The target already has a user with Ann's login under another id, and a group of its own.
      await tgt.environment({ id: 'other', name: 'Other', tier: 'testing' });
      await tgt.objects('other', [
        { type: 'USRGRP', id: 'g-target', name: 'Target only', fields: {} },
        {
          type: 'USER',
          id: 'U-TARGET-ANN',
          name: 'Ann (target)',
          fields: { login: 'ann', userGroupIDs: ['g-target'], securityRoleIDs: [], passwordHash: 'prod-hash' },
        },
      ]);
      for (const s of [src, idle, tgt]) await s.user('ops', {}, { password: 'ops password 1', admin: true });
      sh = await login(src, 'ops', 'ops password 1');
      ih = await login(idle, 'ops', 'ops password 1');
      th = await login(tgt, 'ops', 'ops password 1');
    });
    after(async () => {
      for (const stop of stops) await stop();
    });

    it("runs the document's workflow: POST on the source, PUT on the target at once, both polled to the end", async () => {
      const body = duplicationBody(
        project,
        { url: tgt.base, name: 'Sales copy' },
        {
          export: {
            configurationObjects: {
              rules: [
                { type: 34, rule: 3 },
                { type: 5, rule: 1 },
              ],
              includeAllUserGroups: false,
            },
          },
          import: { description: 'from the source', configurationObjects: { conflictRules: [{ type: 34, rule: 6 }], matchUsersByLogin: true } },
        },
      );
      const posted = await src.http('POST', DUP, { headers: { ...sh, ...ASYNC, 'x-mstr-projectid': project.projectId }, json: body });
      assert.equal(posted.status, 201, posted.text);
      const put = await tgt.http('PUT', `${DUP}/${posted.json.id}`, { headers: { ...th, ...ASYNC }, json: body });
      assert.equal(put.status, 201, put.text);
      assert.equal(put.json.id, posted.json.id);
      assert.equal(put.json.status, 'IMPORT_SYNCING');
      assert.equal(put.json.target.project.id, posted.json.target.project.id);
      const [s, t] = await Promise.all([settle(src, sh, posted.json.id), settle(tgt, th, posted.json.id)]);
      assert.equal(s.status, 'EXPORTED', s.message);
      assert.equal(t.status, 'COMPLETED', t.message);
      assert.ok(
        t.seen.every((x: string) => ['IMPORT_SYNCING', 'IMPORTING', 'COMPLETED'].includes(x)),
        t.seen.join(' '),
      );

      const env = await envOfProject(tgt, posted.json.target.project.id);
      assert.equal(env.tier, 'production');
      assert.deepEqual(projectObjects(await objectsOf(tgt, env.id)), projectObjects(await objectsOf(src, 'sales')));
      // Users matched by login: Ann is the target's user (its id kept), memberships merged (rule 6), its password hash untouched.
      const onTarget = await objectsOf(tgt, env.id);
      assert.equal(onTarget.has('USER:u-ann'), false);
      assert.deepEqual(onTarget.get('USER:U-TARGET-ANN')!.fields, {
        login: 'ann',
        userGroupIDs: ['g-target', 'g-everyone'],
        securityRoleIDs: ['sr-normal'],
        passwordHash: 'prod-hash',
      });
      assert.deepEqual(onTarget.get('SECROLE:sr-normal'), { name: 'Normal Users', fields: { privileges: ['read'] } });
      assert.match(t.message, /2 created, 0 replaced, 1 merged/);
    });

    it('keeps both users when matchUsersByLogin is false (the incoming login is changed); a PUT once exported with settings {} takes the source settings', async () => {
      const settings = { export: { configurationObjects: { rules: [{ type: 34, rule: 3 }] } }, import: { configurationObjects: { matchUsersByLogin: false } } };
      const posted = await src.http('POST', DUP, {
        headers: { ...sh, ...ASYNC },
        json: duplicationBody(project, { url: tgt.base, name: 'Sales two' }, settings),
      });
      assert.equal((await settle(src, sh, posted.json.id)).status, 'EXPORTED');
      const put = await tgt.http('PUT', `${DUP}/${posted.json.id}`, {
        headers: { ...th, ...ASYNC },
        json: { ...duplicationBody(project, { url: tgt.base, name: 'Sales two' }), settings: {} },
      });
      assert.equal(put.status, 201, put.text);
      assert.deepEqual(put.json.settings, posted.json.settings);
      const t = await settle(tgt, th, posted.json.id);
      assert.equal(t.status, 'COMPLETED', t.message);
      const users = [...(await objectsOf(tgt, 'other'))].filter(([k]) => k.startsWith('USER:'));
      assert.deepEqual(users.map(([k, v]) => [k, v.fields.login]).sort(), [
        ['USER:U-TARGET-ANN', 'ann'],
        ['USER:u-ann', 'ann_1'],
      ]);
      assert.match(t.message, /renamed to stay unique: USER u-ann \(was ann\)/);
    });

    it('refuses a PUT for a duplication the source does not have, twice the same one, or a name already taken', async () => {
      const missing = await tgt.http('PUT', `${DUP}/${'A'.repeat(32)}`, { headers: th, json: duplicationBody(project, { url: tgt.base, name: 'Nope' }) });
      assert.equal(missing.status, 404);
      assert.match(missing.json.message, /not found on the source server/);
      const done = (await tgt.http('GET', DUP, { headers: th })).json.duplications[0];
      const twice = await tgt.http('PUT', `${DUP}/${done.id}`, { headers: th, json: duplicationBody(project, { url: tgt.base, name: 'Again' }) });
      assert.equal(twice.status, 409);
      const posted = await src.http('POST', DUP, { headers: { ...sh, ...ASYNC }, json: duplicationBody(project, { url: tgt.base, name: 'Other' }) });
      const taken = await tgt.http('PUT', `${DUP}/${posted.json.id}`, { headers: th, json: duplicationBody(project, { url: tgt.base, name: 'other' }) });
      assert.equal(taken.status, 409);
      assert.equal(taken.json.code, 'PROJECT_NAME_EXISTS');
    });

    it('cancelling on the source before EXPORTED cancels the pending target side too', async () => {
      const body = duplicationBody(idleProject, { url: tgt.base, name: 'Never there' });
      const posted = await idle.http('POST', DUP, { headers: { ...ih, ...ASYNC }, json: body });
      const put = await tgt.http('PUT', `${DUP}/${posted.json.id}`, { headers: { ...th, ...ASYNC }, json: body });
      assert.equal(put.status, 201, put.text);
      assert.equal((await idle.http('PUT', `${DUP}/${posted.json.id}`, { headers: ih, json: { status: 'cancelled' } })).status, 204);
      assert.equal((await idle.http('GET', `${DUP}/${posted.json.id}`, { headers: ih })).json.status, 'CANCELLED');
      const t = await settle(tgt, th, posted.json.id);
      assert.equal(t.status, 'CANCELLED');
      assert.match(t.message, /cancelled on the source server/);
      assert.equal((await tgt.http('GET', '/api/projects', { headers: th })).json.filter((p: { name: string }) => p.name === 'Never there').length, 0);
    });

    it('cancelling on the target (IMPORT_SYNCING) shows CANCELLING then CANCELLED and leaves the source alone', async () => {
      const body = duplicationBody(idleProject, { url: tgt.base, name: 'Also never' });
      const posted = await idle.http('POST', DUP, { headers: { ...ih, ...ASYNC }, json: body });
      const put = await tgt.http('PUT', `${DUP}/${posted.json.id}`, { headers: { ...th, ...ASYNC }, json: body });
      assert.equal(put.status, 201);
      // Let the target start waiting on its source.
      await settle(tgt, th, posted.json.id, { until: ['IMPORT_SYNCING'] });
      await new Promise((r) => setTimeout(r, 300));
      const cancel = await tgt.http('PUT', `${DUP}/${posted.json.id}/status`, { headers: th, json: { status: 'CANCELLED' } });
      assert.equal(cancel.status, 204);
      const t = await settle(tgt, th, posted.json.id);
      assert.equal(t.status, 'CANCELLED');
      assert.ok(t.seen[0] === 'CANCELLING' || t.seen[0] === 'CANCELLED', t.seen.join(' '));
      assert.equal((await idle.http('GET', `${DUP}/${posted.json.id}`, { headers: ih })).json.status, 'EXPORTING');
      // EXPORTING on a source: cancelled at once.
      assert.equal((await idle.http('PUT', `${DUP}/${posted.json.id}/status`, { headers: ih, json: { status: 'cancelled' } })).status, 204);
      assert.equal((await idle.http('GET', `${DUP}/${posted.json.id}`, { headers: ih })).json.status, 'CANCELLED');
      // A restoration that has not started yet (this server runs no operations): IMPORT_SYNCING, cancelled at once.
      const pkg = await src.http(
        'GET',
        `${DUP}/${(await src.http('GET', DUP, { headers: sh })).json.duplications.find((d: { status: string }) => d.status === 'EXPORTED').id}/backup`,
        { headers: sh },
      );
      const form = new FormData();
      form.append('metadata', JSON.stringify({ target: { environment: { id: idle.base, name: 'idle' }, project: { name: 'Restored later' } } }));
      form.append('file', new Blob([pkg.bytes]), 'p.projdup');
      const restore = await idle.http('POST', `${DUP}/restoration`, { headers: { ...ih, ...ASYNC }, body: form });
      assert.equal(restore.json.status, 'IMPORT_SYNCING');
      assert.equal((await idle.http('PUT', `${DUP}/${restore.json.id}`, { headers: ih, json: { status: 'cancelled' } })).status, 204);
      assert.equal((await idle.http('GET', `${DUP}/${restore.json.id}`, { headers: ih })).json.status, 'CANCELLED');
      assert.equal((await idle.http('DELETE', `${DUP}/${restore.json.id}`, { headers: ih })).status, 204);
    });
  });
}
