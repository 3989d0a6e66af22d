/**
 * `node --import tsx bench/loop-lag.ts --objects N [--database-url URL] [--work DIR] [--keep]`
 *
 * Does the server keep answering while a big promotion runs (issue 9)? This
 * generates an N-object source, starts a real server process on it (`ferry
 * serve`, its default configuration), and drives assembly, bundle export,
 * upload (verify) and import (dry run: read into a package and planned),
 * prepare, install, rollback and a clone of the source through the native
 * API, one phase after the other. Meanwhile:
 *
 * - a poller in a worker thread of this process (its own event loop, so
 *   parsing a big prepare answer here cannot delay it) calls
 *   `GET /api/v1/health` every 20 ms and records how long each answer took;
 * - the server's own event-loop delay (perf_hooks.monitorEventLoopDelay,
 *   prom-client's `nodejs_eventloop_lag_*` in `/metrics`) is read at the end
 *   of each phase; prom-client resets that histogram at every scrape, so a
 *   scrape at the start of a phase starts its window.
 *
 * Prints one JSON line per phase (bench/run.ts reads them); a script that
 * reports figures, never fails because the machine is slow.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { BIN, freePort, startServer, stopServer } from '../test/support/process.js';
import { sampleSelection } from '../src/engine/sample-data.js';
import { openEngine } from '../src/engine/open.js';
import { generateSource } from './gen.js';

export interface LagResult {
  phase: string;
  objects: number;
  ms: number;
  /** Health polls answered during the phase, and their worst / p99 response time (ms). */
  polls: number;
  pollMaxMs: number;
  pollP99Ms: number;
  /** Polls that took over 100 ms. */
  pollsOver100: number;
  /** The server's event-loop delay over the phase (ms), from its /metrics; null when not exposed. */
  loopMaxMs: number | null;
  loopP99Ms: number | null;
  /** The machine's 1-minute load average at the end of the phase: on a shared machine, lag is also waiting for a CPU. */
  loadAvg: number;
}

const API_KEY = 'ferry-bench-admin-key-0123456789abcdef';

