/**
 * The HTTP status endpoints under load: autocannon (this process) against a
 * server in another process (bench/http-server.ts), on loopback, then the
 * same load against bare Fastify routes answering the same bodies. Each
 * status call is compared with the bare route serving its own body: the
 * promotion face's translation map is two orders of magnitude larger than an
 * operation, and serializing it is part of any server's cost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { ServerReport } from './http-server.js';

export interface HttpResult {
  name: string;
  path: string;
  /** Mean requests/second over the run. */
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers and socket errors: a fast 401 would be no result. */
  errors: number;
  note?: string;
  /** Name of the bare route serving the same body, which this one is compared with. */
  baseline?: string;
}

export interface HttpOptions {
  connections: number;
  seconds: number;
}

function startServer(args: string[]): Promise<{ child: ChildProcess; report: ServerReport }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'http-server.ts'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.once('message', (m) => resolve({ child, report: m as ServerReport }));
    child.once('exit', (code) =>
      resolve({ child, report: { ok: false, error: `server process exited (${code}) before it was ready: ${stderr.trim().slice(-800)}` } }),
    );
  });
}

async function load(url: string, headers: Record<string, string>, o: HttpOptions): Promise<autocannon.Result> {
  // A short warm-up first (JIT, connection setup), not counted.
  await autocannon({ url, headers, connections: o.connections, duration: 2 });
  return autocannon({ url, headers, connections: o.connections, duration: o.seconds });
}

function toResult(name: string, path: string, r: autocannon.Result, baseline?: string): HttpResult {
  return {
    name,
    path,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    ...(baseline ? { baseline } : {}),
  };
}

const kb = (body: unknown) => `${(Buffer.byteLength(JSON.stringify(body)) / 1024).toFixed(1)} KB`;

/** Run both servers in turn; `log` gets progress lines. */
export async function benchHttp(o: HttpOptions, log: (s: string) => void): Promise<{ results: HttpResult[]; unavailable: string[] }> {
  const results: HttpResult[] = [];
  const unavailable: string[] = [];
  log(`HTTP: starting the Ferry server (bench/http-server.ts --mode ferry)`);
  const ferry = await startServer(['--mode', 'ferry']);
  if (!ferry.report.ok) {
    ferry.child.kill();
    unavailable.push(`GET /api/v1/operations/{id}: not measured, ${ferry.report.error}`);
    return { results, unavailable };
  }
  const fr = ferry.report;
  // Each body served by a bare route too; the i-th bare route serves bodies[i].
  const bodies: { name: string; body: unknown }[] = [{ name: `bare Fastify route, same JSON body (${kb(fr.body)})`, body: fr.body }];
  try {
    log(`HTTP: ${o.connections} connections for ${o.seconds} s against ${fr.path}`);
    const operationBare = bodies[0]!.name;
    results.push(
      toResult('GET /api/v1/operations/{id}, finished (Ferry: auth, SQLite, access log)', fr.path, await load(fr.url + fr.path, fr.headers, o), operationBare),
    );
    if (fr.runningPath) {
      log(`HTTP: the same load against a running operation ${fr.runningPath}`);
      results.push(
        toResult(
          'GET /api/v1/operations/{id}, RUNNING (progress written every 200 ms)',
          fr.runningPath,
          await load(fr.url + fr.runningPath, fr.headers, o),
          operationBare,
        ),
      );
    }
    const promotion = fr.promotion;
    if (promotion && 'calls' in promotion) {
      for (const call of promotion.calls) {
        const baseline = `bare Fastify route, same JSON body as ${call.name.split(' (')[0]} (${kb(call.body)})`;
        bodies.push({ name: baseline, body: call.body });
        log(`HTTP: the same load against ${call.path}`);
        results.push(toResult(`${call.name}, promotion face`, call.path, await load(fr.url + call.path, fr.headers, o), baseline));
      }
    } else {
      const why = promotion && 'error' in promotion ? `not measured, ${promotion.error}` : 'not in this server yet';
      unavailable.push(`promotion dialect (GET /environment-promotion/api/v1/installations/{id}, /packages/{id}): ${why}`);
    }
    if (fr.dev2prod) {
      const d = fr.dev2prod;
      log(`HTTP: the same load against the dev2prod face's status call ${d.path}`);
      results.push(
        toResult(
          'GET /rest/{tenant}/dev2prod/import/{id}, a finished dry run (dev2prod face: Bearer, tenant lookup)',
          d.path,
          await load(fr.url + d.path, d.headers, o),
        ),
      );
    } else {
      unavailable.push('dev2prod dialect (GET /rest/{tenant}/dev2prod/import/{id}): not in this server yet');
    }
  } finally {
    ferry.child.kill('SIGTERM');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-bare-'));
  const file = join(dir, 'bodies.json');
  writeFileSync(file, JSON.stringify(bodies.map((b) => b.body)));
  const bare = await startServer(['--mode', 'bare', '--bodies', file]);
  try {
    if (!bare.report.ok) throw new Error(bare.report.error);
    const br = bare.report;
    for (const [i, { name }] of bodies.entries()) {
      const path = br.paths?.[i] ?? br.path;
      log(`HTTP: the same load against a bare Fastify route (${name})`);
      results.push(toResult(name, path, await load(br.url + path, br.headers, o)));
    }
  } finally {
    bare.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, unavailable };
}

/** The markdown table of benchHttp's results. */
export function httpTable(http: { results: HttpResult[]; unavailable: string[] }, o: { seconds: number; connections: number }): string {
  const firstBare = http.results.find((r) => r.name.startsWith('bare'));
  const header = ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'vs bare', 'target', ''];
  const body = http.results.map((r) => {
    // Each call against the bare route serving its own body (older results name none: the first bare route).
    const bare = (r.baseline ? http.results.find((b) => b.name === r.baseline) : undefined) ?? firstBare;
    const isBare = r.name.startsWith('bare');
    const ratio = bare && !isBare ? r.rps / bare.rps : null;
    const met = ratio === null ? '' : ratio >= 0.5 && r.p99 < 20 && r.errors === 0 ? 'met' : 'NOT met';
    return [
      r.name,
      Math.round(r.rps).toLocaleString('en-US'),
      String(r.p50),
      String(r.p99),
      String(r.errors),
      isBare ? '1.00' : ratio === null ? '-' : ratio.toFixed(2),
      isBare ? '' : '>= 0.5 x bare, p99 < 20 ms',
      met,
    ];
  });
  for (const u of http.unavailable) body.push([u, '-', '-', '-', '-', '-', '', 'not measured']);
  const lines = [header, header.map(() => '---'), ...body].map((c) => `| ${c.join(' | ')} |`);
  return `HTTP on loopback: autocannon, ${o.connections} connections, ${o.seconds} s after a 2 s warm-up, one run each\n\n${lines.join('\n')}`;
}
