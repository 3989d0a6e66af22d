/**
 * Which databases the tests run on, read from the environment only (no Ferry
 * import), so that the test runner (test/run.ts) can decide before any suite
 * loads.
 */
export type DialectName = 'sqlite' | 'postgres';

/** FERRY_TEST_DIALECTS=sqlite limits the run to SQLite. */
export const DIALECTS: DialectName[] = (process.env.FERRY_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is DialectName => s === 'sqlite' || s === 'postgres');

/**
 * The PostgreSQL server the tests use: FERRY_TEST_DATABASE_URL, by default the
 * machine's server. When nothing answers there, `npm test` (test/run.ts)
 * starts one of its own and sets this variable for the suites.
 */
export const PG_URL = process.env.FERRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
