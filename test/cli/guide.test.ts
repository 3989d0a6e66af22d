// The CLI guides a newcomer: usage and help, hints that know the tiers, plans
// that say they would be refused, readable errors, a warning when a server
// holds the same data directory, a readable demo, commands that load only
// what they need. In process through `main`, and as a real process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { BIN, ROOT, freePort, startServer, stopServer, type Proc } from '../support/process.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** The CLI in process. */
async function ferry(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ferry', ...args], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), isTTY: false });
  return { code, out, err };
}

/** The CLI as a real process (from the sources, through tsx). */
function ferryProcess(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [...BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const OBJECTS = [
  { type: 'GROUP', id: 'g1', name: 'Default Group', fields: {} },
  { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1' } },
  { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1' } },
];

describe('the CLI guides a newcomer', () => {
  let dir: string;
  let data: string;
  /** A DRAFT package assembled from dev. */
  let draft: string;
  const at = (...args: string[]) => ferry('--data-dir', data, ...args);
  const ok = async (...args: string[]) => {
    const r = await at(...args);
    assert.equal(r.code, 0, `ferry ${args.join(' ')}: ${r.err}${r.out}`);
    return r;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-guide-'));
    data = join(dir, 'data');
    writeFileSync(join(dir, 'dev.json'), JSON.stringify(OBJECTS));
    await ok('env', 'create', 'dev', '--name', 'Development', '--tier', 'development');
    await ok('env', 'create', 'qa', '--name', 'QA', '--tier', 'testing');
    await ok('env', 'create', 'prod', '--name', 'Production', '--tier', 'production');
    await ok('objects', 'load', 'dev', join(dir, 'dev.json'));
    const created = await ok('--json', 'package', 'create', '--source', 'dev', '--name', 'Onboarding', '--select', 'TMPL:t1');
    draft = (JSON.parse(created.out) as { id: string }).id;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('usage and help', () => {
    it('ferry --version prints the version of package.json', async () => {
      const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
      const r = await ferry('--version');
      assert.deepEqual([r.code, r.out.trim()], [0, version]);
      const p = ferryProcess(['--version']);
      assert.deepEqual([p.code, p.out.trim()], [0, version]);
    });

    it('ferry with no arguments prints the usage to stderr and exits 2; so does a group without its subcommand', async () => {
      const r = await ferry();
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, /^Usage: ferry \[options\] \[command\]/);
      const p = ferryProcess([]);
      assert.equal(p.code, 2);
      assert.equal(p.out, '');
      assert.match(p.err, /Usage: ferry/);
      const group = await ferry('package');
      assert.equal(group.code, 2);
      assert.match(group.err, /Usage: ferry package/);
    });

    it("every subcommand's help lists the global options, and marks the required ones", async () => {
      for (const cmd of [['env', 'create'], ['package', 'create'], ['plan'], ['import'], ['objects', 'list'], ['sync']]) {
        const r = await ferry(...cmd, '--help');
        assert.equal(r.code, 0);
        for (const g of ['--json', '--data-dir <dir>', '--server <url>', '--api-key <key>'])
          assert.ok(r.out.includes(g), `${cmd.join(' ')} --help lists ${g}:\n${r.out}`);
      }
      const create = (await ferry('package', 'create', '--help')).out;
      assert.match(create, /--source <env> +source environment \(required\)/);
      assert.match(create, /--name <name> +package name \(required\)/);
      assert.doesNotMatch(create, /--description <text>.*\(required\)/);
      assert.match((await ferry('env', 'create', '--help')).out, /--tier <tier>[\s\S]*?\(required\)/);
    });
  });

  describe('hints that know the tiers', () => {
    it('the Next lines after package create name TESTING for testing targets and ACTIVE for production', async () => {
      const r = await ok('package', 'create', '--source', 'dev', '--name', 'Hints', '--select', 'TMPL:t1');
      const id = /^Package ([0-9a-f-]{36})/m.exec(r.out)![1]!;
      assert.match(r.out, new RegExp(`ferry package status ${id} TESTING +# to install into qa \\(testing\\)`));
      assert.match(r.out, new RegExp(`ferry package status ${id} ACTIVE +# to install into prod \\(production\\)`));
      assert.doesNotMatch(r.out, /TESTING.*prod \(production\)/);
      await ok('package', 'delete', id);
    });

    it('a DRAFT package planned into production: the plan is printed, stderr says ACTIVE is needed, exit 1', async () => {
      const r = await at('plan', draft, '--target', 'prod');
      assert.equal(r.code, 1, r.err);
      assert.match(r.out, /Plan: 3 to create/);
      assert.match(r.err, /^ferry: the install would be refused: package is DRAFT: .*set it ACTIVE.*; then: ferry package status [0-9a-f-]{36} ACTIVE$/m);
      assert.doesNotMatch(r.err, /TESTING/);
      // Into a testing environment, TESTING is enough.
      const qa = await at('plan', draft, '--target', 'qa');
      assert.equal(qa.code, 1);
      assert.match(qa.err, /set it TESTING or ACTIVE\); then: ferry package status [0-9a-f-]{36} TESTING$/m);
      // --json: the plan on stdout as JSON, the refusal on stderr.
      const json = await at('--json', 'plan', draft, '--target', 'prod');
      assert.equal(json.code, 1);
      assert.match((JSON.parse(json.out) as { installBlocker: string }).installBlocker, /package is DRAFT/);
      assert.match(json.err, /the install would be refused/);
      // Installing that plan is refused with the same words.
      const inst = /ferry install ([0-9a-f-]{36})|installation ([0-9a-f-]{36})/.exec(r.out);
      const installationId = (JSON.parse(json.out) as { installation: { id: string } }).installation.id;
      assert.ok(inst || installationId);
      const refused = await at('install', installationId);
      assert.equal(refused.code, 1);
      assert.match(refused.err, /package is DRAFT: it cannot be installed anywhere \(set it ACTIVE, the status a production environment needs\)/);
    });
  });

  describe('plans and imports say what they did', () => {
    it('import --dry-run leaves the target unchanged and says it stored a plan that ferry install can apply', async () => {
      const id = JSON.parse((await ok('--json', 'package', 'create', '--source', 'dev', '--name', 'Bundle', '--select', 'TMPL:t1')).out).id as string;
      await ok('package', 'status', id, 'ACTIVE');
      const bundle = join(dir, 'b.ferry');
      await ok('export', id, '-o', bundle);
      const other = join(dir, 'other');
      await ferry('--data-dir', other, 'env', 'create', 'prod', '--name', 'Prod', '--tier', 'production');
      const dry = await ferry('--data-dir', other, 'import', bundle, '--target', 'prod', '--dry-run');
      assert.equal(dry.code, 0, dry.err);
      const m =
        /^Dry run: prod is unchanged\. The bundle is stored as package ([0-9a-f-]{36}) and its plan as installation ([0-9a-f-]{36}); ferry install \2 applies it/m.exec(
          dry.out,
        );
      assert.ok(m, dry.out);
      assert.equal(JSON.parse((await ferry('--data-dir', other, '--json', 'objects', 'list', 'prod')).out).total, 0);
      // What it says is true: that installation applies.
      const applied = await ferry('--data-dir', other, 'install', m[2]!);
      assert.equal(applied.code, 0, applied.err);
      assert.equal(JSON.parse((await ferry('--data-dir', other, '--json', 'objects', 'list', 'prod')).out).total, 3);
      assert.match((await ferry('import', '--help')).out, /the target is unchanged/);
    });
  });

  describe('errors a user can act on', () => {
    it('a JSON syntax error in an objects file names the line and column (array and NDJSON)', async () => {
      writeFileSync(join(dir, 'broken.json'), '[\n  {"type": "GROUP", "id": "g2", "name": "x", "fields": {}},\n  {"type": "GROUP",, "id": "g3"}\n]\n');
      const r = await at('objects', 'load', 'dev', join(dir, 'broken.json'));
      assert.equal(r.code, 1);
      assert.match(r.err, /broken\.json is not valid JSON: line 3, column 20: expected a property name in double quotes, found ','/);
      writeFileSync(join(dir, 'broken.ndjson'), '{"type":"GROUP","id":"g2","name":"x","fields":{}}\n\n{"type":"GROUP","id":"g3","name":"y","fields":{}\n');
      const nd = await at('objects', 'load', 'dev', join(dir, 'broken.ndjson'));
      assert.equal(nd.code, 1);
      assert.match(nd.err, /broken\.ndjson is not valid NDJSON \(line 3, column 49: expected ',' or '}' after a property value, found the end of the input\)/);
      assert.equal(JSON.parse((await ok('--json', 'objects', 'list', 'dev')).out).total, 3, 'nothing was written');
    });

    it('an id prefix shorter than 4 characters says so (exit 2), not "not found"', async () => {
      const r = await at('package', 'show', draft.slice(0, 3));
      assert.equal(r.code, 2);
      assert.match(r.err, /^ferry: package id ".{3}" is too short: give the whole id or a prefix of at least 4 characters/);
      const i = await at('rollback', 'abc');
      assert.equal(i.code, 2);
      assert.match(i.err, /installation id "abc" is too short/);
      assert.equal((await at('package', 'show', draft.slice(0, 4))).code, 0);
    });

    it('a package whose assembly failed is shown as such, with the one command that deletes it', async () => {
      const r = await at('package', 'create', '--source', 'dev', '--name', 'Broken', '--select', 'TMPL:nope');
      assert.equal(r.code, 1);
      const id = /^Package ([0-9a-f-]{36}) failed to assemble: /.exec(r.out)![1]!;
      assert.match(r.out, new RegExp(`delete this one with: ferry package delete ${id}`));
      const list = await ok('package', 'list');
      assert.match(list.out, new RegExp(`^${id} +ASSEMBLING_FAILED +v\\d+ +0 +Broken$`, 'm'));
      assert.match(list.out, /1 package failed to assemble: ferry package show <id> says why, ferry package delete <id> removes it\./);
      assert.match((await ok('package', 'show', id)).out, /status: +ASSEMBLING_FAILED \(.+\)[\s\S]*ferry package delete/);
      await ok('package', 'delete', id);
      assert.ok(!JSON.parse((await ok('--json', 'package', 'list')).out).some((p: { id: string }) => p.id === id));
    });

    it('package list and the entity list have a header row', async () => {
      const list = await ok('package', 'list');
      assert.match(list.out.split('\n')[0]!, /^ID +STATUS +VER +OBJECTS +NAME$/);
      assert.match(list.out, new RegExp(`^${draft} +DRAFT +v1 +3 +Onboarding$`, 'm'));
      const entities = await ok('package', 'show', draft, '--entities');
      assert.match(entities.out.split('\n')[0]!, /^ORDER +TYPE +ID +NAME$/);
      assert.match(entities.out, /^0 +GROUP +g1 +Default Group$/m);
    });
  });

  describe('a server holding the data directory', () => {
    let served: string;
    let server: Proc | undefined;
    before(async () => {
      served = join(dir, 'served');
      const port = await freePort();
      server = await startServer({ FERRY_DATA_DIR: served, FERRY_PORT: String(port), FERRY_DEMO: '0', FERRY_LOG_LEVEL: 'silent', FERRY_DATABASE_URL: '' });
    });
    after(async () => {
      if (server) await stopServer(server);
    });

    it('a local command on it warns (stderr), says how to use --server or --data-dir, and still runs; once the server stops, no warning', async () => {
      const url = /listening on (http:\/\/[^ ]+)/.exec(server!.out())![1]!;
      const marker = JSON.parse(readFileSync(join(served, 'server.json'), 'utf8')) as { pid: number; url: string };
      assert.deepEqual([marker.pid, marker.url], [server!.child.pid, url]);
      for (const r of [await ferry('--data-dir', served, 'env', 'list'), ferryProcess(['env', 'list'], { FERRY_DATA_DIR: served })]) {
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /No environments yet/);
        assert.ok(r.err.includes(`ferry: the Ferry server at ${url} (pid ${server!.child.pid}`), r.err);
        assert.ok(r.err.includes(`ferry --server ${url} --api-key <key>`), r.err);
        assert.match(r.err, /--data-dir <dir>/);
      }
      // Against the server itself (--server), no warning: the warning is about the directory.
      assert.equal((await stopServer(server!)) ?? 0, 0);
      server = undefined;
      assert.throws(() => readFileSync(join(served, 'server.json')), /ENOENT/);
      const quiet = await ferry('--data-dir', served, 'env', 'list');
      assert.deepEqual([quiet.code, quiet.err], [0, '']);
    });

    it('a marker left by a server that is gone (killed) is ignored', async () => {
      const stale = join(dir, 'stale');
      await ferry('--data-dir', stale, 'env', 'list');
      // A pid that is not running: a finished child's.
      const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(stale, 'server.json'), JSON.stringify({ pid: Number(gone), host: (await import('node:os')).hostname(), url: 'http://127.0.0.1:1' }));
      const r = await ferry('--data-dir', stale, 'env', 'list');
      assert.deepEqual([r.code, r.err], [0, '']);
    });
  });

  it('ferry demo is readable: long plans summarised, no document numbers, distinct names for the tasks it talks about', async () => {
    const r = await ferry('--data-dir', join(dir, 'demo'), 'demo');
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /\b00[1-9]\b/, 'no document numbers');
    const longest = Math.max(...r.out.split(/\nStep \d+\./).map((s) => s.split('\n').length));
    assert.ok(longest < 40, `each step fits a screen (longest ${longest} lines)`);
    assert.match(r.out, /^ {2}\.\.\. \d+ more: TTSK \d+, /m);
    const tasks = [...r.out.matchAll(/task "([^"]+)" of template "([^"]+)"/g)].map((m) => `${m[1]} / ${m[2]}`);
    assert.ok(tasks.length >= 3, r.out);
    const byName = new Map<string, Set<string>>();
    for (const t of tasks) {
      const [name, tmpl] = t.split(' / ');
      byName.set(name!, (byName.get(name!) ?? new Set()).add(tmpl!));
    }
    for (const [name, templates] of byName) assert.equal(templates.size, 1, `task name "${name}" stands for one task only`);
    assert.doesNotMatch(r.out, /Apply it with: ferry install/, 'the demo applies its plans itself');
  });

  it('a local command loads neither the server, the HTTP client nor the progress bars', () => {
    const loaded = (args: string[]) => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', join(ROOT, 'test/support/trace-loads.ts'), join(ROOT, 'test/support/ferry-bin.ts'), ...args],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stderr.split('\n').filter((l) => l.startsWith('ferry-load '));
    };
    const list = loaded(['--data-dir', data, 'env', 'list']);
    assert.ok(
      list.some((l) => l.includes('/src/engine/open.ts')),
      'the trace sees the engine',
    );
    for (const heavy of ['/fastify/', '/src/server/', '/src/cli/remote.ts', '/cli-progress/', '/src/cli/demo.ts', '/pg/', '/pg-boss/']) {
      assert.ok(!list.some((l) => l.includes(heavy)), `env list does not load ${heavy}`);
    }
    const help = loaded(['--help']);
    for (const heavy of ['/kysely/', '/better-sqlite3/', '/src/engine/', '/zod/']) {
      assert.ok(!help.some((l) => l.includes(heavy)), `--help does not load ${heavy}`);
    }
  });
});
