// The vendor SDK's own call sequence (mstrio-py: mstrio/connection.py,
// mstrio/api/authentication.py, mstrio/api/projects.py, mstrio/server/project.py),
// replayed request by request against two real `ferry serve` processes, and
// the document's workflow polled every second as its best practices say.
// Python is not installed here: each method below sends exactly what the
// SDK method of the same name sends (paths, query, headers, bodies).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, startDialectServer, type DialectServer, type HttpOptions, type HttpRes } from './harness.js';
import { envOfProject, objectsOf, OBJECTS } from './duplication-support.js';

const UNSTABLE = ['CANCELLING', 'EXPORTING', 'EXPORT_SYNCING', 'IMPORTING', 'IMPORT_SYNCING'];

/** One SDK `Connection`: its own session headers and cookie jar (a requests.Session). */
class Connection {
  private token = '';
  private cookie = '';
  iserverVersion = '';
  timeout = 0;

  constructor(
    readonly s: DialectServer,
    /** `connection.base_url`: the URL given, cut at the first `/api`. */
    readonly baseUrl: string,
  ) {}

  /** Connection(base_url, username, password): login (form), session info, server status. */
  static async open(s: DialectServer, username: string, password: string): Promise<Connection> {
    const c = new Connection(s, s.base);
    const login = await c.request('POST', '/api/auth/login', { form: { loginMode: '1', applicationType: '76', username, password } });
    assert.equal(login.status, 204, login.text);
    c.token = login.headers.get('x-mstr-authtoken')!;
    const sessions = await c.request('GET', '/api/sessions');
    c.timeout = sessions.json.timeout;
    assert.equal(typeof c.timeout, 'number');
    const status = await c.request('GET', '/api/status');
    c.iserverVersion = String(status.json.iServerVersion).slice(0, 9);
    return c;
  }

  async request(method: string, path: string, opts: HttpOptions = {}): Promise<HttpRes> {
    const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'python-requests/2.32.3', ...opts.headers };
    if (this.token) headers['x-mstr-authtoken'] = this.token;
    if (this.cookie) headers.cookie = this.cookie;
    const r = await this.s.http(method, path, { ...opts, headers });
    const set = r.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return r;
  }

  /** The SDK's ErrorHandler: anything not ok raises, with the server's code and message. */
  async ok(method: string, path: string, opts: HttpOptions = {}): Promise<HttpRes> {
    const r = await this.request(method, path, opts);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return r;
  }

  /** Project(connection, name=...): the project list paged by monitors, then the project as an object. */
  async project(name: string): Promise<{ id: string; name: string }> {
    const page = await this.ok('GET', '/api/monitors/projects?offset=0&limit=1000');
    assert.ok(Number(page.headers.get('x-mstr-total-count')) >= 1);
    const found = page.json.projects.find((p: { name: string }) => p.name === name);
    assert.ok(found, `no project ${name}`);
    await this.ok('GET', '/api/projects');
    const obj = await this.ok('GET', `/api/objects/${found.id}?type=32&comments=True`, { headers: { 'x-mstr-projectid': found.id } });
    return { id: obj.json.id, name: obj.json.name };
  }

  close(): Promise<HttpRes> {
    return this.request('POST', '/api/auth/logout');
  }
}

/** DuplicationConfig().to_dict(connection) on a server of 11.5.0900 or later (its defaults). */
const duplicationConfig = () => ({
  export: {
    projectObjectsPreference: { schemaObjectsOnly: true, skipEmptyProfileFolders: true, skipAllProfileFolders: false },
    subscriptionPreferences: { includeUserSubscriptions: true, includeContactSubscriptions: true, includeContactsAndContactGroups: false },
  },
  import: { description: 'Project Duplication', defaultLocale: 0, locales: [0] },
});

/** CrossDuplicationConfig(...).to_dict(connection): conflict rules go under export and import alike. */
function crossConfig(opts: { rules?: { type: number; rule: number }[]; objects?: string[]; includeAllUserGroups?: boolean; matchUsersByLogin?: boolean } = {}) {
  const body = duplicationConfig() as Record<string, any>;
  body.export.configurationObjects = { includeAllUserGroups: opts.includeAllUserGroups ?? false };
  body.import.configurationObjects = { matchUsersByLogin: opts.matchUsersByLogin ?? false };
  if (opts.rules) {
    body.export.configurationObjects.conflictRules = opts.rules;
    body.import.configurationObjects.conflictRules = opts.rules;
  }
  if (opts.objects) body.export.configurationObjects.objects = opts.objects;
  return body;
}

