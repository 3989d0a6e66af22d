import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** `ferry` from the TypeScript sources (through tsx), as `node ... <args>`. */
export const BIN = ['--import', 'tsx', join(ROOT, 'test/support/ferry-bin.ts')];

/** A port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  out: () => string;
  exited: Promise<number | null>;
}

/** The built CLI (`npm run build`), as `npm start` runs it: starts faster than through tsx. */
export const BUILT_BIN = [join(ROOT, 'bin/ferry.js')];

/** `ferry serve` as a user would run it, in its own process; resolves once it listens. */
export async function startServer(env: Record<string, string>, bin: readonly string[] = BIN, timeoutMs = 60_000): Promise<Proc> {
  const child = spawn(process.execPath, [...bin, 'serve'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = Date.now() + timeoutMs;
  while (!/listening on http/.test(out)) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${out}`);
    if (Date.now() > until) throw new Error(`the server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, out: () => out, exited };
}

/**
 * `ferry serve` as the suites start it: on 127.0.0.1 at a port of its
 * choosing, on SQLite in `dataDir` (whatever FERRY_DATABASE_URL the test
 * run has), `adminKey` for its first admin, no demo data, warnings only, 5 s
 * of shutdown grace; `env` on top. Resolves with the process and its base URL.
 */
export async function startTestServer(
  dataDir: string,
  adminKey: string,
  env: Record<string, string> = {},
  bin: readonly string[] = BIN,
): Promise<{ proc: Proc; base: string }> {
  const proc = await startServer(
    {
      FERRY_DATA_DIR: dataDir,
      FERRY_HOST: '127.0.0.1',
      FERRY_PORT: '0',
      FERRY_ADMIN_API_KEY: adminKey,
      FERRY_DEMO: '0',
      FERRY_DATABASE_URL: '',
      FERRY_LOG_LEVEL: 'warn',
      FERRY_SHUTDOWN_GRACE: '5',
      ...env,
    },
    bin,
  );
  return { proc, base: /listening on (http:\/\/\S+) /.exec(proc.out())![1]! };
}

/** SIGTERM, then SIGKILL after 30 s; resolves to the exit code. */
export async function stopServer(p: Proc): Promise<number | null> {
  if (p.child.exitCode !== null) return p.child.exitCode;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  const code = await p.exited;
  clearTimeout(timer);
  return code;
}
