import { Option, type Command } from 'commander';
import { printable as show } from '../../core/printable.js';
import { parseParams, parseTargetOwned, UsageError } from '../args.js';
import type { Cli } from '../context.js';
import { formatEnvironments, formatLock } from '../format.js';

const TIERS = ['development', 'testing', 'preview', 'production'];

/** `ferry env create|list|show|set`: environments. */
export function registerEnvCommands(program: Command, cli: Cli): void {
  const env = program.command('env').description('environments (tenants holding configuration objects)');
  env
    .command('create <id>')
    .description('create an environment, optionally as a clone of another (same ids)')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--tier <tier>', 'tier').choices(TIERS).makeOptionMandatory())
    .option('--clone-from <env>', 'copy every object of this environment, ids unchanged')
    .option('--host <host...>', 'host names that select this environment')
    .option('--param <name=value...>', 'parameter substituted for ${name} at install')
    .option('--target-owned <TYPE:field...>', 'fields an UPDATE never overwrites here')
    .action(async (id: string, o: { name: string; tier: string; cloneFrom?: string; host?: string[]; param?: string[]; targetOwned?: string[] }) => {
      const bar = await cli.progress('cloning');
      const e = await (
        await cli.engineApi()
      ).createEnvironment(
        {
          id,
          name: o.name,
          tier: o.tier,
          cloneFrom: o.cloneFrom,
          hosts: o.host,
          parameters: parseParams(o.param),
          targetOwned: parseTargetOwned(o.targetOwned),
        },
        cli.actor(),
        bar.fn,
      );
      bar.stop();
      cli.print(`Created environment ${show(e.id)} "${show(e.name)}" (${e.tier})${e.clonedFrom ? `, a clone of ${show(e.clonedFrom)}` : ''}.`, e);
    });
  env
    .command('list')
    .description('list environments')
    .action(async () => {
      const list = await (await cli.engineApi()).listEnvironments();
      cli.print(formatEnvironments(list), list);
    });
  env
    .command('show <id>')
    .description('show one environment')
    .action(async (id: string) => {
      const e = await (await cli.engineApi()).getEnvironment(id);
      cli.print(cli.jsonText(e), e);
    });
  env
    .command('set <id>')
    .description('change an environment: name, tier, hosts, parameters, target-owned fields, trusted signing keys')
    .option('--name <name>', 'display name')
    .addOption(new Option('--tier <tier>', 'tier').choices(TIERS))
    .option('--host <host...>', 'replace the host names')
    .option('--param <name=value...>', 'set parameters (merged into the existing ones)')
    .option('--target-owned <TYPE:field...>', 'replace the target-owned fields')
    .option('--trust-key <key...>', 'accept only bundles signed by these keys (fingerprint SHA256:..., base64 key or PEM file text); replaces the list')
    .option('--trust-any', 'accept any intact bundle again, signed or not (clears the trusted keys)')
    .action(
      async (
        id: string,
        o: { name?: string; tier?: string; host?: string[]; param?: string[]; targetOwned?: string[]; trustKey?: string[]; trustAny?: boolean },
      ) => {
        if (o.trustKey && o.trustAny) throw new UsageError('give --trust-key or --trust-any, not both');
        const eng = await cli.engineApi();
        const cur = await eng.getEnvironment(id);
        const e = await eng.updateEnvironment(
          id,
          {
            name: o.name,
            tier: o.tier,
            hosts: o.host,
            parameters: o.param ? { ...cur.parameters, ...parseParams(o.param) } : undefined,
            targetOwned: o.targetOwned ? parseTargetOwned(o.targetOwned) : undefined,
            trustedSigningKeys: o.trustAny ? [] : o.trustKey,
          },
          cli.actor(),
        );
        cli.print(`Updated environment ${show(e.id)} (version ${e.version}).`, e);
      },
    );
  env
    .command('lock <id>')
    .description("show an environment's install lock: which installation holds it, its process, and whether that process is gone")
    .action(async (id: string) => {
      const l = await (await cli.engineApi()).getLock(id);
      cli.print(formatLock(l), l);
    });
  env
    .command('unlock <id>')
    .description('break the install lock a dead process left (audited); a live holder only with --force')
    .option('--force', 'break it even though its holder looks alive (a hung process)')
    .action(async (id: string, o: { force?: boolean }) => {
      const l = await (await cli.engineApi()).breakLock(id, { force: !!o.force }, cli.actor());
      cli.print(formatLock(l, true), l);
    });
}
