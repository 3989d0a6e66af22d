/**
 * `npm run bench [-- --large] [-- --postgres] [--sizes 10000,100000] [--no-http] [--no-loop-lag] [--no-cli | --cli-only | --multi-only] [--markdown FILE]`
 *
 * Prints ONE table, every row measured in this run: generate, assemble,
 * export, import, prepare (empty target; target holding 50% of the objects
 * with 10% of those edited), install, rollback, for each N, as objects/second
 * and peak RSS, beside the floor (a raw bulk copy of the same rows, one
 * prepared INSERT per row in one transaction, on the same database, measured
 * in this process) and the ratio of each step to it. Then the HTTP status
 * endpoint under autocannon beside a bare Fastify route. Between them, the
 * event-loop lag of a real server process while it assembles, exports,
 * verifies an upload, imports, prepares, installs, rolls back and clones
 * each N up to 100k (bench/loop-lag.ts). Then the
 * startup of the built CLI (`ferry --help`, `ferry env list`) beside
 * `node -e 0` (`--no-cli` skips it, `--cli-only` runs only it). With
 * `--postgres`, last, the multi-process server (bench/multi-process.ts;
 * `--multi-only` runs only it, `--multi-objects`, `--multi-targets`).
 *
 * Each step runs in a child process of its own (bench/step.ts) so that its
 * peak RSS is its own. This is a script that reports figures; it never fails
 * because the machine is slow.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pgFloor, sqliteFloor, type FloorResult } from './floor.js';
import { benchHttp, httpTable, type HttpResult } from './http.js';
import { benchCliStartup, startupTable, type StartupResult } from './cli-startup.js';
import { formatSummary, summarizeProfile } from './profile-summary.js';
import type { StepResult } from './step.js';
import { measureLoopLag, type LagResult } from './loop-lag.js';
import { benchMultiProcess, multiTable } from './multi-process.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string' },
    large: { type: 'boolean', default: false },
    postgres: { type: 'boolean', default: false },
    'database-url': { type: 'string', default: process.env.FERRY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'no-http': { type: 'boolean', default: false },
    /** Skip the event-loop lag of a server during its long steps (bench/loop-lag.ts). */
    'no-loop-lag': { type: 'boolean', default: false },
    'http-only': { type: 'boolean', default: false },
    'no-cli': { type: 'boolean', default: false },
    'cli-only': { type: 'boolean', default: false },
    'multi-only': { type: 'boolean', default: false },
    'multi-objects': { type: 'string', default: '4000' },
    'multi-targets': { type: 'string', default: '6' },
    'cli-runs': { type: 'string', default: '15' },
    work: { type: 'string', default: '.bench/run' },
    markdown: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'http-seconds': { type: 'string', default: '5' },
    'http-rounds': { type: 'string', default: '3' },
    /** Profile these steps (comma-separated: gen, assemble, export, import, prepare, install, rollback) at every N. */
    profile: { type: 'string' },
    'http-connections': { type: 'string', default: '10' },
    /**
     * Runs of each step with a target (export, import, prepare + install),
     * the best kept, as the floor is the best of three. Default 3 up to
     * N = 100k, 1 above. Import and prepare + install start each run from a
     * copy of the target store taken before the first (SQLite; PostgreSQL
     * runs them once).
     */
    repeat: { type: 'string' },
  },
});

const sizes = (values.sizes ?? '10000,100000').split(',').map((s) => Number(s.trim()));
if (values.large && !sizes.includes(1_000_000)) sizes.push(1_000_000);
const dialects: ('sqlite' | 'postgres')[] = values.postgres ? ['sqlite', 'postgres'] : ['sqlite'];
const work = resolve(values.work);
const PG_URL = values['database-url'];
/** Only one part: the HTTP status endpoints, the CLI's startup, or the multi-process server. */
const only = values['http-only'] || values['cli-only'] || values['multi-only'];

interface Row {
  dialect: string;
  n: number;
  step: string;
  count: number;
  ms: number;
  peakRssMb: number | null;
  /** Time per object over the floor's, for (dialect, n). */
  ratio: number | null;
  /** The targets, where they apply to this row. */
  maxRatio?: number;
  maxRssMb?: number;
  note?: string;
  /** Why there is no figure. */
  failed?: string;
  /** Runs measured; the fastest is the figure. */
  runs?: number;
}

