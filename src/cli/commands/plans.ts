import type { Command } from 'commander';
import type { Environment, Package } from '../../core/types.js';
import type { PreparedPlan } from '../../engine/engine.js';
import { printable as show } from '../../core/printable.js';
import { statusNeededFor } from '../../core/rules.js';
import { parseOverrides } from '../args.js';
import type { Cli } from '../context.js';
import { formatHistory, formatInstallResult, formatPlan } from '../format.js';

/** `ferry plan`, `install`, `history`, `rollback`: preparing, applying and undoing installations. */
export function registerPlanCommands(program: Command, cli: Cli): void {
  program
    .command('plan <package>')
    .description('prepare a package against a target and print what the install would do (exit 1 when the install would be refused)')
    .requiredOption('--target <env>', 'target environment')
    .option(
      '--set <TYPE:id=ACTION...>',
      'override an action: TYPE:id=IGNORE|CREATE|UPDATE|USEEXISTING|MERGE, or TYPE:id=USEEXISTING@targetId to pick the target object',
    )
    .option('--remember', 'remember IGNORE and chosen targets for later plans into this target')
    .option('--force', 'allow promotion to a lower tier (one-way push)')
    .option('--strict', 'match on id and name only (the sync rule)')
    .option('--all', 'also list unchanged objects')
    .action(async (idArg: string, o: { target: string; set?: string[]; remember?: boolean; force?: boolean; strict?: boolean; all?: boolean }) => {
      const eng = await cli.engineApi();
      const id = await cli.resolve('package', idArg);
      const overrides = parseOverrides(o.set ?? []);
      const bar = await cli.progress('preparing');
      const plan = await eng.prepare(
        id,
        o.target,
        { overrides, remember: o.remember, force: o.force, policy: o.strict ? 'id+name' : 'default', onProgress: bar.fn },
        cli.actor(),
      );
      bar.stop();
      const p = await eng.getPackage(id);
      const target = await eng.getEnvironment(o.target);
      if (cli.json()) {
        const steps = plan.installation.summary.invalid === 0 ? await eng.installSteps(plan.installation.id) : null;
        cli.out(cli.jsonText({ installation: plan.installation, installBlocker: plan.installBlocker, entries: plan.entries, steps }));
      } else {
        cli.out(formatPlan(p, target, plan.installation, plan.entries, plan.installBlocker, { all: o.all }));
      }
      reportRefusal(cli, p, target, plan);
    });
  program
    .command('install <installation>')
    .description('execute a prepared plan, atomically')
    .action(async (idArg: string) => {
      const eng = await cli.engineApi();
      const id = await cli.resolve('installation', idArg);
      const bar = await cli.progress('installing');
      const inst = await eng.install(id, { onProgress: bar.fn }, cli.actor());
      bar.stop();
      const entries = await eng.getEntries(id);
      cli.print(formatInstallResult(inst, entries), { installation: inst, entries });
    });
  program
    .command('history <env>')
    .description('installations into an environment, newest first')
    .action(async (envId: string) => {
      const eng = await cli.engineApi();
      const list = await eng.history(envId);
      const pkgs = new Map((await eng.listPackages()).map((p) => [p.id, p]));
      cli.print(formatHistory(list, pkgs), list);
    });
  program
    .command('rollback <installation>')
    .description('undo a completed installation from its restore point')
    .action(async (idArg: string) => {
      const id = await cli.resolve('installation', idArg);
      const inst = await (await cli.engineApi()).rollback(id, cli.actor());
      cli.print(`Installation ${show(inst.id)} rolled back; ${show(inst.targetEnvId)} is as it was before it.`, inst);
    });
}

/**
 * A plan the install would refuse (invalid entries, or a package status the
 * target's tier does not allow): one line on stderr saying why and what to
 * do, and exit code 1. The plan itself was printed all the same.
 */
export function reportRefusal(cli: Cli, pkg: Package, target: Environment, plan: PreparedPlan): void {
  const invalid = plan.installation.summary.invalid;
  if (invalid > 0) {
    cli.err(`ferry: the install would be refused: ${invalid} invalid entr${invalid === 1 ? 'y' : 'ies'} (fix them with ferry plan ... --set TYPE:id=ACTION)`);
    cli.exitCode = 1;
  } else if (plan.installBlocker) {
    const fix = pkg.status === 'DRAFT' || pkg.status === 'TESTING' ? `; then: ferry package status ${show(pkg.id)} ${statusNeededFor(target.tier)}` : '';
    cli.err(`ferry: the install would be refused: ${show(plan.installBlocker)}${fix}`);
    cli.exitCode = 1;
  }
}
