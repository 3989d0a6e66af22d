import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, type Option } from 'commander';
import { FerryError } from '../core/errors.js';
import { printable as show, printableJson } from '../core/printable.js';
import { UsageError } from './args.js';
import { Cli, type GlobalOptions, type Io } from './context.js';
import { useColors } from './format.js';
import { registerBundleCommands } from './commands/bundles.js';
import { registerEnvCommands } from './commands/env.js';
import { registerLocalCommands } from './commands/local.js';
import { registerObjectCommands } from './commands/objects.js';
import { registerPackageCommands } from './commands/packages.js';
import { registerPlanCommands } from './commands/plans.js';
import { registerSyncCommands } from './commands/sync.js';
import { registerVerifyCommand } from './commands/verify.js';

export type { Io } from './context.js';
export { parseOverrides } from './args.js';

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: !!process.stderr.isTTY,
  colors: !!process.stdout.isTTY,
};

/** package.json's version; src/cli and dist/cli are both two levels below it. */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The `ferry` command. Returns the exit code: 0 success, 1 a refused
 * operation (one-line reason on stderr), 2 bad usage.
 *
 * Each noun's commands live in ./commands/; they load the engine, the HTTP
 * client and the progress bars on first use (see Cli), so a command pays
 * only for what it runs.
 */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const cli = new Cli(io);
  useColors(cli.colors);
  const program = new Command();
  program
    .name('ferry')
    .description('Move configuration between environments: assemble a package, preview the plan, install atomically, roll back.')
    .version(version(), '-V, --version', 'print the version of ferry')
    .option('--data-dir <dir>', 'data directory for the embedded SQLite store (env FERRY_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL instead (env FERRY_DATABASE_URL)')
    .option('--catalog <file>', 'type catalog JSON replacing or extending the default (env FERRY_CATALOG)')
    .option('--json', 'machine-readable JSON output')
    .option('--server <url>', 'run the command against a Ferry server over HTTP instead of a local data directory (env FERRY_SERVER)')
    .option('--api-key <key>', 'API key for --server (env FERRY_API_KEY)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Every subcommand inherits these: its help lists the global options too, required options are marked.
    .configureHelp({
      showGlobalOptions: true,
      // commander checks mandatory options but its help does not say which they are.
      optionDescription(this: Help, option: Option): string {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .configureOutput({ writeOut: (s) => cli.out(s.trimEnd()), writeErr: (s) => cli.err(s.trimEnd()) })
    .hook('preAction', (_this, cmd) => {
      cli.globals = cmd.optsWithGlobals<GlobalOptions>();
    });

  registerEnvCommands(program, cli);
  registerObjectCommands(program, cli);
  registerPackageCommands(program, cli);
  registerPlanCommands(program, cli);
  registerBundleCommands(program, cli);
  registerSyncCommands(program, cli);
  registerVerifyCommand(program, cli);
  registerLocalCommands(program, cli);

  try {
    // `ferry` alone: the usage, on stderr (nothing was asked), and exit 2 as for any bad usage.
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync(argv);
    return cli.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end in success; the usage commander prints for `ferry env` (no subcommand) is bad usage.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
      return 2;
    }
    if (e instanceof UsageError) {
      cli.err(`ferry: ${show(e.message)}`);
      return 2;
    }
    if (e instanceof FerryError) {
      if (cli.json()) cli.out(printableJson(JSON.stringify({ error: { code: e.code, message: e.message } })));
      cli.err(`ferry: ${show(e.message)}`);
      return 1;
    }
    cli.err(`ferry: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  } finally {
    await cli.close();
  }
}
