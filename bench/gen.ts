/**
 * `npm run bench:gen -- --objects N [--data-dir DIR] [--database-url URL] [--env ID] [--seed S]`
 *
 * The store is chosen as the CLI chooses it (flags, else FERRY_DATA_DIR /
 * FERRY_DATABASE_URL, else ./data); the environment (default `source`) is
 * created if missing, and loading into an existing one upserts.
 *
 * Builds a source environment from the sample generator (the default catalog:
 * templates with tasks, assignments and predecessors, groups with sub-groups,
 * categories with parameters, reports with filters and views, reference
 * cycles, ~400 bytes of fields per object), loading it through the engine in
 * batches, and reports how long that took. A script that reports figures, not
 * a test: nothing here fails because a machine is slow.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Engine } from '../src/engine/engine.js';
import { configFromEnv, openEngine } from '../src/engine/open.js';
import { generateSample } from '../src/engine/sample-data.js';
import type { FerryObject } from '../src/core/types.js';

/** Objects per loadObjects call: one transaction and one version bump each. */
export const LOAD_BATCH = 5000;

export interface GenerateOptions {
  objects: number;
  envId?: string;
  seed?: string;
  idPrefix?: string;
  tier?: string;
  /** Keep only some objects, or change them on the way in (the half-full target). */
  transform?: (o: FerryObject, i: number) => FerryObject | null;
}

/** Create `envId` (if missing) and load the sample into it in batches; returns the count written. */
export async function generateSource(engine: Engine, opts: GenerateOptions): Promise<number> {
  const envId = opts.envId ?? 'source';
  const existing = (await engine.listEnvironments()).find((e) => e.id === envId);
  if (!existing) await engine.createEnvironment({ id: envId, name: envId, tier: opts.tier ?? 'development' });
  let batch: FerryObject[] = [];
  let written = 0;
  let i = 0;
  for (const o of generateSample({ objects: opts.objects, seed: opts.seed, idPrefix: opts.idPrefix })) {
    const kept = opts.transform ? opts.transform(o, i) : o;
    i++;
    if (!kept) continue;
    batch.push(kept);
    if (batch.length >= LOAD_BATCH) {
      written += (await engine.loadObjects(envId, batch)).written;
      batch = [];
    }
  }
  if (batch.length) written += (await engine.loadObjects(envId, batch)).written;
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '10000' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      env: { type: 'string', default: 'source' },
      seed: { type: 'string' },
    },
  });
  const objects = Number(values.objects);
  if (!Number.isInteger(objects) || objects <= 0) throw new Error(`--objects must be a positive integer, not ${values.objects}`);
  // Same store selection as the CLI: flags, else FERRY_DATA_DIR / FERRY_DATABASE_URL, else ./data.
  const config = configFromEnv({ dataDir: values['data-dir'], databaseUrl: values['database-url'] });
  const engine = await openEngine(config);
  try {
    const t0 = performance.now();
    const written = await generateSource(engine, { objects, envId: values.env, seed: values.seed });
    const ms = performance.now() - t0;
    const rss = process.resourceUsage().maxRSS / 1024;
    console.log(
      `generated ${written} objects into environment ${values.env} (${engine.store.location}) in ${(ms / 1000).toFixed(2)} s: ` +
        `${Math.round(written / (ms / 1000))} objects/s, peak RSS ${rss.toFixed(0)} MB`,
    );
  } finally {
    await engine.store.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