/** The poller: `GET url` every `every` ms, posting each answer's time (ms) to the parent. */
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, every } = workerData;
let stop = false;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; });
(async () => {
  while (!stop) {
    const t0 = performance.now();
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      parentPort.postMessage({ at: Date.now(), ms: performance.now() - t0, status: r.status });
    } catch (e) {
      parentPort.postMessage({ at: Date.now(), ms: performance.now() - t0, status: 0 });
    }
    await new Promise((r) => setTimeout(r, every));
  }
  parentPort.postMessage('done');
})();
`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Read one gauge (the first sample) from a Prometheus text answer. */
function gauge(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export async function measureLoopLag(opts: {
  objects: number;
  work: string;
  databaseUrl?: string;
  schema?: string;
  /** Write the server's CPU profile (node --cpu-prof) into this directory. */
  profileDir?: string;
  log?: (s: string) => void;
}): Promise<LagResult[]> {
  const log = opts.log ?? (() => {});
  const dataDir = join(opts.work, 'data');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const dbEnv: Record<string, string> = opts.databaseUrl
    ? { FERRY_DATABASE_URL: opts.databaseUrl, ...(opts.schema ? { FERRY_DATABASE_SCHEMA: opts.schema } : {}) }
    : {};
  {
    const engine = await openEngine({ dataDir, databaseUrl: opts.databaseUrl, databaseSchema: opts.schema, publicUrl: 'http://bench.ferry.test' });
    try {
      await generateSource(engine, { objects: opts.objects, envId: 'source' });
    } finally {
      await engine.store.close();
    }
  }
  log(`  loop lag ${opts.objects}: source generated`);
  const port = await freePort();
  const server = await startServer(
    {
      FERRY_DATA_DIR: dataDir,
      FERRY_PORT: String(port),
      FERRY_HOST: '127.0.0.1',
      FERRY_ADMIN_API_KEY: API_KEY,
      FERRY_DEMO: '0',
      FERRY_LOG_LEVEL: 'warn',
      ...dbEnv,
    },
    opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`, ...BIN] : BIN,
    // Started through tsx: on a loaded machine that alone can take over a minute.
    300_000,
  );
  const base = `http://127.0.0.1:${port}`;
  const results: LagResult[] = [];
  const polls: { at: number; ms: number; status: number }[] = [];
  const poller = new Worker(POLLER, { eval: true, workerData: { url: `${base}/api/v1/health`, every: 20 } });
  poller.on('message', (m: unknown) => {
    if (typeof m === 'object' && m) polls.push(m as (typeof polls)[number]);
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> => {
    const raw = body instanceof Uint8Array;
    const res = await fetch(base + path, {
      method,
      headers: { apikey: API_KEY, ...(body === undefined || raw ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300 && res.status !== 202) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  };
  const finished = async (op: { id: string }): Promise<any> => {
    for (;;) {
      const o = await call('GET', `/api/v1/operations/${op.id}`);
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(o.status)) {
        if (o.status !== 'COMPLETED') throw new Error(`operation ${op.id} ended ${o.status}: ${JSON.stringify(o.error ?? o.message)}`);
        return o;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    await call('GET', '/metrics'); // starts the server's lag window
    const from = Date.now();
    const t0 = performance.now();
    const out = await fn();
    const ms = performance.now() - t0;
    const metrics = (await call('GET', '/metrics').catch(() => '')) as string;
    const mine = polls
      .filter((p) => p.at >= from)
      .map((p) => p.ms)
      .sort((a, b) => a - b);
    const lagMax = gauge(metrics, 'ferry_nodejs_eventloop_lag_max_seconds');
    const lagP99 = gauge(metrics, 'ferry_nodejs_eventloop_lag_p99_seconds');
    const r: LagResult = {
      phase: name,
      objects: opts.objects,
      ms,
      polls: mine.length,
      pollMaxMs: mine.at(-1) ?? 0,
      pollP99Ms: percentile(mine, 99),
      pollsOver100: mine.filter((x) => x > 100).length,
      loopMaxMs: lagMax === null ? null : lagMax * 1000,
      loopP99Ms: lagP99 === null ? null : lagP99 * 1000,
      loadAvg: loadavg()[0]!,
    };
    results.push(r);
    log(
      `  loop lag ${opts.objects} ${name}: ${(ms / 1000).toFixed(2)} s; health polls ${r.polls}, max ${r.pollMaxMs.toFixed(0)} ms, p99 ${r.pollP99Ms.toFixed(0)} ms, ` +
        `${r.pollsOver100} over 100 ms; server loop delay max ${r.loopMaxMs?.toFixed(0) ?? '-'} ms, p99 ${r.loopP99Ms?.toFixed(0) ?? '-'} ms; load average ${r.loadAvg.toFixed(1)}`,
    );
    return out;
  };
  try {
    // A (Prometheus-invisible) warm-up: JIT and first connections, not counted.
    await call('GET', '/api/v1/health');
    await new Promise((r) => setTimeout(r, 300));
    await call('POST', '/api/v1/environments', { id: 'target', name: 'Target', tier: 'testing' });
    const byType = new Map<string, { ID: string }[]>();
    for (const s of sampleSelection({ objects: opts.objects })) byType.set(s.type, [...(byType.get(s.type) ?? []), { ID: s.id }]);
    const assembled = await phase('assemble', async () => {
      const created = await call('POST', '/api/v1/packages', {
        sourceEnvId: 'source',
        name: 'loop lag',
        objectCollections: [...byType].map(([objCode, entities]) => ({ objCode, entities })),
      });
      await finished(created.operation);
      return created.package as { id: string };
    });
    const exported = await phase('export', async () => finished((await call('POST', `/api/v1/packages/${assembled.id}/export`)).operation));
    const bundle = await (await fetch(`${base}/api/v1/files/${exported.result.file.id as string}/content`, { headers: { apikey: API_KEY } })).arrayBuffer();
    const uploaded = await phase('upload', () =>
      call('POST', '/api/v1/files?name=loop-lag.ferry', new Uint8Array(bundle), { 'content-type': 'application/octet-stream' }),
    );
    // The import reads the bundle into a new package only when this server does not hold it already.
    await call('DELETE', `/api/v1/packages/${assembled.id}`);
    const imported = await phase('import', async () =>
      finished((await call('POST', '/api/v1/imports', { fileId: uploaded.id, targetEnvId: 'target', dryRun: true })).operation),
    );
    const pkg = { id: imported.result.packageId as string };
    await call('PATCH', `/api/v1/packages/${pkg.id}`, { status: 'TESTING' });
    const plan = await phase('prepare', () => call('POST', `/api/v1/packages/${pkg.id}/plans`, { targetEnvId: 'target' }));
    const inst = plan.installation as { id: string };
    await phase('install', async () => finished((await call('POST', `/api/v1/installations/${inst.id}/install`)).operation));
    await phase('rollback', () => call('POST', `/api/v1/installations/${inst.id}/rollback`));
    await phase('clone', async () => {
      const r = await call('POST', '/api/v1/environments', { id: 'clone', name: 'Clone', tier: 'testing', cloneFrom: 'source' }, { prefer: 'respond-async' });
      return finished(r.operation);
    });
  } finally {
    poller.postMessage('stop');
    await new Promise<void>((r) => poller.once('message', () => r()));
    await poller.terminate();
    await stopServer(server);
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '100000' },
      work: { type: 'string', default: '.bench/loop-lag' },
      'database-url': { type: 'string' },
      schema: { type: 'string' },
      keep: { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  });
  const work = resolve(values.work);
  const results = await measureLoopLag({
    objects: Number(values.objects),
    work,
    databaseUrl: values['database-url'],
    schema: values.schema,
    profileDir: values.profile ? resolve(values.profile) : undefined,
    log: (s) => process.stderr.write(`${s}\n`),
  });
  for (const r of results) console.log(JSON.stringify(r));
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
