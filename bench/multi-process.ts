/**
 * The multi-process server on PostgreSQL (issue 15), part of
 * `npm run bench -- --postgres` (alone: `--multi-only`):
 *
 * - status polls spread over three `ferry serve` processes on one schema:
 *   one autocannon instance per process, at once, beside the same load
 *   (same total connections) on one process;
 * - concurrent installs into different environments with 1, 2 and 3
 *   processes: processes are added one at a time; in each phase one package
 *   (`objects` objects) is prepared into `targets` new environments and all
 *   those installs are started at once, round-robin over the running
 *   processes, and timed from the first request to the last COMPLETED.
 *   Every process runs FERRY_WORKERS operations at once (default 2), and
 *   pg-boss hands the queued installs to whichever process is free.
 *
 * Servers run from the TypeScript sources (as the tests do), each with its
 * own data directory, on the schema `ferry_bench_multi` (dropped before and
 * after).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { generateSample, sampleSelection } from '../src/engine/sample-data.js';
import { BIN, freePort, startServer, stopServer, type Proc } from '../test/support/process.js';

export interface MultiOptions {
  databaseUrl: string;
  /** Objects in the installed package. */
  objects: number;
  /** Environments installed into at once, per phase. */
  targets: number;
  seconds: number;
  connections: number;
  keep: boolean;
}

export interface PollResult {
  processes: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface InstallResult {
  processes: number;
  installs: number;
  objects: number;
  ms: number;
  /** How many distinct processes ran the installs (from each operation's `worker`). */
  ranOn: number;
  failed: number;
}

const SCHEMA = 'ferry_bench_multi';
const KEY = 'fry_bench_multi_key_0123456789abcdef';

async function dropSchema(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA}_pgboss CASCADE`);
  } finally {
    await client.end();
  }
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function waitOp(base: string, id: string): Promise<any> {
  for (;;) {
    const op = await call(base, 'GET', `/api/v1/operations/${id}`);
    if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(op.status)) return op;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run the whole benchmark; `log` gets progress lines. */
export async function benchMultiProcess(o: MultiOptions, log: (s: string) => void): Promise<{ polls: PollResult[]; installs: InstallResult[] }> {
  await dropSchema(o.databaseUrl);
  const servers: { base: string; proc: Proc; dir: string }[] = [];
  const start = async (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `ferry-bench-${name}-`));
    const port = await freePort();
    const env = {
      FERRY_DATABASE_URL: o.databaseUrl,
      FERRY_DATABASE_SCHEMA: SCHEMA,
      FERRY_ADMIN_API_KEY: KEY,
      FERRY_DEMO: '0',
      FERRY_LOG_LEVEL: 'warn',
      FERRY_PORT: String(port),
      FERRY_HOST: '127.0.0.1',
      FERRY_DATA_DIR: dir,
      FERRY_SERVER_NAME: name,
    };
    servers.push({ base: `http://127.0.0.1:${port}`, proc: await startServer(env, BIN, 240_000), dir });
  };
  const polls: PollResult[] = [];
  const installs: InstallResult[] = [];
  try {
    await start('p1');
    const p1 = servers[0]!.base;
    await call(p1, 'POST', '/api/v1/environments', { id: 'dev', name: 'dev', tier: 'development' });
    const sample = { objects: o.objects, seed: 'bench-multi' };
    await call(p1, 'POST', '/api/v1/environments/dev/objects', [...generateSample(sample)]);
    const byType = new Map<string, { ID: string }[]>();
    for (const x of sampleSelection(sample)) byType.set(x.type, [...(byType.get(x.type) ?? []), { ID: x.id }]);
    const posted = await call(p1, 'POST', '/api/v1/packages', {
      sourceEnvId: 'dev',
      name: 'Bench',
      objectCollections: [...byType].map(([objCode, entities]) => ({ objCode, entities })),
    });
    const assembled = await waitOp(p1, posted.operation.id);
    if (assembled.status !== 'COMPLETED') throw new Error(`assembly ${assembled.status}: ${JSON.stringify(assembled.error)}`);
    const pkg = posted.package.id as string;
    const entities = (await call(p1, 'GET', `/api/v1/packages/${pkg}`)).entityCount as number;
    await call(p1, 'PATCH', `/api/v1/packages/${pkg}`, { status: 'TESTING' });

    for (let k = 1; k <= 3; k++) {
      if (k > 1) await start(`p${k}`);
      const live = servers.slice(0, k);
      const ids = Array.from({ length: o.targets }, (_, i) => `t${k}-${i}`);
      const plans: string[] = [];
      for (const [i, id] of ids.entries()) {
        const base = live[i % k]!.base;
        await call(base, 'POST', '/api/v1/environments', { id, name: id, tier: 'testing' });
        plans.push((await call(base, 'POST', `/api/v1/packages/${pkg}/plans`, { targetEnvId: id })).installation.id);
      }
      log(`  multi-process: ${k} process(es), ${o.targets} installs of ${entities} objects at once`);
      const t0 = performance.now();
      const ops = await Promise.all(
        plans.map(async (plan, i) => {
          const base = live[i % k]!.base;
          const started = await call(base, 'POST', `/api/v1/installations/${plan}/install`);
          return waitOp(base, started.operation.id);
        }),
      );
      const ms = performance.now() - t0;
      installs.push({
        processes: k,
        installs: o.targets,
        objects: entities * o.targets,
        ms,
        ranOn: new Set(ops.map((op) => op.worker)).size,
        failed: ops.filter((op) => op.status !== 'COMPLETED').length,
      });
    }

    // Status polls of one operation: all load on one process, then spread over the three.
    const path = `/api/v1/operations/${posted.operation.id}`;
    const headers = { authorization: `Bearer ${KEY}` };
    for (const spread of [servers.slice(0, 1), servers]) {
      const per = Math.max(1, Math.round(o.connections / spread.length));
      log(`  multi-process: status polls over ${spread.length} process(es), ${per * spread.length} connections, ${o.seconds} s`);
      await Promise.all(spread.map((s) => autocannon({ url: s.base + path, headers, connections: per, duration: 2 })));
      const rs = await Promise.all(spread.map((s) => autocannon({ url: s.base + path, headers, connections: per, duration: o.seconds })));
      polls.push({
        processes: spread.length,
        rps: rs.reduce((a, r) => a + r.requests.average, 0),
        p50: Math.max(...rs.map((r) => r.latency.p50)),
        p99: Math.max(...rs.map((r) => r.latency.p99)),
        errors: rs.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0),
      });
    }
  } finally {
    await Promise.all(servers.map((s) => stopServer(s.proc).catch(() => null)));
    for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
    if (!o.keep) await dropSchema(o.databaseUrl);
  }
  return { polls, installs };
}

