import type { Command } from 'commander';
import type { Environment, Package } from '../../core/types.js';
import { printable as show } from '../../core/printable.js';
import { parseStatus, statusNeededFor } from '../../core/rules.js';
import { UsageError, usage } from '../args.js';
import type { Cli } from '../context.js';
import { formatEntities, formatPackage, formatPackages } from '../format.js';

/** `ferry package create|list|show|status|delete`: packages. */
export function registerPackageCommands(program: Command, cli: Cli): void {
  const pkg = program.command('package').description('packages: a frozen selection of objects and everything they need');
  pkg
    .command('create')
    .description('select objects in a source environment and assemble a package')
    .requiredOption('--source <env>', 'source environment')
    .requiredOption('--name <name>', 'package name')
    .option('--description <text>', 'description', '')
    .option('--select <TYPE:ids...>', 'objects to select, as TYPE:id or TYPE:id1,id2 (repeatable)')
    .option('--remove <TYPE:ids...>', 'objects to delete in the target, as TYPE:id (repeatable)')
    .action(async (o: { source: string; name: string; description: string; select?: string[]; remove?: string[] }) => {
      if (!o.select?.length && !o.remove?.length) throw new UsageError('select at least one object: --select TYPE:id');
      const eng = await cli.engineApi();
      const { parseSelection } = await import('../../engine/validate-input.js');
      const selection = usage(() => parseSelection(o.select ?? [], eng.catalog));
      const removals = usage(() => parseSelection(o.remove ?? [], eng.catalog));
      const bar = await cli.progress('assembling');
      const p = await eng.createPackage({ sourceEnvId: o.source, name: o.name, description: o.description, selection, removals }, cli.actor(), bar.fn);
      bar.stop();
      if (p.status === 'ASSEMBLING_FAILED') {
        cli.print(`Package ${show(p.id)} failed to assemble: ${show(p.assemblyError)}\n${failedHint(p)}`, p);
        cli.exitCode = 1;
        return;
      }
      cli.print(`${formatPackage(p)}\n\n${nextSteps(p, await eng.listEnvironments())}`, p);
    });
  pkg
    .command('list')
    .description('list packages')
    .action(async () => {
      const list = await (await cli.engineApi()).listPackages();
      cli.print(formatPackages(list), list);
    });
  pkg
    .command('show <package>')
    .description('show a package; --entities lists them, --explain says why one is included')
    .option('--entities', 'list the entities in install order')
    .option('--explain <TYPE:id>', 'the path of refs that pulled this entity in')
    .action(async (idArg: string, o: { entities?: boolean; explain?: string }) => {
      const eng = await cli.engineApi();
      const id = await cli.resolve('package', idArg);
      const p = await eng.getPackage(id);
      if (o.explain) {
        const { parseSelection } = await import('../../engine/validate-input.js');
        const [ref] = usage(() => parseSelection([o.explain!], eng.catalog));
        const path = await eng.explain(id, ref!.type, ref!.id);
        cli.print(path.map((s, i) => `${'  '.repeat(i)}${i ? '-> ' : ''}${show(s)}`).join('\n'), { path });
        return;
      }
      if (o.entities) {
        const list = await eng.getPackageEntities(id);
        cli.print(formatEntities(list), list);
        return;
      }
      cli.print(p.status === 'ASSEMBLING_FAILED' ? `${formatPackage(p)}\n\n${failedHint(p)}` : formatPackage(p), p);
    });
  pkg
    .command('status <package> <status>')
    .description('set the status: DRAFT, TESTING (non-production only), ACTIVE (anywhere), DISABLED')
    .action(async (idArg: string, status: string) => {
      const s = usage(() => parseStatus(status));
      const id = await cli.resolve('package', idArg);
      const p = await (await cli.engineApi()).setPackageStatus(id, s, cli.actor());
      cli.print(`Package ${show(p.id)} is now ${p.status}.`, p);
    });
  pkg
    .command('delete <package>')
    .description('delete a package, a failed assembly too (DISABLED keeps history; prefer it for a package that was installed)')
    .action(async (idArg: string) => {
      const id = await cli.resolve('package', idArg);
      await (await cli.engineApi()).deletePackage(id, cli.actor());
      cli.print(`Deleted package ${show(id)}.`, { deleted: id });
    });
}

function failedHint(p: Package): string {
  return `Nothing can be planned from it. Fix the selection and create it again; delete this one with: ferry package delete ${show(p.id)}`;
}

/**
 * The "Next:" lines after `package create`: the status each target needs
 * (TESTING for testing and preview, ACTIVE for production), naming the
 * environments of each tier, then the plan.
 */
export function nextSteps(p: Package, envs: readonly Environment[]): string {
  const id = show(p.id);
  const targets = envs.filter((e) => e.id !== p.sourceEnvId);
  if (targets.length === 0) {
    return `Next: ferry package status ${id} TESTING (testing and preview targets) or ACTIVE (production too), then ferry plan ${id} --target <env>`;
  }
  const lines = ['Next: give it the status its target needs, then plan:'];
  for (const status of ['TESTING', 'ACTIVE'] as const) {
    const those = targets.filter((e) => statusNeededFor(e.tier) === status);
    if (those.length === 0) continue;
    const names = those.slice(0, 4).map((e) => `${show(e.id)} (${e.tier})`);
    if (those.length > 4) names.push(`${those.length - 4} more`);
    lines.push(`  ferry package status ${id} ${status.padEnd(7)}  # to install into ${names.join(', ')}`);
  }
  lines.push(`  ferry plan ${id} --target ${show(targets[0]!.id)}`);
  return lines.join('\n');
}
