import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openEngine } from '../../src/engine/open.js';
import type { Engine } from '../../src/engine/engine.js';
import { bossSchemaFor } from '../../src/ops/pgboss-runner.js';
import { DIALECTS, PG_URL, type DialectName } from './dialects.js';

export { DIALECTS, PG_URL, type DialectName };

export interface TestEngine {
  engine: Engine;
  /** Close the engine and drop its data (SQLite directory or PostgreSQL schema). */
  cleanup(): Promise<void>;
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
}

/**
 * A fresh engine on its own SQLite file or PostgreSQL schema (pg-boss
 * test/hooks.ts). `offload`: with the worker thread a server runs the long
 * use cases in (src/engine/offload.ts).
 */
export async function openTestEngine(
  dialect: DialectName,
  publicUrl = 'http://ferry.test',
  catalogPath?: string,
  opts: { offload?: boolean } = {},
): Promise<TestEngine> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-test-'));
  if (dialect === 'sqlite') {
    const engine = await openEngine({ dataDir, publicUrl, catalogPath }, opts);
    return {
      engine,
      dataDir,
      cleanup: async () => {
        await engine.offload?.close();
        await engine.store.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const schema = `ferry_test_${randomBytes(6).toString('hex')}`;
  const engine = await openEngine({ dataDir, databaseUrl: PG_URL, databaseSchema: schema, publicUrl, catalogPath }, opts);
  return {
    engine,
    dataDir,
    databaseUrl: PG_URL,
    schema,
    cleanup: async () => {
      await engine.offload?.close();
      await engine.store.close();
      await dropTestSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops a test's PostgreSQL schema and, with it, pg-boss's (when a server on this schema delivered operations through it). */
export async function dropTestSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${bossSchemaFor(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
