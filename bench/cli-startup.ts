/**
 * Startup of the built CLI (`node bin/ferry.js`, as `npx ferry` runs it):
 * `ferry --help` and `ferry env list` on a small data directory, beside
 * `node -e 0` (the floor: Node itself). Each command runs `runs` times after
 * one warm-up run (which also creates the data directory); the median and
 * the fastest wall times are reported. The target: a local command
 * in under 300 ms. Figures only: nothing fails because a machine is slow.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';

export interface StartupResult {
  name: string;
  argv: string[];
  runs: number;
  medianMs: number;
  minMs: number;
  /** Median CPU time (user + system) of the process, when /usr/bin/time can tell: steadier than wall time on a busy machine. */
  cpuMs: number | null;
  /** Target in ms, where the issue sets one. */
  targetMs?: number;
}

const ROOT = join(import.meta.dirname, '..');

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Wall time of one run, and its CPU time through /usr/bin/time where there is one. */
function time(argv: string[]): { ms: number; cpuMs: number | null } {
  const [cmd, args] = TIME ? [TIME, ['-f', 'ferry-cpu %U %S', process.execPath, ...argv]] : [process.execPath, argv];
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = /ferry-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function benchCliStartup(work: string, runs: number, log: (s: string) => void): StartupResult[] {
  if (!existsSync(join(ROOT, 'dist/bundle/main.js'))) {
    log('cli startup: building the CLI first (npm run build)');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  const data = join(work, 'cli-startup-data');
  rmSync(data, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const cases: Omit<StartupResult, 'runs' | 'medianMs' | 'minMs' | 'cpuMs'>[] = [
    { name: 'node -e 0 (floor)', argv: ['-e', '0'] },
    { name: 'ferry --help', argv: ['bin/ferry.js', '--help'] },
    { name: 'ferry env list', argv: ['bin/ferry.js', '--data-dir', data, 'env', 'list'], targetMs: 300 },
  ];
  const out: StartupResult[] = [];
  for (const c of cases) {
    time(c.argv);
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = time(c.argv);
      ms.push(t.ms);
      if (t.cpuMs !== null) cpu.push(t.cpuMs);
    }
    const r = { ...c, runs, medianMs: median(ms), minMs: Math.min(...ms), cpuMs: cpu.length ? median(cpu) : null };
    log(`cli startup: ${c.name}: median ${r.medianMs.toFixed(0)} ms, fastest ${r.minMs.toFixed(0)} ms, CPU ${r.cpuMs?.toFixed(0) ?? '-'} ms`);
    out.push(r);
  }
  rmSync(data, { recursive: true, force: true });
  return out;
}

export function startupTable(results: readonly StartupResult[]): string {
  const header = ['command', 'median ms', 'fastest ms', 'CPU ms (median)', 'runs', 'target', ''];
  const body = results.map((r) => [
    r.name,
    r.medianMs.toFixed(0),
    r.minMs.toFixed(0),
    r.cpuMs === null ? '-' : r.cpuMs.toFixed(0),
    String(r.runs),
    r.targetMs ? `< ${r.targetMs} ms` : '',
    r.targetMs ? (r.medianMs < r.targetMs ? 'met' : 'NOT met') : '',
  ]);
  const lines = [header, header.map(() => '---'), ...body].map((c) => `| ${c.join(' | ')} |`);
  return `CLI startup: the built CLI (node bin/ferry.js), wall and CPU time of the whole process after one warm-up run; load average ${loadavg()[0]!.toFixed(1)} at the end\n\n${lines.join('\n')}`;
}
