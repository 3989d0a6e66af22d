import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { callJson } from '../support/http.js';
import { BIN, ROOT, freePort, startServer, stopServer, type Proc } from '../support/process.js';

describe('the real server, started as a separate process and driven over HTTP', () => {
  let dir: string;
  let port: number;
  let base: string;
  let key = '';
  let server: Proc;
  let env: Record<string, string>;

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callJson(base, method, path, body, key, { headers });
  const waitOp = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      const r = await api('GET', `/api/v1/operations/${id}`);
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.body.status)) return r.body;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`operation ${id} did not finish`);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-server-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      FERRY_DATA_DIR: join(dir, 'data'),
      FERRY_PORT: String(port),
      FERRY_BODY_LIMIT: '65536',
      FERRY_UPLOAD_LIMIT: '100000',
      FERRY_SHUTDOWN_GRACE: '5',
      FERRY_DATABASE_URL: '',
    };
    server = await startServer(env);
  });
  after(async () => {
    if (server.child.exitCode === null) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the generated admin key once and seeds the demo environments on a fresh data directory', async () => {
    const m = /admin API key \(shown once, keep it\): (fry_\S+)/.exec(server.out());
    assert.ok(m, server.out());
    key = m[1]!;
    assert.match(server.out(), /seeded the demo environments 100000001, 100000002, 100000003/);
  });

  it('answers /api/v1/health without credentials, and 401 without them elsewhere', async () => {
    const h = await fetch(`${base}/api/v1/health`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { status: string }).status, 'ok');
    const anon = await fetch(`${base}/api/v1/environments`);
    assert.equal(anon.status, 401);
    assert.deepEqual(Object.keys((await anon.json()) as object).sort(), ['code', 'message']);
  });

  it('promotes a demo package from 100000001 to 100000003 over the native API only', async () => {
    const t = await api('GET', '/api/v1/environments/100000001/objects?type=TMPL&limit=1');
    assert.equal(t.status, 200);
    const created = await api('POST', '/api/v1/packages', {
      sourceEnvId: '100000001',
      name: 'Over HTTP',
      objectCollections: [{ objCode: 'TMPL', entities: [{ ID: t.body.items[0].id }] }],
    });
    assert.equal(created.status, 202, created.text);
    assert.equal((await waitOp(created.body.operation.id)).status, 'COMPLETED');
    const pkg = created.body.package.id;
    assert.equal((await api('PATCH', `/api/v1/packages/${pkg}`, { status: 'ACTIVE' })).status, 200);
    const plan = await api('POST', `/api/v1/packages/${pkg}/plans`, { targetEnvId: '100000003' });
    assert.equal(plan.status, 201, plan.text);
    const inst = await api('POST', `/api/v1/installations/${plan.body.installation.id}/install`);
    assert.equal(inst.status, 202, inst.text);
    const op = await waitOp(inst.body.operation.id);
    assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
    const got = await api('GET', `/api/v1/installations/${plan.body.installation.id}`);
    assert.equal(got.body.installation.status, 'COMPLETED');
    assert.ok(
      got.body.entries.some((e: { installationStatus: string }) => e.installationStatus === 'INSTALLED'),
      'objects installed',
    );
  });

  it('refuses bad input with clear 4xx over real sockets and keeps answering', async () => {
    const bad = await api('POST', '/api/v1/environments', '{"id":', { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_JSON');
    const typed = await api('POST', '/api/v1/environments', { id: 'x', name: 1, tier: 'development' });
    assert.equal(typed.status, 400);
    assert.match(typed.body.message, /body\.name/);
    const huge = await api('POST', '/api/v1/environments/100000001/objects', 'x'.repeat(200_000), { 'content-type': 'application/json' });
    assert.equal(huge.status, 413);
    assert.match(huge.body.message, /larger than the 64 KiB limit \(FERRY_BODY_LIMIT\)/);
    const upload = await api('POST', '/api/v1/files', Buffer.alloc(150_000, 1), { 'content-type': 'application/octet-stream' });
    assert.equal(upload.status, 413);
    assert.equal(upload.body.code, 'PAYLOAD_TOO_LARGE');
    assert.match(upload.body.message, /larger than the 97.7 KiB limit \(FERRY_UPLOAD_LIMIT\)/);
    assert.deepEqual((await api('GET', '/api/v1/files')).body.items, []);
    const unknown = await api('GET', '/api/v1/does-not-exist');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'NOT_FOUND');
    assert.equal((await fetch(`${base}/api/v1/health`)).status, 200);
  });

  it('serves /docs, /docs/json and /metrics', async () => {
    const doc = await fetch(`${base}/docs/json`);
    assert.equal(doc.status, 200);
    assert.ok(((await doc.json()) as { paths: object }).paths, 'an OpenAPI document');
    const page = await fetch(`${base}/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger/i);
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /ferry_http_requests_total/);
    assert.match(m, /ferry_objects_installed_total\{status="INSTALLED"\}/);
  });

  it("names the address it listens on in the OpenAPI document, and answers the docs' CORS preflight from its own origins only", async () => {
    const doc = (await (await fetch(`${base}/docs/json`)).json()) as { servers: { url: string }[] };
    // No FERRY_PUBLIC_URL: the listening address, not the default public URL (localhost).
    assert.deepEqual(doc.servers, [{ url: base }]);
    // /docs opened as http://localhost:<port> calls the API at http://127.0.0.1:<port>: a cross-origin call.
    const origin = `http://localhost:${port}`;
    const preflight = await fetch(`${base}/api/v1/environments`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.equal(preflight.status, 204, await preflight.text());
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    const call = await api('GET', '/api/v1/environments', undefined, { origin });
    assert.equal(call.status, 200);
    assert.equal(call.headers.get('access-control-allow-origin'), origin);
    assert.match(call.headers.get('content-security-policy') ?? '', new RegExp(`connect-src 'self' [^;]*${base.replace(/[.]/g, '\\.')}`));
    // Another site gets no CORS grant: the browser keeps it out.
    const foreign = await fetch(`${base}/api/v1/environments`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    // Without a credential, as any other call.
    assert.equal(foreign.status, 401);
    // The preflight's cache time, and what a cross-origin call may read.
    assert.equal(preflight.headers.get('access-control-max-age'), '600');
    assert.match(call.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
    // No Origin, no CORS request: no grant, and the answer varies by Origin for caches.
    const plain = await api('GET', '/api/v1/environments');
    assert.equal(plain.headers.get('access-control-allow-origin'), null);
    assert.equal(plain.headers.get('vary'), 'Origin');
    // A preflight's answer comes before authentication, on any path; an OPTIONS request that is no preflight is not answered so.
    const anyPath = await fetch(`${base}/rest/prod/dev2prod/import/x`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    assert.equal(anyPath.status, 204);
    assert.equal((await fetch(`${base}/api/v1/environments`, { method: 'OPTIONS', headers: { origin } })).status, 401);
  });

  it('logs one JSON line per request with its id, method, route, status and time', () => {
    const lines = server
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const req = lines.find((l) => l.msg === 'request' && l.route === '/api/v1/packages' && l.method === 'POST');
    assert.ok(req, 'a request line');
    for (const k of ['reqId', 'method', 'route', 'status', 'ms']) assert.ok(k in req, `request line has ${k}`);
    assert.equal(server.out().split(key).length - 1, 1, 'the key is printed once and never logged');
  });

  it('runs CLI commands against it with --server and --api-key', () => {
    const r = spawnSync(process.execPath, [...BIN, '--server', base, '--api-key', key, '--json', 'env', 'list'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { id: string }[]).map((e) => e.id),
      ['100000001', '100000002', '100000003'],
    );
    const denied = spawnSync(process.execPath, [...BIN, '--server', base, '--api-key', 'wrong', 'env', 'list'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /unknown, revoked or expired credential/);
  });

  it('drives a whole promotion through the CLI client (in process) against the server', async () => {
    const cli = async (...args: string[]) => {
      let out = '';
      let err = '';
      const code = await main(['node', 'ferry', '--server', base, '--api-key', key, ...args], {
        out: (x) => (out += x + '\n'),
        err: (x) => (err += x + '\n'),
        isTTY: false,
      });
      return { code, out, err };
    };
    const json = async (...args: string[]) => {
      const r = await cli('--json', ...args);
      assert.equal(r.code, 0, `ferry ${args.join(' ')}: ${r.err}${r.out}`);
      return JSON.parse(r.out);
    };
    const objs = await json('objects', 'list', '100000001', '--type', 'TMPL', '--limit', '2');
    const tmpl = objs.items[1].id;
    const pkg = await json('package', 'create', '--source', '100000001', '--name', 'From the CLI', '--select', `TMPL:${tmpl}`);
    assert.equal(pkg.status, 'DRAFT');
    assert.ok(pkg.entityCount > 5, 'assembled on the server');
    assert.equal((await json('package', 'status', pkg.id.slice(0, 8), 'TESTING')).status, 'TESTING');
    const shown = await cli('package', 'show', pkg.id, '--entities');
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /TMPL/);
    const plan = await json('plan', pkg.id, '--target', '100000002');
    assert.equal(plan.installation.status, 'PREPARED');
    assert.ok(Array.isArray(plan.steps), 'install steps from the server');
    const inst = await json('install', plan.installation.id);
    assert.equal(inst.installation.status, 'COMPLETED');
    const hist = await cli('history', '100000002');
    assert.match(hist.out, new RegExp(plan.installation.id));
    const bundle = join(dir, 'cli.ferry');
    const ex = await json('export', pkg.id, '-o', bundle, '--dir', join(dir, 'cli-tree'));
    assert.equal(ex.file.count, pkg.entityCount);
    assert.equal(ex.dir.count, pkg.entityCount);
    // A TESTING package into production: the dry run stores the plan, and says (exit 1, stderr) that its install would be refused.
    const dry = await cli('--json', 'import', bundle, '--target', '100000003', '--dry-run');
    assert.equal(dry.code, 1, dry.err);
    assert.match(dry.err, /the install would be refused: package is TESTING/);
    const imp = JSON.parse(dry.out);
    assert.equal(imp.installation.status, 'PREPARED');
    const refused = await cli('install', imp.installation.id);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /TESTING/);
    assert.equal((await json('rollback', plan.installation.id)).status, 'ROLLED_BACK');
    const demo = await cli('demo');
    assert.equal(demo.code, 2);
  });

  it('stops gracefully on SIGTERM', async () => {
    const code = await stopServer(server);
    assert.equal(code, 0, server.out());
    assert.match(server.out(), /shutting down/);
    assert.match(server.out(), /"msg":"stopped"/);
  });

  it('restarts on the same data: no new admin, the key still works, a queued operation survives a stop', async () => {
    // An API-only process (no workers): the operation stays queued across its shutdown.
    server = await startServer({ ...env, FERRY_WORKERS: '0' });
    assert.doesNotMatch(server.out(), /admin API key/);
    assert.equal((await api('GET', '/api/v1/environments')).body.total, 3);
    const pkgs = (await api('GET', '/api/v1/packages')).body.items;
    const ex = await api('POST', `/api/v1/packages/${pkgs[0].id}/export`);
    assert.equal(ex.status, 202);
    assert.equal(await stopServer(server), 0);

    server = await startServer(env);
    const op = await waitOp(ex.body.operation.id);
    assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
    const dl = await fetch(`${base}${op.result.downloadUrl}`, { headers: { apikey: key } });
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get('content-type'), 'application/gzip');
    assert.equal((await dl.arrayBuffer()).byteLength, op.result.file.bytes);
    assert.equal(await stopServer(server), 0);
  });
});
