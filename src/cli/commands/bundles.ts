import type { Command } from 'commander';
import { printable as show } from '../../core/printable.js';
import { UsageError, parseOverrides } from '../args.js';
import type { Cli } from '../context.js';
import { formatInstallResult, formatPlan } from '../format.js';
import { reportRefusal } from './plans.js';

/** `ferry export` and `ferry import`: .ferry bundles and review trees. */
export function registerBundleCommands(program: Command, cli: Cli): void {
  program
    .command('export <package>')
    .description('write a package as a .ferry bundle, and/or as a directory tree for review in Git')
    .option('-o, --output <file>', '.ferry file to write')
    .option('--dir <folder>', 'directory tree to write (<type>/<id>.json)')
    .action(async (idArg: string, o: { output?: string; dir?: string }) => {
      if (!o.output && !o.dir) throw new UsageError('give -o <file.ferry> and/or --dir <folder>');
      const id = await cli.resolve('package', idArg);
      const bar = await cli.progress('exporting');
      const remote = await cli.remote();
      let r;
      try {
        if (remote) r = await remote.exportPackage(id, { file: o.output, dir: o.dir }, bar.fn);
        else {
          const { exportPackage } = await import('../../engine/bundles.js');
          r = await exportPackage(await cli.local(), id, { file: o.output, dir: o.dir }, cli.actor(), bar.fn);
        }
      } finally {
        bar.stop();
      }
      const lines: string[] = [];
      if (r.file) {
        const signed = r.file.signedBy ? `, signed by ${r.file.signedBy}` : '';
        lines.push(`Wrote ${show(r.file.path)}: ${r.file.count} objects, ${r.file.bytes} bytes, sha256 ${r.file.sha256}${signed}.`);
      }
      if (r.dir) lines.push(`Wrote ${show(r.dir.path.replace(/\/+$/, ''))}/: ${r.dir.count} objects.`);
      cli.print(lines.join('\n'), r);
    });
  program
    .command('import <file>')
    .description('verify a bundle, plan it against a target and install it (--dry-run: verify and plan only)')
    .requiredOption('--target <env>', 'target environment')
    .option(
      '--dry-run',
      'verify and plan only: the target is unchanged; the bundle is kept as a package and the plan as an installation ferry install can apply',
    )
    .option('--set <TYPE:id=ACTION...>', 'override an action')
    .option('--force', 'allow promotion to a lower tier')
    .action(async (file: string, o: { target: string; dryRun?: boolean; set?: string[]; force?: boolean }) => {
      const eng = await cli.engineApi();
      const remote = await cli.remote();
      const bar = await cli.progress('importing');
      let r;
      try {
        const opts = { dryRun: o.dryRun, overrides: parseOverrides(o.set ?? []), force: o.force, onProgress: bar.fn };
        if (remote) r = await remote.importBundle(file, o.target, opts);
        else {
          const { importBundle } = await import('../../engine/bundles.js');
          r = await importBundle(await cli.local(), file, o.target, opts, cli.actor());
        }
      } finally {
        bar.stop();
      }
      const target = await eng.getEnvironment(o.target);
      if (cli.json()) {
        cli.out(cli.jsonText({ package: r.package, installation: r.installation ?? r.plan.installation, entries: r.entries }));
      } else {
        cli.out(formatPlan(r.package, target, r.plan.installation, r.plan.entries, r.plan.installBlocker));
        if (r.installation) cli.out(formatInstallResult(r.installation, r.entries));
        else {
          const inst = show(r.plan.installation.id);
          const installable = r.plan.installation.summary.invalid === 0 && !r.plan.installBlocker;
          cli.out(
            `Dry run: ${show(target.id)} is unchanged. The bundle is stored as package ${show(r.package.id)} and its plan as installation ${inst}` +
              (installable ? `; ferry install ${inst} applies it` : '') +
              ` (ferry package delete ${show(r.package.id)} discards the package).`,
          );
        }
      }
      if (!r.installation) reportRefusal(cli, r.package, target, r.plan);
    });
}
