import { RecentAnswers } from './recent-answers.js';
import { parseNdjson } from '../engine/validate-input.js';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { LazyChildLogger } from './lazy-logger.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Engine } from '../engine/engine.js';
import { AuthService } from '../engine/auth.js';
import { LOCK_SWEEP_MS, releaseStaleLocks } from '../engine/locks.js';
import { endUnqueuedDuplications } from '../engine/duplication-work.js';
import type { FileStore } from '../store/file-store.js';
import { openFileStore } from '../store/database-file-store.js';
import { OperationsStore } from '../store/operations-store.js';
import { EmbeddedWorker, type EmbeddedWorkerOptions } from '../ops/embedded-worker.js';
import { engineHandlers } from '../ops/handlers.js';
import { PgBossRunner } from '../ops/pgboss-runner.js';
import type { OperationRunner } from '../ops/types.js';
import { Access, registerAuth } from './auth.js';
import { registerErrorHandlers, sendError, toErrorResponse } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { registerValidation } from './validation.js';
import { registerJsonParser } from './json-body.js';
import { registerLoginThrottle, type LoginThrottle } from './login-throttle.js';
import { printableLogStream, redactUrl, stdoutLogStream } from './redact.js';
import { registerSecurityHeaders } from './security-headers.js';
import { documentedServer, ownOrigins, registerCors } from './origins.js';
import { documentRoute } from './openapi-examples.js';
import { DEFAULT_FILE_RETENTION_MS } from './config.js';
import { VERSION } from './version.js';
import { systemRoutes } from './routes/system.js';
import { environmentRoutes } from './routes/environments.js';
import { lockRoutes } from './routes/locks.js';
import { objectRoutes } from './routes/objects.js';
import { packageRoutes } from './routes/packages.js';
import { installationRoutes } from './routes/installations.js';
import { bundleRoutes } from './routes/bundles.js';
import { operationRoutes } from './routes/operations.js';
import { userRoutes } from './routes/users.js';
import { auditRoutes } from './routes/audit.js';
import { syncRoutes } from './routes/sync.js';
import { DIALECTS, type DialectSpec } from './dialects/index.js';
import { mountDialect } from './dialects/mount.js';

/** Settings of one app instance (the server reads them from the environment, tests pass them). */
export interface AppConfig {
  /** Where bundles are stored (in the database: where they are written before they are committed). */
  filesDir: string;
  /** Keep bundles in the database, in chunks (PostgreSQL without FERRY_FILES_DIR); default: in filesDir. */
  filesInDatabase?: boolean;
  /** JSON / NDJSON request bodies, bytes. */
  bodyLimit: number;
  /** Bundle uploads, bytes. */
  uploadLimit: number;
  /** How long the file store keeps a bundle (0: until deleted; default 7 days, as FERRY_FILE_RETENTION). */
  fileRetentionMs?: number;
  /** The name operations record as the server that ran them (FERRY_SERVER_NAME; default the host name). */
  serverName?: string;
  sessionTtlMs: number;
  /** Operations run at once by this process; 0 = none (API only). */
  workers: number;
  /**
   * Deliver operations through pg-boss on this PostgreSQL database (several
   * server processes share the work); unset: the embedded worker.
   */
  pgBoss?: { connectionString: string; schema: string };
  /** A running operation whose process has not beaten for this long (another host) is taken as dead (FERRY_OPERATION_STALE; default 30 s). */
  operationStaleMs?: number;
  shutdownGraceMs: number;
  /** Failed logins per user name and per address within `loginWindowMs` before 429 (FERRY_LOGIN_RATE, default 10; 0 = no limit). */
  loginRate?: number;
  /** FERRY_LOGIN_WINDOW, default one minute. */
  loginWindowMs?: number;
  /** FERRY_PUBLIC_URL was given: the OpenAPI document names it rather than the listening address. */
  publicUrlSet?: boolean;
}

export interface BuildAppOptions {
  engine: Engine;
  config: AppConfig;
  /** pino options, or false for silence (tests). */
  logger?: false | { level: string; stream?: NodeJS.WritableStream };
  /** Replace the embedded worker (a pg-boss runner later). */
  runner?: OperationRunner;
  /** Tuning of the embedded worker (tests use short intervals). */
  worker?: Partial<Omit<EmbeddedWorkerOptions, 'store' | 'handlers'>>;
  /** Process metrics (CPU, memory, event loop) in /metrics; off in tests. */
  processMetrics?: boolean;
  /** The API faces to mount beside the native API (default: all of src/server/dialects). */
  dialects?: readonly DialectSpec[];
}

