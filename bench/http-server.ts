/**
 * A server for the HTTP benchmark, in a process of its own (bench/http.ts
 * drives it over IPC and loads it with autocannon from another process).
 *
 * `--mode ferry`: the real server as `ferry serve` starts it (startServer,
 * default configuration: auth, access log at level info on stdout, metrics,
 * the embedded worker), on a fresh SQLite data directory. It creates an
 * environment, loads sample objects and assembles a package through the API,
 * waits for that operation to finish, and reports the operation's status URL;
 * beside it a RUNNING operation whose progress it writes every 200 ms.
 *
 * `--mode bare`: a bare Fastify route answering the same JSON body, with no
 * auth, no database, no logging: the ceiling the status endpoint is compared
 * with.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { generateSample, sampleSelection } from '../src/engine/sample-data.js';

export type ServerReport =
  | {
      ok: true;
      url: string;
      path: string;
      /** A RUNNING operation whose progress changes every 200 ms (ferry mode). */
      runningPath?: string;
      headers: Record<string, string>;
      body: unknown;
      routes: { promotion: boolean; dev2prod: boolean };
      /** The dev2prod face's status call (`GET /rest/{tenant}/dev2prod/import/{id}`) of a finished dry run, when the face is mounted. */
      dev2prod?: { path: string; headers: Record<string, string> };
    }
  | { ok: false; error: string };

const { values } = parseArgs({
  options: { mode: { type: 'string', default: 'ferry' }, body: { type: 'string' }, objects: { type: 'string', default: '2000' } },
});

const report = (r: ServerReport): void => void process.send!(r);
// Exit normally on SIGTERM, so that `node --cpu-prof` (profiling a run) writes its profile.
process.on('SIGTERM', () => process.exit(0));
const API_KEY = 'ferry-bench-admin-key-0123456789abcdef';

async function ferry(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-http-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  let startServer: typeof import('../src/server/start.js').startServer;
  let serverConfigFromEnv: typeof import('../src/server/config.js').serverConfigFromEnv;
  try {
    ({ startServer } = await import('../src/server/start.js'));
    ({ serverConfigFromEnv } = await import('../src/server/config.js'));
  } catch (e) {
    return report({
      ok: false,
      error: `the server cannot be loaded (src/server/start.ts, src/server/config.ts): ${e instanceof Error ? e.message : String(e)}`,
    });
  }
  const config = serverConfigFromEnv(
    {},
    { ...process.env, FERRY_DATA_DIR: dir, FERRY_PORT: '0', FERRY_HOST: '127.0.0.1', FERRY_ADMIN_API_KEY: API_KEY, FERRY_DEMO: '0' },
  );
  const server = await startServer(config, () => {});
  const headers = { apikey: API_KEY };
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(server.url + path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const must = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    if (r.status >= 300 && r.status !== 202) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  };

  const n = Number(values.objects);
  await must('POST', '/api/v1/environments', { id: 'dev', name: 'Development', tier: 'development' });
  await must('POST', '/api/v1/environments/dev/objects', [...generateSample({ objects: n })]);
  const byType = new Map<string, { ID: string }[]>();
  for (const s of sampleSelection({ objects: n })) byType.set(s.type, [...(byType.get(s.type) ?? []), { ID: s.id }]);
  const created = await must('POST', '/api/v1/packages', {
    sourceEnvId: 'dev',
    name: 'bench',
    objectCollections: [...byType].map(([objCode, entities]) => ({ objCode, entities })),
  });
  const opId: string | undefined = created?.operation?.id;
  if (!opId) throw new Error(`POST /api/v1/packages gave no operation: ${JSON.stringify(created).slice(0, 300)}`);
  const path = `/api/v1/operations/${opId}`;
  let body: any;
  for (let i = 0; i < 600; i++) {
    body = await must('GET', path);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(body.status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // A running operation, as a worker of another server process sharing the
  // database leaves it: RUNNING, its progress (and heartbeat) written every
  // 200 ms. CI pipelines poll operations like this one.
  const { OperationsStore } = await import('../src/store/operations-store.js');
  const ops = new OperationsStore(server.engine.store);
  const at = () => new Date().toISOString();
  const running = {
    ...body,
    id: randomUUID(),
    kind: 'package.export',
    status: 'RUNNING',
    progress: 1,
    message: 'exporting',
    server: 'bench-remote',
    worker: `bench-remote:1:${randomUUID().slice(0, 8)}`,
    startedAt: at(),
    heartbeatAt: at(),
    finishedAt: null,
    result: null,
    error: null,
  };
  await ops.insert(running);
  let tick = 1;
  setInterval(() => void ops.progress(running.id, (tick = (tick % 99) + 1), `exporting (${tick}%)`, at()), 200).unref();
  const routes = server.app.printRoutes({ commonPrefix: false });
  const hasDev2prod = routes.includes('dev2prod');
  report({
    ok: true,
    url: server.url,
    path,
    runningPath: `/api/v1/operations/${running.id}`,
    headers,
    body,
    routes: { promotion: routes.includes('environment-promotion'), dev2prod: hasDev2prod },
    ...(hasDev2prod ? { dev2prod: await dev2prodDryRun(server.url, API_KEY, created.package.id as string, must) } : {}),
  });
}

/**
 * 000's steps 1, 2, 5 and 6 through the dev2prod face: export the package
 * from tenant `dev`, dry-run its import into a production tenant, and answer
 * the status call of that finished dry run (what a release script polls).
 */
async function dev2prodDryRun(
  url: string,
  apiKey: string,
  packageId: string,
  must: (method: string, path: string, body?: unknown) => Promise<any>,
): Promise<{ path: string; headers: Record<string, string> }> {
  const headers = { authorization: `Bearer ${apiKey}` };
  const face = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(url + path, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  const poll = async (path: string): Promise<any> => {
    for (let i = 0; i < 600; i++) {
      const r = await face('GET', path);
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.Status)) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${path} did not finish`);
  };
  await must('PATCH', `/api/v1/packages/${packageId}`, { status: 'ACTIVE' });
  await must('POST', '/api/v1/environments', { id: 'prod', name: 'Production', tier: 'production' });
  const exported = await poll(`/rest/dev/dev2prod/export/${(await face('POST', `/rest/dev/dev2prod/export/types/${packageId}`, {})).Id}`);
  const { Id } = await face('POST', '/rest/prod/dev2prod/import?dryRun=true', { FileId: exported.FileId });
  const path = `/rest/prod/dev2prod/import/${Id}`;
  await poll(path);
  return { path, headers };
}

async function bare(): Promise<void> {
  const body: unknown = JSON.parse(values.body ?? '{}');
  const app = Fastify({ logger: false });
  app.get('/bare/:id', () => Promise.resolve(body));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  report({ ok: true, url: `http://127.0.0.1:${port}`, path: '/bare/0123456789', headers: {}, body, routes: { promotion: false, dev2prod: false } });
}

(values.mode === 'bare' ? bare() : ferry()).catch((e: unknown) => {
  report({ ok: false, error: e instanceof Error ? e.message : String(e) });
});
