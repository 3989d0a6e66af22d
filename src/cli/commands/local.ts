import type { Command } from 'commander';
import { UsageError, positiveInt } from '../args.js';
import type { Cli } from '../context.js';

/** `ferry demo`, `ferry serve` and `ferry db copy`: the commands that run here by nature, never against --server. */
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

  program
    .command('db')
    .description('the database itself')
    .command('copy')
    .description(
      'copy an embedded installation (SQLite) into an empty PostgreSQL database, keeping every id, package, history entry, ID map, restore point, file, user and key',
    )
    .requiredOption('--from <file>', 'the embedded ferry.sqlite, or the data directory holding it')
    .requiredOption('--to <url>', 'postgres://... (an empty database or schema; it is created and migrated)')
    .option('--schema <name>', 'PostgreSQL schema (env FERRY_DATABASE_SCHEMA, default public)')
    .option('--from-files <dir>', "the embedded installation's bundles (default: files beside the SQLite file)")
    .option('--files-dir <dir>', 'put the bundles in this directory the server processes share (FERRY_FILES_DIR) instead of the database')
    .action(async (o: { from: string; to: string; schema?: string; fromFiles?: string; filesDir?: string }) => {
      if (cli.serverUrl()) throw new UsageError('db copy works on the databases themselves; it does not take --server');
      const { copyDatabase } = await import('../../store/copy.js');
      const r = await copyDatabase({
        from: o.from,
        to: o.to,
        schema: o.schema ?? (process.env.FERRY_DATABASE_SCHEMA || undefined),
        fromFilesDir: o.fromFiles,
        toFilesDir: o.filesDir,
        onProgress: (line) => {
          if (!cli.json()) cli.err(line);
        },
      });
      const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
      cli.print(
        `copied ${rows} rows in ${Object.keys(r.tables).length} tables and ${r.files} files into schema ${r.schema} of ${o.to.replace(/:[^:@/]*@/, ':***@')}` +
          (r.missingFiles.length ? `; left out ${r.missingFiles.length} files whose bytes were gone` : ''),
        r,
      );
    });
}
