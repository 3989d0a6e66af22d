/**
 * The contract-test harness every API face's suite uses: start a Ferry server
 * (in this process on each test database, and as a real `ferry serve`
 * process), set it up through the native API (users, environments, objects),
 * then drive the face only through its own HTTP routes with `fetch`.
 *
 * @example
 * eachServer('promotion', (server) => {
 *   it('lists packages', async () => {
 *     const s = server();
 *     const key = await s.user('pat', { '100000001': 'promoter' });
 *     const r = await s.http('GET', '/environment-promotion/api/v1/packages', { headers: { apikey: key } });
 *     assert.equal(r.status, 200);
 *   });
 * });
 */
import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppConfig, BuildAppOptions } from '../../src/server/app.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';
import { DIALECTS, openTestEngine, type DialectName } from '../support/engines.js';
import { startTestServer, stopServer } from '../support/process.js';
import { request, type HttpOptions, type HttpRes } from '../support/http.js';

export type { HttpOptions, HttpRes };

export { ADMIN_KEY };

export type ServerMode = { kind: 'in-process'; db: DialectName } | { kind: 'process' };

export interface DialectServer {
  /** e.g. `in process, sqlite` or `ferry serve process`. */
  label: string;
  /** `http://127.0.0.1:<port>` */
  base: string;
  adminKey: string;
  /** One HTTP request to the server, as any client would send it. */
  http(method: string, path: string, opts?: HttpOptions): Promise<HttpRes>;
  /** A native API call as the server admin; throws unless 2xx. */
  native(method: string, path: string, body?: unknown): Promise<any>;
  /** Create a user with roles per environment (and a password) and return an API key of theirs. */
  user(username: string, roles: Record<string, string>, opts?: { password?: string; admin?: boolean }): Promise<string>;
  environment(env: { id: string; name: string; tier: string; hosts?: string[]; cloneFrom?: string }): Promise<any>;
  /** Upsert objects (`{type, id, name, fields}`) into an environment. */
  objects(envId: string, objects: readonly unknown[]): Promise<void>;
  /** Poll a native operation until it ends. */
  waitOp(id: string, timeoutMs?: number): Promise<any>;
}

/** The modes a suite runs in: in process on every test database, and one real server process (SQLite). */
export function defaultModes(): ServerMode[] {
  return [...DIALECTS.map((db): ServerMode => ({ kind: 'in-process', db })), { kind: 'process' }];
}

function wrap(label: string, base: string): DialectServer {
  const http = (method: string, path: string, opts?: HttpOptions) => request(base, method, path, opts);
  const native = async (method: string, path: string, body?: unknown) => {
    const r = await http(method, `/api/v1${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, ...(body !== undefined ? { json: body } : {}) });
    if (r.status >= 300) throw new Error(`${method} /api/v1${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  return {
    label,
    base,
    adminKey: ADMIN_KEY,
    http,
    native,
    async user(username, roles, opts = {}) {
      await native('POST', '/users', { username, roles, admin: !!opts.admin, ...(opts.password ? { password: opts.password } : {}) });
      return ((await native('POST', '/api-keys', { username, name: 'contract test' })) as { key: string }).key;
    },
    environment: (env) => native('POST', '/environments', env),
    async objects(envId, objects) {
      await native('POST', `/environments/${encodeURIComponent(envId)}/objects`, objects);
    },
    async waitOp(id, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const op = await native('GET', `/operations/${id}`);
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(op.status)) return op;
        if (Date.now() > until) throw new Error(`operation ${id} still ${op.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

export interface ServerOptions {
  /** Environment of a `ferry serve` process. */
  env?: Record<string, string>;
  dialects?: BuildAppOptions['dialects'];
  /** A catalog file the server loads (FERRY_CATALOG), e.g. a product's from catalogs/. */
  catalog?: string;
  /** Settings of an in-process server (e.g. a short file retention). */
  config?: Partial<AppConfig>;
}

/** A running server of one mode, and how to stop it. */
export async function startDialectServer(
  mode: ServerMode,
  opts: ServerOptions = {},
): Promise<{
  server: DialectServer;
  stop(): Promise<void>;
  /** The app of an in-process server, for state a test must set directly. */ app?: FastifyInstance;
}> {
  if (mode.kind === 'in-process') {
    // A catalog file is the engine's: open one with it (the server then leaves it to us to close).
    const engine = opts.catalog ? await openTestEngine(mode.db, undefined, opts.catalog) : undefined;
    const t: TestServer = await openTestServer(mode.db, {
      ...(opts.dialects ? { dialects: opts.dialects } : {}),
      ...(engine ? { engine } : {}),
      ...(opts.config ? { config: opts.config } : {}),
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    return {
      server: wrap(`in process, ${mode.db}`, `http://127.0.0.1:${port}`),
      async stop() {
        await t.cleanup();
        await engine?.cleanup();
      },
      app: t.app,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-dialect-'));
  const { proc, base } = await startTestServer(join(dir, 'data'), ADMIN_KEY, { ...(opts.catalog ? { FERRY_CATALOG: opts.catalog } : {}), ...opts.env });
  return {
    server: wrap('ferry serve process', base),
    async stop() {
      await stopServer(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Run a face's contract suite once per server mode (Hono's `runTest({ newRouter })`):
 * each mode gets a fresh server in `before` and loses it in `after`.
 */
export function eachServer(
  title: string,
  suite: (server: () => DialectServer) => void,
  modes: ServerMode[] = defaultModes(),
  opts: Pick<ServerOptions, 'catalog' | 'env'> = {},
): void {
  for (const mode of modes) {
    const label = mode.kind === 'in-process' ? `in process, ${mode.db}` : 'ferry serve process';
    describe(`${title} [${label}]`, () => {
      let running: Awaited<ReturnType<typeof startDialectServer>> | undefined;
      before(async () => {
        running = await startDialectServer(mode, opts);
      });
      after(async () => {
        await running?.stop();
      });
      suite(() => {
        if (!running) throw new Error('the server did not start');
        return running.server;
      });
    });
  }
}
