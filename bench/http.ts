/**
 * The HTTP status endpoint under load: autocannon (this process) against a
 * server in another process (bench/http-server.ts), on loopback, then the
 * same load against a bare Fastify route answering the same body.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

function toResult(name: string, path: string, r: autocannon.Result): HttpResult {
  return { name, path, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.non2xx + r.errors + r.timeouts };
}

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
  try {
    log(`HTTP: ${o.connections} connections for ${o.seconds} s against ${fr.path}`);
    results.push(toResult('GET /api/v1/operations/{id}, finished (Ferry: auth, SQLite, access log)', fr.path, await load(fr.url + fr.path, fr.headers, o)));
    if (fr.runningPath) {
      log(`HTTP: the same load against a running operation ${fr.runningPath}`);
      results.push(
        toResult('GET /api/v1/operations/{id}, RUNNING (progress written every 200 ms)', fr.runningPath, await load(fr.url + fr.runningPath, fr.headers, o)),
      );
    }
    // The dialects' status calls are loaded here once those faces exist (their issues define the requests).
    const promotion = 'promotion dialect (GET /environment-promotion/api/v1/installations/{id})';
    unavailable.push(`${promotion}: ${fr.routes.promotion ? 'in this server, not loaded by this bench yet' : 'not in this server yet'}`);
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
  const bare = await startServer(['--mode', 'bare', '--body', JSON.stringify(fr.body)]);
  try {
    if (!bare.report.ok) throw new Error(bare.report.error);
    const br = bare.report;
    log(`HTTP: the same load against a bare Fastify route`);
    results.push(toResult('bare Fastify route, same JSON body', br.path, await load(br.url + br.path, br.headers, o)));
  } finally {
    bare.child.kill('SIGTERM');
  }
  return { results, unavailable };
}
