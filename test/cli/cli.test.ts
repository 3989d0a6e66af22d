import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';

/** Run the CLI in process and capture what it prints. */
async function ferry(dataDir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ferry', '--data-dir', dataDir, ...args], {
    out: (s) => (out += s + '\n'),
    err: (s) => (err += s + '\n'),
    isTTY: false,
  });
  return { code, out, err };
}

async function json<T = any>(dataDir: string, ...args: string[]): Promise<T> {
  const r = await ferry(dataDir, '--json', ...args);
  assert.equal(r.code, 0, `ferry ${args.join(' ')} failed: ${r.err}${r.out}`);
  return JSON.parse(r.out) as T;
}

describe('ferry CLI', () => {
  let dir: string;
  let data: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
    data = join(dir, 'data');
    const objects = [
      { type: 'GROUP', id: 'g1', name: 'Default Group', fields: { description: 'everyone' } },
      { type: 'ROLE', id: 'r1', name: 'Designer', fields: {} },
      { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1', description: 'v1' } },
      { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } },
      { type: 'TTSK', id: 'k2', name: 'Review', fields: { templateID: 't1', roleID: 'r1' } },
    ];
    writeFileSync(join(dir, 'dev.json'), JSON.stringify(objects));
    writeFileSync(join(dir, 'prod.ndjson'), JSON.stringify({ type: 'GROUP', id: 'G9', name: 'Default Group', fields: { description: 'everyone' } }) + '\n');
    writeFileSync(join(dir, 'bad.json'), '[{"type":"TMPL","id":"x"}]');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the promotion sequence of the README', async () => {
    assert.equal((await ferry(data, 'env', 'create', 'dev', '--name', 'Development', '--tier', 'development')).code, 0);
    assert.equal((await ferry(data, 'env', 'create', 'prod', '--name', 'Production', '--tier', 'production')).code, 0);
    const list = await json<{ id: string }[]>(data, 'env', 'list');
    assert.deepEqual(
      list.map((e) => e.id),
      ['dev', 'prod'],
    );
    assert.equal((await json(data, 'objects', 'load', 'dev', join(dir, 'dev.json'))).written, 5);
    assert.equal((await json(data, 'objects', 'load', 'prod', join(dir, 'prod.ndjson'))).written, 1);
    const objs = await json<{ total: number }>(data, 'objects', 'list', 'dev', '--type', 'TTSK');
    assert.equal(objs.total, 2);

    const pkg = await json<{ id: string; status: string; entityCount: number }>(
      data,
      'package',
      'create',
      '--source',
      'dev',
      '--name',
      'Onboarding',
      '--select',
      'TMPL:t1',
    );
    assert.deepEqual([pkg.status, pkg.entityCount], ['DRAFT', 5]);
    const why = await json<{ path: string[] }>(data, 'package', 'show', pkg.id, '--explain', 'ROLE:r1');
    assert.equal(why.path.length, 3);
    assert.equal((await ferry(data, 'package', 'status', pkg.id, 'active')).code, 0);

    const human = await ferry(data, 'plan', pkg.id, '--target', 'prod');
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, /\+ TMPL +t1 +"Onboarding" +create/);
    assert.match(human.out, /= GROUP +g1 +"Default Group" +use existing -> G9 \(matched by natural key\)/);
    assert.match(human.out, /Plan: 4 to create, 0 to update, 0 to merge, 1 to use existing, 0 to ignore, 0 to remove\./);
    const installationId = /ferry install ([0-9a-f-]{36})/.exec(human.out)![1]!;

    const plan = await json<{ installation: { id: string }; steps: { op: string }[] }>(data, 'plan', pkg.id, '--target', 'prod');
    assert.deepEqual(plan.steps.map((s) => s.op).sort(), ['create', 'create', 'create', 'create', 'register']);

    const inst = await ferry(data, 'install', installationId);
    assert.equal(inst.code, 0, inst.err);
    assert.match(inst.out, /COMPLETED: .*4 INSTALLED.*1 REGISTERED|COMPLETED: .*1 REGISTERED.*4 INSTALLED/);
    // The other prepared plan is stale now: the target moved.
    const stale = await ferry(data, 'install', plan.installation.id);
    assert.equal(stale.code, 1);
    assert.match(stale.err, /^ferry: target prod changed since the plan was prepared/);

    const history = await ferry(data, 'history', 'prod');
    assert.match(history.out, new RegExp(`${installationId}\\s+COMPLETED\\s+Onboarding`));

    // Export, then import the bundle into a second data directory (another server).
    const bundle = join(dir, 'onboarding.ferry');
    const exported = await ferry(data, 'export', pkg.id, '-o', bundle, '--dir', join(dir, 'review') + '/');
    assert.equal(exported.code, 0, exported.err);
    assert.ok(exported.out.includes(`Wrote ${join(dir, 'review')}/: `), `one slash after the folder given as review/: ${exported.out}`);
    assert.ok(existsSync(join(dir, 'review', 'TTSK')));
    assert.deepEqual(readdirSync(join(dir, 'review', 'TTSK')).sort(), ['k1.json', 'k2.json']);
    const other = join(dir, 'other');
    assert.equal((await ferry(other, 'env', 'create', 'prod', '--name', 'Prod', '--tier', 'production')).code, 0);
    const dry = await ferry(other, 'import', bundle, '--target', 'prod', '--dry-run');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /Plan: 5 to create/);
    assert.equal((await json<{ total: number }>(other, 'objects', 'list', 'prod')).total, 0);
    const real = await json<{ installation: { status: string } }>(other, 'import', bundle, '--target', 'prod');
    assert.equal(real.installation.status, 'COMPLETED');
    assert.equal((await json<{ total: number }>(other, 'objects', 'list', 'prod')).total, 5);

    // Roll back the first install: prod is back to its one group.
    assert.equal((await ferry(data, 'rollback', installationId)).code, 0);
    const left = await json<{ items: { id: string }[] }>(data, 'objects', 'list', 'prod');
    assert.deepEqual(
      left.items.map((o) => o.id),
      ['G9'],
    );
  });

  it('plans with overrides and exits 1 on an invalid plan', async () => {
    const pkgs = await json<{ id: string }[]>(data, 'package', 'list');
    // A unique id prefix is enough, as with git.
    const r = await ferry(data, 'plan', pkgs[0]!.id.slice(0, 8), '--target', 'prod', '--set', 'TMPL:t1=IGNORE');
    assert.equal(r.code, 1);
    assert.match(r.out, /invalid: its owner TMPL:t1 is IGNOREd but it is not/);
    assert.match(r.out, /\(set by you; was CREATE\)/);
  });

  it('exits 2 on bad usage and 1 on a refused operation, with a one-line reason', async () => {
    assert.equal((await ferry(data, 'env', 'create', 'x', '--name', 'X')).code, 2);
    assert.equal((await ferry(data, 'env', 'create', 'x', '--name', 'X', '--tier', 'staging')).code, 2);
    assert.equal((await ferry(data, 'nonsense')).code, 2);
    assert.equal((await ferry(data, 'package', 'create', '--source', 'dev', '--name', 'n', '--select', 'TMPL-t1')).code, 2);
    assert.equal((await ferry(data, 'plan', 'p', '--target', 'prod', '--set', 'TMPL:t1=DESTROY')).code, 2);
    const refused = await ferry(data, 'env', 'create', 'dev', '--name', 'again', '--tier', 'development');
    assert.equal(refused.code, 1);
    assert.equal(refused.err, 'ferry: environment dev already exists\n');
    const bad = await ferry(data, 'objects', 'load', 'dev', join(dir, 'bad.json'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /object #1 \(TMPL:x\): name: Required/);
    const missing = await ferry(data, 'import', join(dir, 'nope.ferry'), '--target', 'prod');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /not found/);
    writeFileSync(join(dir, 'catalog.json'), JSON.stringify({ extend: true, types: [{ code: 'WIDGET', refs: { dashID: { type: 'NOPE' } } }] }));
    const catalog = await ferry(data, '--catalog', join(dir, 'catalog.json'), 'env', 'list');
    assert.equal(catalog.code, 1);
    assert.match(catalog.err, /catalog .*catalog\.json: .*ref dashID points at unknown type NOPE/);
    const help = await ferry(data, '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: ferry/);
  });

  it('runs as a real process through bin/ferry.js', () => {
    const r = spawnSync(process.execPath, ['bin/ferry.js', '--data-dir', data, '--json', 'env', 'list'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((e: { id: string }) => e.id),
      ['dev', 'prod'],
    );
    const bad = spawnSync(process.execPath, ['bin/ferry.js', '--data-dir', data, 'rollback', 'no-such-installation'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, 'ferry: installation no-such-installation not found\n');
  });

  it('stores names with control characters verbatim but never prints them raw (tables, plans, JSON, errors)', async () => {
    const d = join(dir, 'ctl');
    const evil = 'Team \u001b[2J\u001b[31mred\u001b[0m \u202eevil\u202c\u0007 \u0085\u2028x';
    const objects = [
      { type: 'GROUP', id: 'g\u202e1', name: evil, fields: {} },
      { type: 'TMPL', id: 't1', name: `Tmpl ${evil}`, fields: { groupID: 'g\u202e1' } },
    ];
    writeFileSync(join(dir, 'ctl.json'), JSON.stringify(objects));
    assert.equal((await ferry(d, 'env', 'create', 'dev', '--name', `Dev ${evil}`, '--tier', 'development')).code, 0);
    assert.equal((await ferry(d, 'env', 'create', 'test', '--name', 'Test', '--tier', 'testing')).code, 0);
    assert.equal((await ferry(d, 'objects', 'load', 'dev', join(dir, 'ctl.json'))).code, 0);
    const pkg = await json<{ id: string }>(d, 'package', 'create', '--source', 'dev', '--name', `Pkg ${evil}`, '--select', 'TMPL:t1');
    assert.equal((await ferry(d, 'package', 'status', pkg.id, 'TESTING')).code, 0);

    // eslint-disable-next-line no-control-regex -- what must never reach a terminal raw
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    const outputs = [
      await ferry(d, 'env', 'list'),
      await ferry(d, 'objects', 'list', 'dev'),
      await ferry(d, 'package', 'show', pkg.id),
      await ferry(d, 'package', 'show', pkg.id, '--entities'),
      await ferry(d, 'package', 'list'),
      await ferry(d, 'plan', pkg.id, '--target', 'test', '--all'),
      await ferry(d, 'objects', 'list', 'dev', '--type', 'NO\u001b[2JPE'),
      await ferry(d, '--json', 'objects', 'list', 'dev'),
    ];
    for (const r of outputs) {
      assert.ok(!raw.test(r.out + r.err), `no raw control character in: ${JSON.stringify(r.out + r.err)}`);
    }
    assert.match(outputs[1]!.out, /Team \\x1b\[2J\\x1b\[31mred\\x1b\[0m \\u202eevil\\u202c\\x07 \\x85\\u2028x/);
    assert.match(outputs[5]!.out, /Tmpl Team \\u001b\[2J/);
    assert.match(outputs[6]!.err, /unknown type NO\\x1b\[2JPE/);
    // JSON output is still exact: the same values, escaped as JSON allows.
    const listed = JSON.parse(outputs[7]!.out) as { items: { id: string; name: string }[] };
    assert.ok(outputs[7]!.out.includes('\\u202e'));
    assert.deepEqual(listed.items.map((o) => o.name).sort(), [evil, `Tmpl ${evil}`].sort());
    assert.ok(listed.items.some((o) => o.id === 'g\u202e1'));
  });

  it('a data directory that cannot be written stops `serve` (and any command) with one clear line, exit 1, no stack trace', async () => {
    const expectOneLine = (r: { code: number | null; err: string }, why: RegExp) => {
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      assert.match(r.err, /^ferry: cannot use the data directory .* \(FERRY_DATA_DIR\): /);
      assert.match(r.err, why);
      assert.ok(!/\n\s+at /.test(r.err), r.err);
    };
    // Under a regular file: ENOTDIR, whoever runs the test (root too); `serve` as a real process.
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const served = spawnSync(process.execPath, ['--import', 'tsx', 'test/support/ferry-bin.ts', 'serve', '--port', '0'], {
      encoding: 'utf8',
      env: { ...process.env, FERRY_DATA_DIR: join(file, 'data'), FERRY_LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });
    expectOneLine({ code: served.status, err: served.stderr + served.stdout }, /its path is not a directory/);
    // On a read-only file system, when this machine lets the test mount one.
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', ro]).status === 0) {
      try {
        expectOneLine(await ferry(ro, 'env', 'list'), /read-only file system/);
        expectOneLine(await ferry(join(ro, 'data'), 'serve', '--port', '0', '--no-demo'), /read-only file system/);
      } finally {
        spawnSync('umount', [ro]);
      }
    }
  });
});
