/**
 * Three processes started at the same instant on a brand-new PostgreSQL
 * schema (FERRY_DATABASE_SCHEMA), as a fleet comes up after a deploy: one
 * creates the schema and migrates, the others wait and find it done. Before
 * Connection.setup (src/store/dialect.ts) one of them failed on `CREATE
 * SCHEMA IF NOT EXISTS` (23505 on pg_namespace) or on the migrator's tables.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { migrationProvider } from '../../src/store/migrations.js';
import { POSTGRES } from '../../src/store/dialect.js';
import { DIALECTS, PG_URL } from '../support/engines.js';
import { ROOT } from '../support/process.js';

const PROCESSES = 3;
/** Engines each process opens at once (a server's offload thread opens a second one): more openers, more chances to meet the race. */
const OPENERS = 3;
const ROUNDS = 4;

interface Child {
  ready: Promise<void>;
  go: () => void;
  done: Promise<{ code: number | null; out: string }>;
}

function child(schema: string): Child {
  const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/store/open-on-schema.ts')], {
    cwd: ROOT,
    env: { ...process.env, FERRY_DATABASE_URL: PG_URL, FERRY_DATABASE_SCHEMA: schema, OPENERS: String(OPENERS) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) markReady();
  });
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => p.on('exit', (code) => resolve({ code, out })));
  void done.then(markReady);
  return { ready, go: () => p.stdin.end('go\n'), done };
}

describe(
  'processes starting at once on a new PostgreSQL schema',
  { skip: !DIALECTS.includes('postgres') && 'PostgreSQL is not in FERRY_TEST_DIALECTS' },
  () => {
    const schemas: string[] = [];
    after(async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      } finally {
        await client.end();
      }
    });

    it(`${PROCESSES} processes opening ${OPENERS} engines each, ${ROUNDS} fresh schemas: every process opens, the schema is migrated once, one signing key`, async () => {
      const known = Object.keys(await migrationProvider(POSTGRES).getMigrations()).sort();
      for (let round = 0; round < ROUNDS; round++) {
        const schema = `ferry_test_fresh_${randomBytes(5).toString('hex')}`;
        schemas.push(schema);
        const children = Array.from({ length: PROCESSES }, () => child(schema));
        // Each has loaded Ferry; then all are told to open at once.
        await Promise.all(children.map((c) => c.ready));
        for (const c of children) c.go();
        const results = await Promise.all(children.map((c) => c.done));
        for (const r of results) assert.equal(r.code, 0, `round ${round}: ${r.out}`);
        const fingerprints = new Set(results.flatMap((r) => [...r.out.matchAll(/opened (\S+)/g)].map((m) => m[1])));
        assert.equal(fingerprints.size, 1, `one signing key for all: ${[...fingerprints].join(', ')}`);
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        try {
          const { rows } = await client.query<{ name: string }>(`select name from ${schema}.kysely_migration order by name`);
          assert.deepEqual(
            rows.map((r) => r.name),
            known,
          );
        } finally {
          await client.end();
        }
      }
    });
  },
);
