/**
 * Read a V8 `.cpuprofile` (node --cpu-prof) and say where the time went:
 * self time by function, plus a few buckets that answer "what limits this
 * step" (time inside SQLite, garbage collection, gzip/hashing natives, idle).
 *
 * `node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]`
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  buckets: { name: string; ms: number }[];
  top: { name: string; selfMs: number }[];
}

const fileOf = (url: string) => url.split('/').pop() ?? url;

/**
 * Buckets by the function a sample is in (self time). better-sqlite3's
 * native `run`/`all`/`get`/`iterate` are SQLite doing the work; Kysely's
 * SQLite driver calls them too, and its commit shows as executeQuery.
 */
function bucketOf(f: CallFrame): string {
  const file = fileOf(f.url);
  if (f.functionName === '(garbage collector)') return 'garbage collection';
  if (f.functionName === '(idle)') return 'idle (waiting for I/O or the thread pool)';
  if (f.url === '' && ['run', 'all', 'get', 'iterate'].includes(f.functionName)) return 'SQLite (better-sqlite3 native)';
  if (file === 'sqlite-driver.js' && f.functionName === 'executeQuery') return 'SQLite (better-sqlite3 native)';
  if (f.url === '' && /Hash|digest|update|oneShotDigest/.test(f.functionName)) return 'SHA-256 (native)';
  if (/zlib/.test(file) || f.functionName === 'writeSync' || f.functionName === 'processChunkSync') return 'gzip (native)';
  if (file === 'index.js' && /stringif|strEscape/.test(f.functionName)) return 'canonical JSON (safe-stable-stringify)';
  if (f.url.includes('/kysely/')) return 'Kysely (building, compiling queries)';
  if (f.url.includes('/src/') || f.url.includes('/dist/')) return 'Ferry JavaScript';
  return 'other (Node internals, JSON.parse/stringify, ...)';
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const buckets = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    total += us;
    const b = bucketOf(f);
    buckets.set(b, (buckets.get(b) ?? 0) + us);
    const name = `${f.functionName || '(anonymous)'} ${f.url ? `${fileOf(f.url)}:${f.lineNumber + 1}` : '(native)'}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
  }
  const ms = (us: number) => Math.round(us / 1000);
  return {
    totalMs: ms(total),
    buckets: [...buckets].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: ms(us) })),
    top: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: ms(us) })),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const pct = (ms: number) => `${((100 * ms) / Math.max(1, s.totalMs)).toFixed(0)}%`;
  return [
    `sampled ${s.totalMs} ms`,
    ...s.buckets.map((b) => `  ${String(b.ms).padStart(6)} ms ${pct(b.ms).padStart(4)}  ${b.name}`),
    'top functions by self time:',
    ...s.top.map((t) => `  ${String(t.selfMs).padStart(6)} ms ${pct(t.selfMs).padStart(4)}  ${t.name}`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(formatSummary(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 15))));
}