/** What every route of the server shares. */
export interface ServerContext {
  engine: Engine;
  auth: AuthService;
  runner: OperationRunner;
  operations: OperationsStore;
  files: FileStore;
  metrics: ServerMetrics;
  config: AppConfig;
  /** Every login route counts its failures here (per user name and per address). */
  loginThrottle: LoginThrottle;
  /** Status reads' answers, kept briefly while nothing is written (recent-answers.ts). */
  answers: RecentAnswers;
  /** The caller's rights for this request (routes that need a principal only). */
  access(request: FastifyRequest): Access;
}

declare module 'fastify' {
  interface FastifyInstance {
    ferry: ServerContext;
  }
}

/** Where processes share the database, a duplication record without its operation this old was left by a dead one (the two writes are milliseconds apart). */
const UNQUEUED_AGE_MS = 60_000;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Build the Fastify app of a Ferry server around an engine: auth, the native
 * API under /api/v1, OpenAPI at /docs, /metrics, operations. It is not
 * listening: tests drive it with `app.inject`, `start.ts` calls `listen`.
 * Other API faces (dialects) are registered on the returned app as plugins
 * before it is ready; they get `app.ferry` and `request.principal`.
 *
 * @example
 * const app = await buildApp({ engine, config });
 * const res = await app.inject({ method: 'GET', url: '/api/v1/health' });
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { engine, config } = options;
  const dialects = options.dialects ?? DIALECTS;
  // Security headers and the request id, set by one onRequest hook (and by frameworkErrors, which runs before hooks).
  const headers: { stamp?: ReturnType<typeof registerSecurityHeaders> } = {};
  const app = Fastify({
    logger: options.logger
      ? {
          level: options.logger.level,
          // User values (names, messages) are logged with their control characters escaped.
          stream: printableLogStream(options.logger.stream ?? stdoutLogStream()),
          // Credentials travel in headers: never log them, nor one a URL carries.
          redact: ['req.headers.authorization', 'req.headers.apikey', 'req.headers.sessionid', 'req.headers["x-mstr-authtoken"]', 'req.headers.cookie'],
          serializers: {
            req: (req: { method?: string; url?: string; id?: string }) => ({ method: req.method, url: redactUrl(req.url ?? ''), reqId: req.id }),
          },
        }
      : false,
    // One access-log line per request, written in onResponse below.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is made when something logs through it (the access line does not).
    childLoggerFactory: (logger, bindings, opts) => new LazyChildLogger(logger, bindings, opts),
    bodyLimit: config.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    frameworkErrors: (error, request, reply) => {
      headers.stamp?.(request, reply);
      sendError(error, request, reply);
    },
    // Requests still arriving on open connections while closing are served
    // normally (in our error shape), not cut off with Fastify's own 503 body.
    return503OnClosing: false,
  });

  const auth = new AuthService(engine, { sessionTtlMs: config.sessionTtlMs });
  const operations = new OperationsStore(engine.store);
  const files = openFileStore(engine.store, config.filesDir, {
    retentionMs: config.fileRetentionMs ?? DEFAULT_FILE_RETENTION_MS,
    inDatabase: config.filesInDatabase,
  });
  const metrics = new ServerMetrics(operations, { processMetrics: options.processMetrics });
  const workerOptions: EmbeddedWorkerOptions = {
    store: engine.store,
    handlers: engineHandlers(engine, files),
    concurrency: config.workers,
    ...(config.serverName ? { server: config.serverName } : {}),
    ...(config.operationStaleMs ? { staleMs: config.operationStaleMs } : {}),
    onError: (e, where) => app.log.error({ err: e, where }, 'operations worker error'),
    ...options.worker,
  };
  // One interface, two deliveries: the engine and the routes never know which.
  const runner: OperationRunner =
    options.runner ??
    (config.pgBoss
      ? new PgBossRunner({ ...workerOptions, connectionString: config.pgBoss.connectionString, bossSchema: config.pgBoss.schema })
      : new EmbeddedWorker(workerOptions));
  runner.on('finished', (op) => {
    metrics.observeOperation(op);
    app.log.info({ operation: op.id, kind: op.kind, status: op.status, environment: op.environmentId }, 'operation finished');
  });

  const loginThrottle = await registerLoginThrottle(app, {
    max: config.loginRate ?? 10,
    windowMs: config.loginWindowMs ?? 60_000,
    // Several processes on one database count failures together.
    ...(config.pgBoss ? { shared: engine.store } : {}),
  });
  headers.stamp = registerSecurityHeaders(app, () => ownOrigins(app, engine.publicUrl));
  registerCors(app, engine.publicUrl);

  app.decorate('ferry', {
    engine,
    auth,
    runner,
    operations,
    files,
    metrics,
    config,
    loginThrottle,
    answers: new RecentAnswers(() => engine.store.writes?.now),
    access: (request: FastifyRequest) =>
      new Access(engine, request.principal!, request.ip ?? null, (envId) => {
        request.auditEnvId = envId;
      }),
  } satisfies ServerContext);
  app.decorateRequest('errorCode', null);

  registerValidation(app);
  // Responses are plain JSON.stringify: response schemas document, they never filter.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerErrorHandlers(app);
  registerAuth(app, auth);

  registerJsonParser(app);
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseNdjson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Bundles arrive as raw bytes; the upload route streams them to disk itself (with its own limit).
  app.addContentTypeParser(['application/octet-stream', 'application/gzip', 'application/x-gzip', 'application/vnd.ferry.bundle'], (_req, payload, done) =>
    done(null, payload),
  );

  // A callback hook: no promise per request; a refused change waits for its audit entry.
  app.addHook('onResponse', (request, reply, done) => {
    // Read once: Fastify builds routeOptions anew at every access.
    const { url, config } = request.routeOptions;
    const route = url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.observeRequest(request.method, route, reply.statusCode, seconds);
    // The server's logger with the request id, as request.log would write it, without making request.log
    // (so a route's logLevel, which no route sets, would not quieten its access lines).
    app.log.info(
      {
        reqId: request.id,
        method: request.method,
        route,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        user: request.principal?.username ?? null,
        code: request.errorCode ?? undefined,
      },
      'request',
    );
    // Successful changes are audited by the engine; refused ones here, so
    // the log also shows who tried what and why it was refused.
    if (MUTATING.has(request.method) && reply.statusCode >= 400 && url && config?.public !== true) {
      // What the caller typed is recorded as text, minus NULs (refused above, and unstorable in PostgreSQL).
      const clean = (v: string | null | undefined) => (v == null ? null : v.replaceAll('\u0000', '').slice(0, 500));
      const envId = clean(request.auditEnvId ?? (request.params as { envId?: string } | undefined)?.envId);
      engine.store.audit
        .append({
          actor: request.principal?.username ?? null,
          address: request.ip ?? null,
          action: `${request.method} ${url}`,
          envId,
          subject: clean(request.url.split('?')[0]),
          result: `refused ${reply.statusCode} ${request.errorCode ?? ''}`.trim(),
          detail: { requestId: request.id },
        })
        .catch((e: unknown) => request.log.error({ err: e }, 'audit write failed'))
        .finally(done);
      return;
    }
    done();
  });

  await app.register(swagger, {
    transform: documentRoute,
    transformObject: (doc) =>
      'openapiObject' in doc ? { ...doc.openapiObject, servers: [{ url: documentedServer(app, engine.publicUrl, !!config.publicUrlSet) }] } : doc.swaggerObject,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Ferry native API',
        version: VERSION,
        description:
          'Move configuration objects between environments: assemble a package, prepare a plan (dry run), install atomically, roll back. ' +
          'Send an API key as `Authorization: Bearer <key>` or `apikey: <key>`, or a session token from POST /api/v1/auth/login as `Authorization: Bearer <token>` or `sessionID: <token>`. ' +
          'Errors are `{"code","message"}`. Long actions return 202 with an operation; poll GET /api/v1/operations/{id}.',
      },
      // Replaced when the document is first built (the server listens by then): see transformObject.
      servers: [{ url: engine.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key or session token' },
          apikey: { type: 'apiKey', in: 'header', name: 'apikey' },
          sessionID: { type: 'apiKey', in: 'header', name: 'sessionID' },
        },
      },
      security: [{ bearer: [] }, { apikey: [] }, { sessionID: [] }],
      tags: [
        { name: 'system', description: 'Health, catalog, metrics' },
        { name: 'auth', description: 'Login, users, API keys' },
        { name: 'environments', description: 'Environments (tenants)' },
        { name: 'objects', description: 'Configuration objects of an environment' },
        { name: 'packages', description: 'Packages: assembled selections' },
        { name: 'installations', description: 'Plans (prepared installations), installs, rollbacks' },
        { name: 'bundles', description: 'Export, upload, download and import of .ferry bundles' },
        { name: 'operations', description: 'Asynchronous jobs' },
        { name: 'audit', description: 'Who changed what' },
        ...dialects.map((d) => ({ name: d.name, description: d.description })),
      ],
    },
  });
  // No validator badge: it is an image from validator.swagger.io, which the content security policy (rightly) blocks.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null } });

  await app.register(systemRoutes);
  await app.register(userRoutes, { prefix: '/api/v1' });
  await app.register(environmentRoutes, { prefix: '/api/v1' });
  await app.register(lockRoutes, { prefix: '/api/v1' });
  await app.register(objectRoutes, { prefix: '/api/v1' });
  await app.register(packageRoutes, { prefix: '/api/v1' });
  await app.register(installationRoutes, { prefix: '/api/v1' });
  await app.register(bundleRoutes, { prefix: '/api/v1' });
  await app.register(operationRoutes, { prefix: '/api/v1' });
  await app.register(auditRoutes, { prefix: '/api/v1' });
  await app.register(syncRoutes, { prefix: '/api/v1' });
  for (const dialect of dialects) await mountDialect(app, dialect);

  // Expired bundles are swept once a minute (and read as missing meanwhile, see FileStore.get).
  let sweep: NodeJS.Timeout | undefined;
  let lockSweep: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    // Before the worker starts: what a killed export or upload left half-written.
    const swept = await files.sweepPartials();
    if (swept.length) app.log.info({ files: swept.length }, 'removed partial files left by a process that stopped while writing them');
    // Install locks whose holder died (a kill during an install or a rollback), now and every LOCK_SWEEP_MS.
    const releaseStale = async () => {
      for (const l of await releaseStaleLocks(engine))
        app.log.warn({ environment: l.envId, holder: l.holder, purpose: l.purpose }, 'released an install lock whose holder is gone');
    };
    await releaseStale();
    // Duplications a killed process recorded but never queued, and restoration uploads no record took. On SQLite this is
    // the one server process, so everything written before it started is such; processes sharing PostgreSQL may be between
    // the two writes right now, so there only what is older than a minute, now and at every sweep.
    const endUnqueued = async (before: number) => {
      const ended = await endUnqueuedDuplications({ engine, files }, new Date(before).toISOString());
      if (ended.records.length || ended.files.length)
        app.log.warn(ended, 'ended duplications a stopped server never queued, removed uploads no restoration took');
    };
    await endUnqueued(config.pgBoss ? Date.now() - UNQUEUED_AGE_MS : Date.now());
    lockSweep = setInterval(() => {
      void releaseStale().catch((e: unknown) => app.log.error({ err: e }, 'install lock sweep failed'));
      if (config.pgBoss) void endUnqueued(Date.now() - UNQUEUED_AGE_MS).catch((e: unknown) => app.log.error({ err: e }, 'duplication sweep failed'));
    }, LOCK_SWEEP_MS).unref();
    await runner.start();
    if (files.retentionMs > 0) {
      sweep = setInterval(() => {
        files.removeExpired().catch((e: unknown) => app.log.error({ err: e }, 'file store sweep failed'));
      }, 60_000).unref();
    }
  });
  app.addHook('preClose', async () => {
    clearInterval(sweep);
    clearInterval(lockSweep);
    // Stop taking operations first; running ones get the grace period. (The
    // server's own shutdown drains them before calling close, so the API
    // keeps answering meanwhile; this covers every other way of closing.)
    await runner.stop({ graceMs: config.shutdownGraceMs });
    // Then in-flight requests get a few seconds; a client that stopped
    // reading a download must not keep the process alive.
    setTimeout(() => app.server.closeAllConnections(), 3000).unref();
  });
  return app;
}

export { toErrorResponse };