const rows: Row[] = [];
const profiles: { label: string; file: string }[] = [];
const log = (s: string) => process.stderr.write(`${s}\n`);

/** Run one step in a fresh process and return what it measured. */
function runStep(args: Record<string, string | number | undefined>): Promise<StepResult> {
  const argv = ['--import', 'tsx', '--expose-gc', join(import.meta.dirname, 'step.ts')];
  for (const [k, v] of Object.entries(args)) if (v !== undefined) argv.push(`--${k}`, String(v));
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return rej(new Error(`step ${String(args.step)} failed (exit ${code}):\n${err}${out}`));
      res(JSON.parse(line) as StepResult);
    });
  });
}

async function resetPgSchema(schema: string, create: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
    if (create) await client.query(`create schema ${schema}`);
  } finally {
    await client.end();
  }
}

async function benchSize(dialect: 'sqlite' | 'postgres', n: number): Promise<void> {
  const base = join(work, `${dialect}-${n}`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const src = { 'data-dir': join(base, 'source'), 'database-url': undefined as string | undefined, schema: undefined as string | undefined };
  const tgt = { 'data-dir': join(base, 'target'), 'database-url': undefined as string | undefined, schema: undefined as string | undefined };
  if (dialect === 'postgres') {
    src['database-url'] = tgt['database-url'] = PG_URL;
    src.schema = `ferry_bench_source_${n}`;
    tgt.schema = `ferry_bench_target_${n}`;
    await resetPgSchema(src.schema, false);
    await resetPgSchema(tgt.schema, false);
  }
  const file = join(base, 'package.ferry');
  // The targets hold at scale: at 10k a step's fixed costs (opening
  // the store, an fsync) weigh against a 0.1 s floor, so ratios are judged
  // from 100k up, and the RSS ceiling at 1M.
  const atScale = n >= 100_000;
  const targets = {
    bundle: { maxRatio: atScale ? 2 : undefined, maxRssMb: n >= 1_000_000 ? 512 : undefined },
    // The issue states this one for 100k objects; at 1M the ratio is shown without a verdict.
    promote: { maxRatio: n === 100_000 ? 4 : undefined },
  };

  const repeat = Math.max(1, Number(values.repeat ?? (n <= 100_000 ? 3 : 1)));
  /** Runs of a step that changes the target: only SQLite's store can be copied back between runs. */
  const repeatTarget = dialect === 'sqlite' ? repeat : 1;
  const saveTarget = (name: string) => cpSync(tgt['data-dir'], join(base, name), { recursive: true });
  const restoreTarget = (name: string) => {
    rmSync(tgt['data-dir'], { recursive: true, force: true });
    cpSync(join(base, name), tgt['data-dir'], { recursive: true });
  };

  const record = (label: string, r: StepResult, opts: { maxRatio?: number; maxRssMb?: number; note?: string; runs?: number } = {}) => {
    const runs = opts.runs && opts.runs > 1 ? ` (best of ${opts.runs})` : '';
    rows.push({
      dialect,
      n,
      step: label,
      count: r.count,
      ms: r.ms,
      peakRssMb: r.peakRssMb,
      ratio: null,
      maxRatio: opts.maxRatio,
      maxRssMb: opts.maxRssMb,
      note: opts.note,
      runs: opts.runs,
    });
    log(`  ${dialect} ${n} ${label}: ${r.count} in ${(r.ms / 1000).toFixed(2)} s, ${Math.round(r.count / (r.ms / 1000))}/s, peak RSS ${r.peakRssMb} MB${runs}`);
  };
  const failed = (label: string, e: unknown) => {
    const message =
      (e instanceof Error ? e.message : String(e))
        .split('\n')
        .find((l) => /Error:/.test(l))
        ?.trim() ?? String(e);
    rows.push({ dialect, n, step: label, count: 0, ms: 0, peakRssMb: null, ratio: null, failed: message.slice(0, 300) });
    log(`  ${dialect} ${n} ${label}: FAILED ${message}`);
  };
  /** Run a step in its own process (profiled when asked: the timed steps only, empty target). */
  const measure = async (label: string, args: Record<string, string | number | undefined>, profile = true): Promise<StepResult> => {
    const profiled = profile && (values.profile ?? '').split(',').includes(String(args.step)) && !label.includes('50%');
    const profileFile = profiled ? join(work, `profile-${dialect}-${n}-${String(args.step)}.cpuprofile`) : undefined;
    const r = await runStep({ ...args, profile: profileFile });
    if (profileFile) profiles.push({ label: `${dialect} ${n} ${label}`, file: profileFile });
    return r;
  };

  /**
   * Run a step (`runs` times, the fastest kept; `before` runs ahead of each
   * run) and record it; a failure is a row of the table (and what depends on
   * it is skipped), not the end of the run.
   */
  const step = async (
    label: string,
    args: Record<string, string | number | undefined>,
    opts: { record?: boolean; maxRatio?: number; maxRssMb?: number; note?: string; runs?: number; before?: () => void } = {},
  ): Promise<StepResult | undefined> => {
    try {
      let best: StepResult | undefined;
      const runs = opts.runs ?? 1;
      for (let i = 0; i < runs; i++) {
        opts.before?.();
        const r = await measure(label, args, opts.record !== false && i === runs - 1);
        if (!best || r.ms < best.ms) best = r;
      }
      if (opts.record !== false) record(label, best!, opts);
      return best;
    } catch (e) {
      failed(label, e);
      return undefined;
    }
  };
  const skipped = (label: string, why: string) =>
    rows.push({ dialect, n, step: label, count: 0, ms: 0, peakRssMb: null, ratio: null, failed: `skipped: ${why}` });

  log(`N = ${n} (${dialect})`);
  await step('generate + load (engine, batches of 5000)', { step: 'gen', objects: n, ...src });
  const asm = await step('assemble', { step: 'assemble', objects: n, ...src });
  const exp =
    asm &&
    (await step(
      'export bundle',
      { step: 'export', package: String(asm.out.packageId), file, ...src },
      { ...targets.bundle, runs: repeat, note: 'read entities, canonical JSON, SHA-256, gzip, fsync' },
    ));
  await step('', { step: 'target-empty', env: 'empty', ...tgt }, { record: false });
  if (repeatTarget > 1) saveTarget('target-before-import');
  const imp =
    exp &&
    (await step(
      'import bundle',
      { step: 'import', file, ...tgt },
      {
        ...targets.bundle,
        runs: repeatTarget,
        before: repeatTarget > 1 ? () => restoreTarget('target-before-import') : undefined,
        note: 'one pass: gunzip, verify (counts, SHA-256), store as package',
      },
    ));
  if (!asm || !exp || !imp) skipped('prepare / install / rollback', 'no package');
  else {
    const pkg = String(imp.out.packageId);
    // Prepare and install are one promotion: each run does both from the
    // same target, and the run with the smallest sum is the one reported.
    if (repeatTarget > 1) saveTarget('target-before-prepare');
    let best: { prep: StepResult; inst: StepResult } | undefined;
    let last: StepResult | undefined;
    try {
      for (let i = 0; i < repeatTarget; i++) {
        if (i > 0) restoreTarget('target-before-prepare');
        const profile = i === repeatTarget - 1;
        const prep = (last = await measure('prepare, empty target', { step: 'prepare', package: pkg, env: 'empty', ...tgt }, profile));
        const inst = await measure('install, empty target', { step: 'install', installation: String(prep.out.installationId), ...tgt }, profile);
        if (!best || prep.ms + inst.ms < best.prep.ms + best.inst.ms) best = { prep, inst };
      }
    } catch (e) {
      failed('prepare + install, empty target', e);
    }
    if (best && last) {
      const runs = repeatTarget;
      record('prepare, empty target', best.prep, { runs });
      record('install, empty target', best.inst, { runs });
      rows.push({
        dialect,
        n,
        step: 'prepare + install, empty target',
        count: best.inst.count,
        ms: best.prep.ms + best.inst.ms,
        peakRssMb: Math.max(best.prep.peakRssMb, best.inst.peakRssMb),
        ratio: null,
        maxRatio: targets.promote.maxRatio,
        runs,
      });
      // The target holds the last run's install.
      await step('rollback of that install', { step: 'rollback', installation: String(last.out.installationId), ...tgt });
    }
    // After the rollback: server-scoped objects are shared by every environment of the target.
    await step('', { step: 'target-half', env: 'half', objects: n, ...tgt }, { record: false });
    const half = await step('prepare, 50% target (10% edited)', { step: 'prepare', package: pkg, env: 'half', ...tgt });
    if (half) {
      const s = half.out.summary as Record<string, number>;
      rows[rows.length - 1]!.note = `create ${s.create}, update ${s.update}, use existing ${s.useExisting}, drift ${s.drift}`;
      await step('install, 50% target', { step: 'install', installation: String(half.out.installationId), ...tgt });
    }
  }

  let floor: FloorResult;
  if (dialect === 'sqlite') {
    const f = () => sqliteFloor(join(src['data-dir'], 'ferry.sqlite'), ['source', '*']);
    // Best of three: the floor should be the floor.
    const runs = [f(), f(), f()].sort((a, b) => a.ms - b.ms);
    floor = runs[0]!;
  } else {
    floor = await pgFloor(PG_URL, src.schema!, ['source', '*']);
  }
  log(`  ${dialect} ${n} floor: ${floor.rows} rows in ${(floor.ms / 1000).toFixed(2)} s (insert ${(floor.insertMs / 1000).toFixed(2)} s)`);
  rows.push({
    dialect,
    n,
    step: `FLOOR: raw copy, 1 prepared INSERT/row, 1 tx (${dialect === 'sqlite' ? 'better-sqlite3' : 'pg'})`,
    count: floor.rows,
    ms: floor.ms,
    peakRssMb: null,
    ratio: 1,
    runs: dialect === 'sqlite' ? 3 : 1,
    note: `read ${((floor.ms - floor.insertMs) / 1000).toFixed(2)} s + insert ${(floor.insertMs / 1000).toFixed(2)} s`,
  });
  const perObject = floor.ms / floor.rows;
  for (const r of rows) if (r.dialect === dialect && r.n === n && r.ratio === null && !r.failed) r.ratio = r.ms / r.count / perObject;

  if (!values.keep) {
    rmSync(base, { recursive: true, force: true });
    if (dialect === 'postgres') {
      await resetPgSchema(src.schema!, false);
      await resetPgSchema(tgt.schema!, false);
    }
  }
}

function fmtRate(count: number, ms: number): string {
  return Math.round(count / (ms / 1000)).toLocaleString('en-US');
}

function targetText(r: Row): string {
  const parts: string[] = [];
  if (r.maxRatio !== undefined) parts.push(`<= ${r.maxRatio}x`);
  if (r.maxRssMb !== undefined) parts.push(`RSS < ${r.maxRssMb} MB`);
  return parts.join(', ');
}

function verdict(r: Row): string {
  if (r.failed) return '';
  const checks: boolean[] = [];
  if (r.maxRatio !== undefined && r.ratio !== null) checks.push(r.ratio <= r.maxRatio);
  if (r.maxRssMb !== undefined && r.peakRssMb !== null) checks.push(r.peakRssMb < r.maxRssMb);
  if (checks.length === 0) return '';
  return checks.every(Boolean) ? 'met' : 'NOT met';
}

function table(): string {
  const header = ['db', 'N', 'step', 'objects', 'seconds', 'objects/s', 'peak RSS MB', 'x floor', 'target', '', 'notes'];
  const body = rows.map((r) =>
    r.failed
      ? [
          r.dialect,
          r.n.toLocaleString('en-US'),
          r.step,
          '-',
          '-',
          '-',
          '-',
          '-',
          targetText(r),
          r.failed.startsWith('skipped') ? '' : 'FAILED',
          r.failed.replaceAll('|', '/'),
        ]
      : [
          r.dialect,
          r.n.toLocaleString('en-US'),
          r.step,
          r.count.toLocaleString('en-US'),
          (r.ms / 1000).toFixed(2),
          fmtRate(r.count, r.ms),
          r.peakRssMb === null ? '-' : String(Math.round(r.peakRssMb)),
          r.ratio === null ? '-' : r.ratio.toFixed(2),
          targetText(r),
          verdict(r),
          [r.runs && r.runs > 1 ? `best of ${r.runs}` : '', r.note ?? ''].filter(Boolean).join('; '),
        ],
  );
  return [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** The bound: no request waits longer than this for the event loop while a long step runs. */
const MAX_LAG_MS = 100;

function lagTable(lags: (LagResult & { dialect: string })[], failures: string[]): string {
  const header = [
    'db',
    'N',
    'phase',
    'seconds',
    'health polls',
    'worst poll ms',
    'p99 poll ms',
    'polls > 100 ms',
    'loop delay max ms',
    'loop delay p99 ms',
    'load avg',
    'target',
    '',
  ];
  const ms = (x: number | null) => (x === null ? '-' : x.toFixed(0));
  const body = lags.map((r) => [
    r.dialect,
    r.objects.toLocaleString('en-US'),
    r.phase,
    (r.ms / 1000).toFixed(2),
    String(r.polls),
    ms(r.pollMaxMs),
    ms(r.pollP99Ms),
    String(r.pollsOver100),
    ms(r.loopMaxMs),
    ms(r.loopP99Ms),
    r.loadAvg.toFixed(1),
    `loop delay max < ${MAX_LAG_MS} ms`,
    r.loopMaxMs === null ? '' : r.loopMaxMs < MAX_LAG_MS ? 'met' : 'NOT met',
  ]);
  const lines = [header, header.map(() => '---'), ...body].map((c) => `| ${c.join(' | ')} |`);
  for (const f of failures) lines.push(`\n${f}`);
  return (
    'Event loop during long steps: a real server process (`ferry serve`), assembly, bundle export, upload and import (dry run), prepare, install, rollback and a clone of the whole sample through the native API; ' +
    "`GET /api/v1/health` polled every 20 ms from another thread, and the server's own event-loop delay (monitorEventLoopDelay, from /metrics) over each phase\n\n" +
    lines.join('\n')
  );
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true });
  const started = Date.now();
  if (!only) {
    for (const dialect of dialects) for (const n of sizes) await benchSize(dialect, n);
  }
  const lags: (LagResult & { dialect: string })[] = [];
  const lagFailures: string[] = [];
  if (!values['no-loop-lag'] && !only) {
    for (const dialect of dialects) {
      for (const n of sizes.filter((x) => x <= 100_000)) {
        const schema = dialect === 'postgres' ? `ferry_bench_lag_${n}` : undefined;
        try {
          if (schema) await resetPgSchema(schema, false);
          const r = await measureLoopLag({ objects: n, work: join(work, `lag-${dialect}-${n}`), databaseUrl: schema ? PG_URL : undefined, schema, log });
          for (const x of r) lags.push({ ...x, dialect });
        } catch (e) {
          lagFailures.push(`${dialect} ${n}: FAILED ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
          log(`  loop lag ${dialect} ${n}: FAILED ${String(e)}`);
        } finally {
          if (!values.keep) rmSync(join(work, `lag-${dialect}-${n}`), { recursive: true, force: true });
          if (schema && !values.keep) await resetPgSchema(schema, false);
        }
      }
    }
  }
  let http: { results: HttpResult[]; unavailable: string[] } | undefined;
  const httpOptions = { seconds: Number(values['http-seconds']), rounds: Number(values['http-rounds']), connections: Number(values['http-connections']) };
  if (!values['no-http'] && (!only || values['http-only'])) http = await benchHttp(httpOptions, log);
  let cli: StartupResult[] | undefined;
  if (!values['no-cli'] && (!only || values['cli-only'])) cli = benchCliStartup(work, Number(values['cli-runs']), log);
  const multiOptions = {
    databaseUrl: PG_URL,
    objects: Number(values['multi-objects']),
    targets: Number(values['multi-targets']),
    keep: values.keep,
    ...httpOptions,
  };
  const multi = (values.postgres && !only) || values['multi-only'] ? await benchMultiProcess(multiOptions, log) : undefined;
  let md = [
    rows.length ? table() : '',
    lags.length || lagFailures.length ? lagTable(lags, lagFailures) : '',
    http ? httpTable(http, httpOptions) : '',
    cli ? startupTable(cli) : '',
    multi ? multiTable(multi, multiOptions) : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  for (const p of profiles) {
    const summary = formatSummary(summarizeProfile(JSON.parse(readFileSync(p.file, 'utf8')) as Parameters<typeof summarizeProfile>[0]));
    md += `\n\nCPU profile of ${p.label} (${p.file}):\n\n\`\`\`\n${summary}\n\`\`\``;
  }
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 1024 ** 3)} GB, Node ${process.version}`;
  const text = `${md}\n\n${machine}; total ${((Date.now() - started) / 1000).toFixed(0)} s\n`;
  process.stdout.write(text);
  writeFileSync(join(work, 'results.json'), JSON.stringify({ machine, rows, loopLag: lags, http, cli, multi }, null, 2));
  if (values.markdown) writeFileSync(values.markdown, text);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
