// `ferry sync` and `ferry compare`, on a local data directory and against a server (--server).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

async function ferry(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ferry', ...args], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), isTTY: false });
  return { code, out, err };
}

const DEV = [
  { type: 'GROUP', id: 'g1', name: 'Default Group', fields: { description: 'everyone' } },
  { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1', description: 'v1' } },
  { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1' } },
];

/** The same story against a local data directory and against a server. */
function story(where: () => string[], label: string): void {
  it(`${label}: clone, compare, sync an edit, leave a downstream edit alone (exit 1), refuse a push down`, async () => {
    const at = where();
    const ok = async (...args: string[]) => {
      const r = await ferry([...at, ...args]);
      assert.equal(r.code, 0, `ferry ${args.join(' ')}: ${r.err}${r.out}`);
      return r.out;
    };
    await ok('env', 'create', 'dev', '--name', 'Development', '--tier', 'development');
    await ok('objects', 'load', 'dev', join(dir, 'dev.json'));
    assert.match(await ok('env', 'create', 'test', '--name', 'Test', '--tier', 'testing', '--clone-from', 'dev'), /a clone of dev/);
    assert.match(await ok('compare', 'dev', 'test'), /3 same, 0 differ/);

    await ok('objects', 'load', 'dev', join(dir, 'dev-edit.json'));
    await ok('objects', 'load', 'test', join(dir, 'test-edit.json'));
    const cmp = await ok('compare', 'dev', 'test');
    assert.match(cmp, /> TMPL +t1 +"Onboarding" +ahead in dev \(since the last sync\) +\[description\]/);
    assert.match(cmp, /< GROUP +g1 +"Default Group" +ahead in test/);

    const dry = await ferry([...at, 'sync', 'dev', 'test', '--dry-run']);
    assert.equal(dry.code, 1, 'something would be left alone');
    assert.match(dry.out, /dry run: nothing written/);
    const r = await ferry([...at, 'sync', 'dev', 'test']);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /~ TMPL +t1 +"Onboarding" +updated/);
    assert.match(r.out, /≠ GROUP +g1 +"Default Group" +drift: edited in the destination since the last sync/);
    assert.match(r.out, /Synced: 0 created, 1 updated, 1 unchanged, 0 conflicts, 1 drift/);
    const json = await ferry([...at, '--json', 'sync', 'dev', 'test', '--overwrite-drift']);
    assert.equal(json.code, 0, json.err);
    assert.equal(JSON.parse(json.out).summary.updated, 1);
    assert.match(await ok('compare', 'dev', 'test'), /3 same, 0 differ/);

    await ok('env', 'create', 'prod', '--name', 'Production', '--tier', 'production');
    const down = await ferry([...at, 'sync', 'prod', 'dev']);
    assert.equal(down.code, 1);
    assert.match(down.err, /push one-way: environment prod is production and dev is development/);
  });
}

let dir = '';
describe('ferry sync and compare', () => {
  let server: TestServer;
  let url = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-cli-sync-'));
    writeFileSync(join(dir, 'dev.json'), JSON.stringify(DEV));
    writeFileSync(join(dir, 'dev-edit.json'), JSON.stringify([{ ...DEV[1], fields: { groupID: 'g1', description: 'v2' } }]));
    writeFileSync(join(dir, 'test-edit.json'), JSON.stringify([{ ...DEV[0], fields: { description: 'edited in test' } }]));
    server = await openTestServer('sqlite');
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  story(() => ['--data-dir', join(dir, 'data')], 'local');
  story(() => ['--server', url, '--api-key', ADMIN_KEY], 'against a server');
});
