/**
 * The HTTP status endpoints under load: autocannon (this process) against a
 * server in another process (bench/http-server.ts), on loopback, beside bare
 * Fastify routes (another process) answering the same bodies. Each status
 * call is compared with the bare route serving its own body: the promotion
 * face's translation map is two orders of magnitude larger than an
 * operation, and serializing it is part of any server's cost.
 *
 * Each call and its bare route are loaded in turn, `rounds` times
 * (call, bare, call, bare, ...), and each side's best round is kept: on a
 * shared machine the req/s of one idle route moved 1.7x between two runs a
 * minute apart, so measuring a call and its baseline minutes apart (as this
 * bench first did) compared the machine's moods rather than the servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { ServerReport } from './http-server.js';

export interface HttpResult {
  name: string;
  path: string;
  /** Mean requests/second over the best round. */
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers and socket errors, over every round: a fast 401 would be no result. */
  errors: number;
  note?: string;
  /** Name of the bare route serving the same body, which this one is compared with. */
  baseline?: string;
  /** The server process's CPU time (user + system, every thread) per request, µs: the lowest of the rounds; Linux only. */
  cpuUs?: number;
}

export interface HttpOptions {
  connections: number;
  /** Length of one round. */
  seconds: number;
  /** Rounds per route, alternating with its baseline; the best is kept. */
  rounds: number;
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

interface Target {
  name: string;
  path: string;
  url: string;
  headers: Record<string, string>;
  /** The server's process, whose CPU time each round reads. */
  pid?: number;
}

/**
 * The CPU time a process has used, µs (user + system, every thread), from
 * /proc: steadier than req/s on a shared machine, whose other tenants slow
 * the client and the server alike. Undefined where there is no /proc.
 */
function cpuTimeUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (100 a second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

const run = (t: Target, o: HttpOptions, seconds: number): Promise<autocannon.Result> =>
  autocannon({ url: t.url + t.path, headers: t.headers, connections: o.connections, duration: seconds });

/** A call and its baseline in turn, each warmed up once (JIT, connections) first; each side's best round. */
async function pair(call: Target, bare: Target, o: HttpOptions): Promise<[HttpResult, HttpResult]> {
  await run(call, o, 2);
  await run(bare, o, 2);
  const best: [autocannon.Result | undefined, autocannon.Result | undefined] = [undefined, undefined];
  const errors = [0, 0];
  const cpu: [number | undefined, number | undefined] = [undefined, undefined];
  for (let round = 0; round < o.rounds; round++) {
    for (const [i, t] of [call, bare].entries()) {
      const before = cpuTimeUs(t.pid);
      const r = await run(t, o, o.seconds);
      const after = cpuTimeUs(t.pid);
      errors[i]! += r.non2xx + r.errors + r.timeouts;
      if (!best[i] || r.requests.average > best[i].requests.average) best[i] = r;
      if (before !== undefined && after !== undefined && r.requests.total > 0) {
        const perRequest = (after - before) / r.requests.total;
        cpu[i] = Math.min(cpu[i] ?? Infinity, perRequest);
      }
    }
  }
  const result = (t: Target, r: autocannon.Result, e: number, cpuUs: number | undefined, baseline?: string): HttpResult => ({
    name: t.name,
    path: t.path,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: e,
    ...(baseline ? { baseline } : {}),
    ...(cpuUs !== undefined ? { cpuUs } : {}),
  });
  return [result(call, best[0]!, errors[0]!, cpu[0], bare.name), result(bare, best[1]!, errors[1]!, cpu[1])];
}

const kb = (body: unknown) => `${(Buffer.byteLength(JSON.stringify(body)) / 1024).toFixed(1)} KB`;

/** Start both servers, then load each status call beside its bare route; `log` gets progress lines. */
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
  // Every call with the body it answers; the i-th bare route serves the i-th body.
  const calls: { name: string; path: string; headers: Record<string, string>; body: unknown }[] = [
    { name: 'GET /api/v1/operations/{id}, finished (Ferry: auth, SQLite, access log)', path: fr.path, headers: fr.headers, body: fr.body },
  ];
  if (fr.runningPath) {
    // Its body changes as it runs; the finished one's size is the same to within a few bytes.
    calls.push({ name: 'GET /api/v1/operations/{id}, RUNNING (progress written every 200 ms)', path: fr.runningPath, headers: fr.headers, body: fr.body });
  }
  const promotion = fr.promotion;
  if (promotion && 'calls' in promotion) {
    for (const call of promotion.calls) calls.push({ ...call, name: `${call.name}, promotion face`, headers: fr.headers });
  } else {
    const why = promotion && 'error' in promotion ? `not measured, ${promotion.error}` : 'not in this server yet';
    unavailable.push(`promotion dialect (GET /environment-promotion/api/v1/installations/{id}, /packages/{id}): ${why}`);
  }
  if (fr.dev2prod) {
    const d = fr.dev2prod;
    calls.push({ name: 'GET /rest/{tenant}/dev2prod/import/{id}, a finished dry run (dev2prod face: Bearer, tenant lookup)', ...d });
  } else {
    unavailable.push('dev2prod dialect (GET /rest/{tenant}/dev2prod/import/{id}): not in this server yet');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-bare-'));
  const file = join(dir, 'bodies.json');
  writeFileSync(file, JSON.stringify(calls.map((c) => c.body)));
  const bare = await startServer(['--mode', 'bare', '--bodies', file]);
  try {
    if (!bare.report.ok) throw new Error(bare.report.error);
    const br = bare.report;
    for (const [i, c] of calls.entries()) {
      log(`HTTP: ${o.connections} connections, ${o.rounds} rounds of ${o.seconds} s against ${c.path}, in turn with a bare route serving its body`);
      const bareTarget = {
        name: `bare Fastify route, same JSON body as ${c.name.split(' (')[0]} (${kb(c.body)})`,
        path: br.paths?.[i] ?? br.path,
        url: br.url,
        headers: {},
        pid: bare.child.pid,
      };
      const [call, baseline] = await pair({ ...c, url: fr.url, pid: ferry.child.pid }, bareTarget, o);
      results.push(call, baseline);
    }
  } finally {
    ferry.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, unavailable };
}

/** The markdown table of benchHttp's results. */
export function httpTable(http: { results: HttpResult[]; unavailable: string[] }, o: HttpOptions): string {
  const firstBare = http.results.find((r) => r.name.startsWith('bare'));
  const header = ['endpoint', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/req', 'vs bare', 'target', ''];
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
      r.cpuUs === undefined ? '-' : r.cpuUs.toFixed(1),
      isBare ? '1.00' : ratio === null ? '-' : ratio.toFixed(2),
      isBare ? '' : '>= 0.5 x bare, p99 < 20 ms',
      met,
    ];
  });
  for (const u of http.unavailable) body.push([u, '-', '-', '-', '-', '-', '-', '', 'not measured']);
  const lines = [header, header.map(() => '---'), ...body].map((c) => `| ${c.join(' | ')} |`);
  return `HTTP on loopback: autocannon, ${o.connections} connections; each call and the bare route serving its body in turn, ${o.rounds} rounds of ${o.seconds} s each after a 2 s warm-up, the best round of each; server CPU: the server process's CPU time (every thread) per request, the lowest round\n\n${lines.join('\n')}`;
}
