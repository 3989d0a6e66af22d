import type { Command } from 'commander';
import { UsageError, positiveInt } from '../args.js';
import type { Cli } from '../context.js';

/** `ferry demo` and `ferry serve`: the commands that run here by nature, never against --server. */
export function registerLocalCommands(program: Command, cli: Cli): void {
  program
    .command('demo')
    .description('build development, testing and production environments and promote a package end to end, explaining each step')
    .action(async () => {
      if (cli.serverUrl()) throw new UsageError('demo runs on a local data directory; a server seeds the demo environments itself at its first start');
      const cfg = await cli.localConfig();
      await cli.warnIfServed(cfg);
      const { runDemo } = await import('../demo.js');
      cli.exitCode = await runDemo(cfg, { out: cli.out, json: cli.json() });
    });

  program
    .command('serve')
    .description('start the Ferry server: native REST API under /api/v1, OpenAPI at /docs (env FERRY_HOST, FERRY_PORT, FERRY_DEMO, FERRY_ADMIN_API_KEY...)')
    .option('--host <host>', 'address to listen on (env FERRY_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (env FERRY_PORT, default 8080; 0 picks a free one)')
    .option('--no-demo', 'do not seed the demo environments on a fresh data directory (env FERRY_DEMO=0)')
    .action(async (o: { host?: string; port?: string; demo: boolean }) => {
      if (cli.serverUrl()) throw new UsageError('serve starts a server here; it does not take --server');
      // Loaded on demand: the other commands never pay for Fastify.
      const { serve } = await import('../../server/start.js');
      const { serverConfigFromEnv } = await import('../../server/config.js');
      const g = cli.globals;
      const cfg = serverConfigFromEnv({
        dataDir: g.dataDir,
        databaseUrl: g.databaseUrl,
        catalogPath: g.catalog,
        host: o.host,
        port: o.port !== undefined ? positiveInt(o.port, '--port', true) : undefined,
        ...(o.demo === false ? { demo: false } : {}),
      });
      cli.exitCode = await serve(cfg);
    });
}
