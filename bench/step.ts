/**
 * One benchmark step in a process of its own, so that its peak RSS
 * (`process.resourceUsage().maxRSS`) belongs to that step alone and is not
 * polluted by what ran before. bench/run.ts starts one of these per step and
 * reads the single JSON line it prints on stdout.
 *
 * Only the step itself is timed: process start, module loading, opening the
 * store and running migrations are not.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { openEngine } from '../src/engine/open.js';
import { exportPackage, loadBundle } from '../src/engine/bundles.js';
import { sampleSelection } from '../src/engine/sample-data.js';
import { generateSource } from './gen.js';

export interface StepResult {
  step: string;
  /** Objects the step handled (entities of the package, objects generated). */
  count: number;
  ms: number;
  /** Peak RSS of this process, MB (includes the ~baseline of Node, tsx and the modules). */
  peakRssMb: number;
  /** RSS just before the step started, MB: the process's own baseline. */
  startRssMb: number;
  out: Record<string, unknown>;
}

const { values } = parseArgs({
  options: {
    step: { type: 'string' },
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    schema: { type: 'string' },
    objects: { type: 'string' },
    package: { type: 'string' },
    installation: { type: 'string' },
    file: { type: 'string' },
    env: { type: 'string' },
    /** Write a CPU profile of the step (only the step) to this file. */
    profile: { type: 'string' },
  },
});

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function main(): Promise<void> {
  const engine = await openEngine({
    dataDir: values['data-dir'] ?? '.bench/step',
    databaseUrl: values['database-url'],
    databaseSchema: values.schema,
    publicUrl: 'http://bench.ferry.test',
  });
  const N = Number(values.objects ?? 0);
  const out: Record<string, unknown> = {};
  let count = 0;
  let body: () => Promise<void>;
  let post: (() => Promise<void>) | undefined;
  switch (values.step) {
    case 'gen':
      body = async () => {
        count = await generateSource(engine, { objects: N });
      };
      break;
    case 'assemble': {
      const selection = sampleSelection({ objects: N });
      body = async () => {
        const pkg = await engine.createPackage({ sourceEnvId: 'source', name: `bench ${N}`, selection });
        if (pkg.status !== 'DRAFT') throw new Error(`assembly failed: ${pkg.assemblyError}`);
        count = pkg.entityCount;
        out.packageId = pkg.id;
      };
      // ACTIVE installs anywhere (003); not part of the timed assembly.
      post = async () => void (await engine.setPackageStatus(String(out.packageId), 'ACTIVE'));
      break;
    }
    case 'export':
      body = async () => {
        const r = await exportPackage(engine, values.package!, { file: values.file! });
        count = r.file!.count;
        out.bytes = r.file!.bytes;
      };
      break;
    case 'import':
      body = async () => {
        const pkg = await loadBundle(engine, values.file!);
        count = pkg.entityCount;
        out.packageId = pkg.id;
      };
      break;
    case 'prepare':
      body = async () => {
        const plan = await engine.prepare(values.package!, values.env!);
        count = plan.entries.length;
        out.installationId = plan.installation.id;
        out.summary = plan.installation.summary;
      };
      break;
    case 'install':
      body = async () => {
        const inst = await engine.install(values.installation!);
        count = (await engine.getPackage(inst.packageId)).entityCount;
      };
      break;
    case 'rollback':
      body = async () => {
        const inst = await engine.rollback(values.installation!);
        count = (await engine.getPackage(inst.packageId)).entityCount;
      };
      break;
    case 'target-empty':
      body = async () => {
        await engine.createEnvironment({ id: values.env!, name: 'Empty target', tier: 'production' });
      };
      break;
    case 'target-half':
      // A target that already holds half of the source objects (same ids, as
      // after a clone or an earlier promotion), a tenth of them edited there.
      body = async () => {
        let kept = 0;
        count = await generateSource(engine, {
          objects: N,
          envId: values.env!,
          tier: 'production',
          transform: (o, i) => {
            if (i % 2 === 1) return null;
            if (kept++ % 10 !== 0) return o;
            const field = 'description' in o.fields ? 'description' : 'notes';
            return { ...o, fields: { ...o.fields, [field]: `${JSON.stringify(o.fields[field] ?? '')} (edited in the target)` } };
          },
        });
      };
      break;
    default:
      throw new Error(`unknown step ${values.step}`);
  }
  // Settle what opening the store allocated, so startRss is the baseline.
  (globalThis as { gc?: () => void }).gc?.();
  const startRssMb = mb(process.memoryUsage().rss);
  const session = values.profile ? await startProfile() : undefined;
  const t0 = performance.now();
  await body();
  const ms = performance.now() - t0;
  if (session) await stopProfile(session, values.profile!);
  const peakRssMb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
  await post?.();
  await engine.store.close();
  const result: StepResult = { step: values.step, count, ms, peakRssMb, startRssMb, out };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session, file: string): Promise<void> {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