/** Project._build_duplication_body */
function duplicationBody(source: Connection, project: { id: string; name: string }, target: Connection, name: string, settings: unknown, targetId?: string) {
  return {
    source: { environment: { id: source.baseUrl, name: source.baseUrl }, project: { id: project.id, name: project.name } },
    target: { environment: { id: target.baseUrl, name: target.baseUrl }, project: { name, ...(targetId ? { id: targetId } : {}) } },
    settings,
  };
}

/** ProjectDuplication.wait_for_stable_status(interval=1): fetch until the status is stable. */
async function waitForStableStatus(c: Connection, record: { id: string; status: string }, everyMs = 1000): Promise<any> {
  let current: any = record;
  const until = Date.now() + 120_000;
  while (UNSTABLE.includes(current.status) && Date.now() < until) {
    current = (await c.ok('GET', `/api/projectDuplications/${record.id}`)).json;
    if (UNSTABLE.includes(current.status)) await new Promise((r) => setTimeout(r, everyMs));
  }
  return current;
}

/** list_projects_duplications(connection): batches of 1000 under `duplications`. */
async function listProjectsDuplications(c: Connection): Promise<any[]> {
  const out: any[] = [];
  for (let offset = 0; ;) {
    const batch = (await c.ok('GET', `/api/projectDuplications?offset=${offset}&limit=1000`)).json.duplications as any[];
    out.push(...batch);
    offset += batch.length;
    if (batch.length < 1000) return out;
  }
}

/** projects.trigger_project_restoration_on_target_env: `data` (metadata) first, then `files`. */
function restorationForm(pkg: Buffer, metadata: unknown): FormData {
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  form.append('file', new Blob([pkg], { type: 'application/octet-stream' }), 'package.projdup');
  return form;
}