/** The markdown tables. */
export function multiTable(r: { polls: PollResult[]; installs: InstallResult[] }, o: MultiOptions): string {
  const base = r.installs[0];
  const rate = (x: InstallResult) => x.objects / (x.ms / 1000);
  const lines = [
    `Multi-process server on PostgreSQL (one schema): ${o.targets} concurrent installs of one package into different environments, per number of processes`,
    '',
    '| processes | installs | objects | wall time | objects/s | vs 1 process | ran on | failed |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.installs.map(
      (x) =>
        `| ${x.processes} | ${x.installs} | ${x.objects} | ${(x.ms / 1000).toFixed(1)} s | ${rate(x).toFixed(0)} | ${base ? (rate(x) / rate(base)).toFixed(2) : '-'}x | ${x.ranOn} | ${x.failed} |`,
    ),
    '',
    `Status polls (\`GET /api/v1/operations/{id}\`), autocannon, ${o.connections} connections in all, ${o.seconds} s: one process, then one autocannon per process at once`,
    '',
    '| processes | requests/s (sum) | p50 ms (worst) | p99 ms (worst) | errors |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...r.polls.map((x) => `| ${x.processes} | ${x.rps.toFixed(0)} | ${x.p50} | ${x.p99} | ${x.errors} |`),
  ];
  return lines.join('\n');
}
