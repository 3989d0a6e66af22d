import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp, type AppConfig, type BuildAppOptions } from '../../src/server/app.js';
import type { Operation } from '../../src/store/operations-store.js';
import { openTestEngine, type DialectName, type TestEngine } from './engines.js';
import { bossSchemaFor } from '../../src/ops/pgboss-runner.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface Res<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Record<string, unknown>;
}

export interface TestServer {
  app: FastifyInstance;
  t: TestEngine;
  /** One request as `key` (an API key, or null for none); JSON in, JSON out. */
  call<T = any>(key: string | null, method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<Res<T>>;
  /** Poll an operation until it ends. */
  waitOp(key: string, id: string, timeoutMs?: number): Promise<Operation>;
  /** Create a user with roles and return an API key for it. */
  user(username: string, roles: Record<string, string>, opts?: { admin?: boolean; password?: string }): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * The server in process (`app.inject`) on a fresh engine of one dialect,
 * with a first admin whose key is ADMIN_KEY. Short worker intervals keep
 * operation tests fast.
 */
export async function openTestServer(
  dialect: DialectName,
  opts: { config?: Partial<AppConfig>; worker?: BuildAppOptions['worker']; engine?: TestEngine; dialects?: BuildAppOptions['dialects'] } = {},
): Promise<TestServer> {
  const t = opts.engine ?? (await openTestEngine(dialect));
  const config: AppConfig = {
    filesDir: join(t.dataDir, 'files'),
    // As the server does: on PostgreSQL files live in the database unless a directory is named.
    filesInDatabase: dialect === 'postgres' && !opts.config?.filesDir,
    // And operations travel through pg-boss, in the test schema's own pg-boss schema (dropped with it).
    ...(t.databaseUrl ? { pgBoss: { connectionString: t.databaseUrl, schema: bossSchemaFor(t.schema) } } : {}),
    bodyLimit: 1024 * 1024,
    uploadLimit: 256 * 1024,
    sessionTtlMs: 3600_000,
    workers: 2,
    shutdownGraceMs: 5000,
    ...opts.config,
  };
  const app = await buildApp({
    engine: t.engine,
    config,
    logger: false,
    worker: { pollMs: 50, heartbeatMs: 100, staleMs: 2000, ...opts.worker },
    ...(opts.dialects ? { dialects: opts.dialects } : {}),
  });
  await app.ferry.auth.ensureFirstAdmin({ apiKey: ADMIN_KEY });
  await app.ready();

  const call: TestServer['call'] = async (key, method, url, body, headers = {}) => {
    const h: Record<string, string> = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    const res = await app.inject({
      method,
      url,
      headers: h,
      ...(body !== undefined ? { payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : (body as object) } : {}),
    });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, body: parsed as any, text: res.body, headers: res.headers };
  };

  return {
    app,
    t,
    call,
    async waitOp(key, id, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await call<Operation>(key, 'GET', `/api/v1/operations/${id}`);
        if (r.status !== 200) throw new Error(`GET operation ${id}: ${r.status} ${r.text}`);
        if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.body.status)) return r.body;
        if (Date.now() > until) throw new Error(`operation ${id} still ${r.body.status} after ${timeoutMs} ms`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    async user(username, roles, o = {}) {
      const u = await call(ADMIN_KEY, 'POST', '/api/v1/users', { username, roles, admin: !!o.admin, ...(o.password ? { password: o.password } : {}) });
      if (u.status !== 201) throw new Error(`create user ${username}: ${u.status} ${u.text}`);
      const k = await call(ADMIN_KEY, 'POST', '/api/v1/api-keys', { username, name: 'test' });
      if (k.status !== 201) throw new Error(`create key for ${username}: ${k.status} ${k.text}`);
      return k.body.key as string;
    },
    async cleanup() {
      await app.close();
      if (!opts.engine) await t.cleanup();
    },
  };
}

/** One operation of the server's OpenAPI document, as the suites that walk every route read it. */
export interface DocumentedRoute {
  method: string;
  path: string;
  params: { in: string; name: string; schema?: { type?: string } }[];
  /** It asks for no credential (`security: []`). */
  public: boolean;
  /** The JSON body's schema, when it takes one. */
  body?: { properties?: Record<string, unknown> };
}

/** Every route the server documents at /docs/json (the native API and every mounted face). */
export async function documentedRoutes(app: FastifyInstance): Promise<DocumentedRoute[]> {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, any>> }>();
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      params: (op.parameters ?? []) as DocumentedRoute['params'],
      public: Array.isArray(op.security) && op.security.length === 0,
      body: op.requestBody?.content?.['application/json']?.schema as DocumentedRoute['body'],
    })),
  );
}