describe('the SDK (mstrio-py) against two ferry serve processes', () => {
  let src: DialectServer;
  let tgt: DialectServer;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    const a = await startDialectServer({ kind: 'process' });
    stops.push(() => a.stop());
    src = a.server;
    const b = await startDialectServer({ kind: 'process' }, { env: { FERRY_TRUSTED_SOURCES: JSON.stringify({ [`${src.base}/`]: ADMIN_KEY }) } });
    stops.push(() => b.stop());
    tgt = b.server;
    await src.environment({ id: 'tutorial', name: 'Tutorial', tier: 'development' });
    await src.objects('tutorial', OBJECTS);
    await src.environment({ id: 'big', name: 'Big', tier: 'development' });
    await src.objects(
      'big',
      Array.from({ length: 30_000 }, (_, i) => ({ type: 'ROLE', id: `role-${i}`, name: `Role ${i}`, fields: { description: 'x'.repeat(40) } })),
    );
    for (const s of [src, tgt]) await s.user('mstr', {}, { password: 'mstr password 1', admin: true });
  });
  after(async () => {
    for (const stop of stops) await stop();
  });

  it('same environment: duplicate(), wait_for_stable_status(), list_projects_duplications(), delete(), close()', async () => {
    const conn = await Connection.open(src, 'mstr', 'mstr password 1');
    assert.equal(conn.iserverVersion, '11.5.1200');
    const project = await conn.project('Tutorial');
    const posted = await conn.ok('POST', '/api/projectDuplications', {
      headers: { 'x-mstr-projectid': project.id, prefer: 'respond-async' },
      json: duplicationBody(conn, project, conn, 'Tutorial_default', duplicationConfig()),
    });
    assert.equal(posted.status, 201);
    assert.equal(posted.json.status, 'EXPORTING');
    const done = await waitForStableStatus(conn, posted.json);
    assert.equal(done.status, 'COMPLETED', done.message);
    const copy = await conn.project('Tutorial_default');
    assert.deepEqual(await objectsOf(src, (await envOfProject(src, copy.id)).id), await objectsOf(src, 'tutorial'));
    const listed = await listProjectsDuplications(conn);
    assert.ok(listed.some((d) => d.id === posted.json.id && d.status === 'COMPLETED'));
    const del = await conn.request('DELETE', `/api/projectDuplications/${posted.json.id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.equal((await conn.close()).status, 204);
  });

  it('another environment: the compatibility check, duplicate_to_other_environment() with sync, both records waited, the project on the target', async () => {
    const s = await Connection.open(src, 'mstr', 'mstr password 1');
    const t = await Connection.open(tgt, 'mstr', 'mstr password 1');
    // _check_source_and_target_compatibility
    const versions = await s.ok('GET', '/api/projectDuplications/versions');
    assert.equal((await t.request('POST', '/api/projectDuplications/validations', { json: versions.json })).status, 200);

    const project = await s.project('Tutorial');
    const body = duplicationBody(
      s,
      project,
      t,
      'Tutorial_cross',
      crossConfig({
        includeAllUserGroups: true,
        matchUsersByLogin: true,
        rules: [
          { type: 34, rule: 6 },
          { type: 44, rule: 2 },
        ],
        objects: ['sr-normal'],
      }),
      project.id,
    );
    const posted = await s.ok('POST', '/api/projectDuplications', { headers: { 'x-mstr-projectid': project.id, prefer: 'respond-async' }, json: body });
    const put = await t.ok('PUT', `/api/projectDuplications/${posted.json.id}`, { headers: { prefer: 'respond-async' }, json: body });
    assert.equal(put.status, 201);
    const onSource = await waitForStableStatus(s, posted.json);
    assert.equal(onSource.status, 'EXPORTED', onSource.message);
    const onTarget = await waitForStableStatus(t, { id: posted.json.id, status: put.json.status });
    assert.equal(onTarget.status, 'COMPLETED', onTarget.message);
    // keep_id: the target project has the source project's id.
    const there = await t.project('Tutorial_cross');
    assert.equal(there.id, project.id);
    const objects = await objectsOf(tgt, (await envOfProject(tgt, there.id)).id);
    // Every object of the project under its own id; of the configuration objects, those the rules chose:
    // every user group (includeAllUserGroups) and the listed security role. No project object refers to Ann: she stays.
    for (const [k, v] of await objectsOf(src, 'tutorial')) assert.deepEqual(objects.get(k), k === 'USER:u-ann' ? undefined : v, k);
    await s.close();
    await t.close();
  });

  it('cancel(): a running duplication ends CANCELLED, a finished one cannot be cancelled', async () => {
    const conn = await Connection.open(src, 'mstr', 'mstr password 1');
    const t = await Connection.open(tgt, 'mstr', 'mstr password 1');
    const big = await conn.project('Big');
    // 30,000 objects to export: the cancel lands while the source is EXPORTING.
    const posted = await conn.ok('POST', '/api/projectDuplications', {
      headers: { 'x-mstr-projectid': big.id, prefer: 'respond-async' },
      json: duplicationBody(conn, big, t, 'Big copy', crossConfig()),
    });
    const cancel = await conn.request('PUT', `/api/projectDuplications/${posted.json.id}/status`, { json: { status: 'cancelled' } });
    assert.equal(cancel.status, 204, cancel.text);
    const done = await waitForStableStatus(conn, { id: posted.json.id, status: 'CANCELLING' });
    assert.equal(done.status, 'CANCELLED');
    assert.equal((await conn.request('GET', `/api/projectDuplications/${posted.json.id}/backup`)).status, 400);
    const again = await conn.request('PUT', `/api/projectDuplications/${posted.json.id}/status`, { json: { status: 'cancelled' } });
    assert.equal(again.status, 400);
    assert.equal(again.json.code, 'INVALID_REQUEST');
    await conn.close();
  });

  it('backup and restore: duplicate_to_other_environment(sync off), get_backup_package(), restore_project_from_backup(), restore_package_on_target_environment()', async () => {
    const s = await Connection.open(src, 'mstr', 'mstr password 1');
    const t = await Connection.open(tgt, 'mstr', 'mstr password 1');
    const project = await s.project('Tutorial');
    const posted = await s.ok('POST', '/api/projectDuplications', {
      headers: { 'x-mstr-projectid': project.id, prefer: 'respond-async' },
      json: duplicationBody(s, project, t, 'Tutorial_auto_sync_off', crossConfig()),
    });
    const exported = await waitForStableStatus(s, posted.json);
    assert.equal(exported.status, 'EXPORTED');
    const pkg = await s.ok('GET', `/api/projectDuplications/${posted.json.id}/backup`);
    const disposition = pkg.headers.get('content-disposition')!;
    assert.equal(disposition.split('filename=')[1]!.replace(/^"|"$/g, ''), `${posted.json.id}.projdup`);

    // Project.restore_project_from_backup(connection, backup_file, target_name)
    const restored = await t.ok('POST', '/api/projectDuplications/restoration', {
      headers: { prefer: 'respond-async' },
      body: restorationForm(pkg.bytes, {
        settings: { import: crossConfig().import },
        target: { environment: { id: t.baseUrl, name: t.baseUrl }, project: { name: 'Tutorial_auto_sync_off' } },
      }),
    });
    assert.equal(restored.status, 201);
    const r1 = await waitForStableStatus(t, restored.json);
    assert.equal(r1.status, 'COMPLETED', r1.message);
    await t.project('Tutorial_auto_sync_off');

    // ProjectDuplication.restore_package_on_target_environment(target_env): the record's target (creator dropped) and import settings.
    const target = { ...exported.target, project: { ...exported.target.project, name: 'Tutorial_restored_again' } };
    delete target.creator;
    const again = await t.ok('POST', '/api/projectDuplications/restoration', {
      headers: { prefer: 'respond-async' },
      body: restorationForm(pkg.bytes, { settings: { import: exported.settings.import }, target }),
    });
    const r2 = await waitForStableStatus(t, again.json);
    assert.equal(r2.status, 'COMPLETED', r2.message);
    assert.equal((await t.project('Tutorial_restored_again')).id, exported.target.project.id);

    // delete(force=True) on both sides, then close().
    for (const [c, id] of [
      [s, posted.json.id],
      [t, restored.json.id],
      [t, again.json.id],
    ] as const) {
      assert.equal((await c.request('DELETE', `/api/projectDuplications/${id}`)).status, 204);
    }
    assert.equal((await s.request('GET', `/api/projectDuplications/${posted.json.id}/backup`)).status, 404);
    assert.equal((await s.close()).status, 204);
    assert.equal((await t.close()).status, 204);
    // A closed session is refused in the product's words (the SDK's logout tolerates ERR009).
    const closed = await t.request('POST', '/api/auth/logout');
    assert.deepEqual([closed.status, closed.json.code], [401, 'ERR009']);
  });

  it("polls the document's workflow every second: POST on the source, PUT on the target with the sample body", async () => {
    const s = await Connection.open(src, 'mstr', 'mstr password 1');
    const t = await Connection.open(tgt, 'mstr', 'mstr password 1');
    const project = await s.project('Tutorial');
    const body = {
      source: { environment: { id: src.base, name: 'Source Environment' }, project: { id: project.id, name: 'Tutorial' } },
      target: { environment: { id: tgt.base, name: 'Target Environment' }, project: { name: 'Target Project' } },
      settings: {
        import: {
          description: 'this is a test description',
          defaultLocale: 2052,
          locales: [1033, 2052],
          configurationObjects: {
            conflictRules: [
              { type: 5, rule: 1 },
              { type: 34, rule: 6 },
              { type: 29, rule: 2 },
              { type: 44, rule: 2 },
            ],
            matchUsersByLogin: false,
          },
        },
        export: {
          configurationObjects: {
            rules: [
              { type: 5, rule: 1 },
              { type: 34, rule: 2 },
            ],
            objects: ['u-ann', 'g-everyone'],
            includeAllUserGroups: false,
          },
        },
      },
    };
    const headers = { 'content-type': 'application/json', prefer: 'respond-async', 'x-mstr-projectid': project.id };
    const posted = await s.ok('POST', '/api/projectDuplications', { headers, json: body });
    const put = await t.ok('PUT', `/api/projectDuplications/${posted.json.id}`, { headers, json: body });
    const [a, b] = await Promise.all([waitForStableStatus(s, posted.json), waitForStableStatus(t, put.json)]);
    assert.deepEqual([a.status, b.status], ['EXPORTED', 'COMPLETED']);
    const env = await envOfProject(tgt, b.target.project.id);
    const objects = await objectsOf(tgt, env.id);
    // Ann was selected (rule 2), and brought her group and role along (type 5 rule 1: related).
    for (const k of ['USER:u-ann', 'USRGRP:g-everyone', 'SECROLE:sr-normal', 'TMPL:tmpl1', 'TTSK:ttsk1']) assert.ok(objects.has(k), k);
    const projects = (await t.ok('GET', '/api/projects')).json;
    assert.equal(projects.find((p: { name: string }) => p.name === 'Target Project').description, 'this is a test description');
  });
});
