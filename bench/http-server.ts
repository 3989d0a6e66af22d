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
 * Then the promotion face's status calls (issue 11): the same package, and
 * one of a single template, each set TESTING, pre-run into a preview
 * environment and installed through the face; it reports
 * `GET .../installations/{id}` (the final translation map) and
 * `GET .../packages/{id}` (with displayEntities) of both.
 *
 * `--mode bare`: bare Fastify routes answering the same JSON bodies (read
 * from `--bodies`, a JSON file holding an array; `/bare/<i>/:id` answers the
 * i-th), with no auth, no database, no logging: the ceiling each status call
 * is compared with.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
      /** The promotion face's status calls, when the server has the face. */
      promotion?: { calls: StatusCall[] } | { error: string };
      /** Bare mode: the path of each body's route. */
      paths?: string[];
      /** The dev2prod face's status call (`GET /rest/{tenant}/dev2prod/import/{id}`) of a finished dry run, when the face is mounted. */
      dev2prod?: { path: string; headers: Record<string, string>; body: unknown };
    }
  | { ok: false; error: string };

/** A status call to load: what it is, its path and the body it answers. */
export interface StatusCall {
  name: string;
  path: string;
  body: unknown;
}

const { values } = parseArgs({
  options: { mode: { type: 'string', default: 'ferry' }, bodies: { type: 'string' }, objects: { type: 'string', default: '2000' } },
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
  const call = async (method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; json: any }> => {
    const res = await fetch(server.url + path, {
      method,
      headers: { ...headers, ...extra, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const must = async (method: string, path: string, body?: unknown, extra?: Record<string, string>) => {
    const r = await call(method, path, body, extra);
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
  const hasPromotion = routes.includes('environment-promotion');
  let promotion: Extract<ServerReport, { ok: true }>['promotion'];
  if (hasPromotion) {
    try {
      const oneTemplate = sampleSelection({ objects: n }).find((o) => o.type === 'TMPL')!;
      const small = await must(
        'POST',
        '/environment-promotion/api/v1/packages',
        { name: 'one template', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: oneTemplate.id }] }] },
        { 'x-ferry-environment': 'dev' },
      );
      promotion = {
        calls: [
          ...(await promotionCalls(created.package.id as string, `the ${n}-object package`, true)),
          ...(await promotionCalls(small.data.id as string, 'a one-template package', false)),
        ],
      };
    } catch (e) {
      promotion = { error: e instanceof Error ? e.message : String(e) };
    }
  }
  const hasDev2prod = routes.includes('dev2prod');
  report({
    ok: true,
    url: server.url,
    path,
    runningPath: `/api/v1/operations/${running.id}`,
    headers,
    body,
    routes: { promotion: hasPromotion, dev2prod: hasDev2prod },
    ...(promotion ? { promotion } : {}),
    ...(hasDev2prod ? { dev2prod: await dev2prodDryRun(server.url, API_KEY, created.package.id as string, must) } : {}),
  });

  /** A package installed into a preview environment through the promotion face; its status calls. */
  async function promotionCalls(packageId: string, what: string, firstOne: boolean): Promise<StatusCall[]> {
    const face = '/environment-promotion/api/v1';
    const preview = { 'x-ferry-environment': 'preview' };
    if (firstOne) await must('POST', '/api/v1/environments', { id: 'preview', name: 'Preview', tier: 'preview', hosts: ['preview.bench.test'] });
    for (let i = 0; i < 600 && (await must('GET', `${face}/packages/${packageId}`)).data.status === 'ASSEMBLING'; i++)
      await new Promise((r) => setTimeout(r, 100));
    await must('PATCH', `${face}/packages/${packageId}`, { status: 'TESTING' });
    const pre = await must('POST', `${face}/packages/${packageId}/prepare-installation`, {}, preview);
    await must('POST', `${face}/installations/${pre.id}/install`, {}, preview);
    const installation = `${face}/installations/${pre.id}`;
    let done: any;
    for (let i = 0; i < 600; i++) {
      done = await must('GET', installation);
      if (done.status !== 'PREPARING' && done.status !== 'INSTALLING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (done.status !== 'COMPLETED') throw new Error(`the promotion install ended ${done.status}: ${JSON.stringify(done).slice(0, 300)}`);
    const pkg = `${face}/packages/${packageId}`;
    return [
      { name: `GET ${face}/installations/{id}, COMPLETED, ${what} (translation map)`, path: installation, body: done },
      { name: `GET ${face}/packages/{id}, ${what} (displayEntities)`, path: pkg, body: await must('GET', pkg) },
    ];
  }
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
): Promise<{ path: string; headers: Record<string, string>; body: unknown }> {
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
  return { path, headers, body: await poll(path) };
}

async function bare(): Promise<void> {
  const bodies = JSON.parse(values.bodies ? readFileSync(values.bodies, 'utf8') : '[{}]') as unknown[];
  const app = Fastify({ logger: false });
  bodies.forEach((body, i) => app.get(`/bare/${i}/:id`, () => Promise.resolve(body)));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const paths = bodies.map((_, i) => `/bare/${i}/0123456789`);
  report({ ok: true, url: `http://127.0.0.1:${port}`, path: paths[0]!, paths, headers: {}, body: bodies[0], routes: { promotion: false, dev2prod: false } });
}

(values.mode === 'bare' ? bare() : ferry()).catch((e: unknown) => {
  report({ ok: false, error: e instanceof Error ? e.message : String(e) });
});
