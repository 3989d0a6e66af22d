import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { FerryError } from '../core/errors.js';
import { openEngine } from '../engine/open.js';
import type { Engine } from '../engine/engine.js';
import { seedDemo, DEMO_ENVIRONMENTS } from '../engine/demo-seed.js';
import { markDataDir } from '../engine/server-marker.js';
import { buildApp } from './app.js';
import { serverConfigFromEnv, type ServerConfig } from './config.js';

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Graceful stop: no new operations, running ones finish (or are stopped after the grace), then the database closes. */
  close(): Promise<void>;
}

/**
 * Open the engine (migrations run), prepare a fresh data directory (first
 * admin, demo environments), and listen. On a fresh directory the admin's
 * API key is FERRY_ADMIN_API_KEY, or generated and written to `out` once:
 * it is stored hashed, so it cannot be shown again.
 */
export async function startServer(config: ServerConfig, out: (line: string) => void = (s) => process.stdout.write(s + '\n')): Promise<RunningServer> {
  const engine = await openEngine(config, { offload: true });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({ engine, config, logger: { level: config.logLevel }, processMetrics: true });
    const first = await app.ferry.auth.ensureFirstAdmin({ apiKey: config.adminApiKey, password: config.adminPassword });
    if (first.created) {
      out(`Ferry: first start in ${engine.store.location}. Created the server admin "${first.username}".`);
      out(first.generated ? `Ferry: admin API key (shown once, keep it): ${first.key}` : `Ferry: its API key is the one in FERRY_ADMIN_API_KEY.`);
      if (config.adminPassword) out(`Ferry: "${first.username}" can also log in with the password in FERRY_ADMIN_PASSWORD.`);
      if (config.demo && (await engine.listEnvironments()).length === 0) {
        await seedDemo(engine);
        out(`Ferry: seeded the demo environments ${Object.values(DEMO_ENVIRONMENTS).join(', ')} (development, testing, production); FERRY_DEMO=0 skips this.`);
      }
    } else if (config.adminApiKey) {
      app.log.info('FERRY_ADMIN_API_KEY is only used at the first start; this data directory already has users');
    }
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE')
        throw new FerryError('PORT_IN_USE', 500, `${config.host}:${config.port} is already in use (another server?); set FERRY_PORT or --port`);
      if (code === 'EACCES') throw new FerryError('PORT_DENIED', 500, `not allowed to listen on ${config.host}:${config.port}; use a port above 1024`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
        throw new FerryError('BAD_HOST', 500, `cannot listen on ${config.host}: no such local address (FERRY_HOST)`);
      throw e;
    }
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Tells a CLI run on the same data directory that this server holds it (src/engine/server-marker.ts).
    const unmark = config.databaseUrl
      ? async () => {}
      : await markDataDir(config.dataDir, url).catch((e: unknown) => {
          app?.log.warn({ err: e }, 'could not mark the data directory as held by this server');
          return async () => {};
        });
    // Said once the marker is written: whoever waits for this line finds it.
    out(`Ferry: listening on ${url} (API ${url}/api/v1, docs ${url}/docs)`);
    const running = app;
    return {
      app: running,
      engine,
      url,
      close: async () => {
        // Drain operations while the API still answers (clients can follow
        // them to the end and get 503 SHUTTING_DOWN for new ones), then close.
        await running.ferry.runner.stop({ graceMs: config.shutdownGraceMs });
        await running.close();
        await engine.offload?.close();
        await engine.store.close();
        await unmark();
      },
    };
  } catch (e) {
    await app?.close().catch(() => {});
    await engine.offload?.close().catch(() => {});
    await engine.store.close().catch(() => {});
    throw e;
  }
}

/**
 * `ferry serve` / `npm start`: run until SIGTERM or SIGINT, then shut down
 * gracefully. Resolves with the exit code.
 */
export async function serve(config: ServerConfig): Promise<number> {
  const server = await startServer(config);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  server.app.log.info({ signal }, 'shutting down: no new operations; running ones get the grace period');
  // A second signal, or a shutdown stuck past the grace, ends the process anyway.
  const force = setTimeout(() => {
    server.app.log.error('shutdown took too long; exiting');
    process.exit(1);
  }, config.shutdownGraceMs + 15_000);
  force.unref();
  process.once(signal, () => process.exit(1));
  try {
    await server.close();
  } catch (e) {
    server.app.log.error({ err: e }, 'error while shutting down');
    return 1;
  }
  server.app.log.info('stopped');
  return 0;
}

// `node src/server/start.ts` (via tsx) or `node dist/server/start.js` starts a server too.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve(serverConfigFromEnv()).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`ferry: cannot start the server: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
