import type { Command } from 'commander';
import type { SyncOutcome, SyncResult } from '../../engine/sync.js';
import type { CompareItem, Comparison } from '../../engine/compare.js';
import { positiveInt, usage } from '../args.js';
import type { Cli } from '../context.js';
import { colors } from '../format.js';

/**
 * `ferry sync <source> <target>` and `ferry compare <a> <b>` (environment
 * sync), locally or against a server (`--server`: the native API's sync and
 * compare routes).
 */
export function registerSyncCommands(program: Command, cli: Cli): void {
  program
    .command('sync <source-env> <target-env>')
    .description(
      'sync an environment (or --select objects and what they need) into another: strict id+name matching, conflicts and downstream edits (drift) left alone; exit 1 when anything was left alone',
    )
    .option('--select <TYPE:ids...>', 'objects to sync, as TYPE:id or TYPE:id1,id2 (default: the whole environment)')
    .option('--dry-run', 'say what the sync would do; change nothing')
    .option('--overwrite-drift', 'overwrite copies edited in the target since the last sync')
    .option('--force', 'sync to a lower tier anyway (one-way push)')
    .option('--all', 'also list unchanged objects')
    .action(async (source: string, target: string, o: { select?: string[]; dryRun?: boolean; overwriteDrift?: boolean; force?: boolean; all?: boolean }) => {
      const eng = await cli.engineApi();
      const { parseSelection } = await import('../../engine/validate-input.js');
      const selection = usage(() => parseSelection(o.select ?? [], eng.catalog));
      const opts = { dryRun: !!o.dryRun, overwriteDrift: !!o.overwriteDrift, force: !!o.force };
      const remote = await cli.remote();
      let outcome: SyncOutcome;
      if (remote) {
        outcome = await remote.call<SyncOutcome>('POST', `/api/v1/environments/${enc(source)}/sync/${enc(target)}`, { body: { selection, ...opts } });
      } else {
        const { syncEnvironments } = await import('../../engine/sync.js');
        const bar = await cli.progress('syncing');
        try {
          // Locally there is no one to ask: whoever runs the CLI on the data directory may force.
          outcome = await syncEnvironments(await cli.local(), source, target, selection, { ...opts, mayForce: true, onProgress: bar.fn }, cli.actor());
        } finally {
          bar.stop();
        }
      }
      cli.print(formatSync(source, target, outcome, !!o.all), outcome);
      if (outcome.summary.conflict + outcome.summary.drift > 0) cli.exitCode = 1;
    });

  program
    .command('compare <a> <b>')
    .description('compare two environments object by object: which differ, which side is ahead, which exist on one side only')
    .option('--type <code>', 'only this type')
    .option('--all', 'also list objects that are the same')
    .option('--limit <n>', 'list at most this many', '1000')
    .action(async (a: string, b: string, o: { type?: string; all?: boolean; limit: string }) => {
      const limit = positiveInt(o.limit, '--limit');
      const q = { type: o.type?.toUpperCase(), all: !!o.all, limit };
      const remote = await cli.remote();
      let c: Comparison;
      if (remote) c = await remote.call<Comparison>('GET', `/api/v1/environments/${enc(a)}/compare/${enc(b)}`, { query: q });
      else {
        const { compareEnvironments } = await import('../../engine/compare.js');
        c = await compareEnvironments(await cli.local(), a, b, q);
      }
      cli.print(formatComparison(c), c);
    });
}

const enc = encodeURIComponent;

const RESULT_SIGN: Record<SyncResult['result'], string> = { created: '+', updated: '~', unchanged: '=', conflict: '!', drift: '≠' };

export function formatSync(source: string, target: string, o: SyncOutcome, all: boolean): string {
  const pc = colors();
  const paint: Record<SyncResult['result'], (s: string) => string> = {
    created: pc.green,
    updated: pc.yellow,
    unchanged: pc.dim,
    conflict: pc.red,
    drift: pc.magenta,
  };
  const lines = [`Sync ${source} -> ${target}${o.dryRun ? ' (dry run: nothing written)' : ''}:`];
  for (const r of o.results) {
    if (r.result === 'unchanged' && !all) continue;
    const c = paint[r.result];
    lines.push(
      `  ${c(RESULT_SIGN[r.result])} ${r.type.padEnd(7)} ${r.id}  ${JSON.stringify(r.name)}  ${c(r.result)}${r.reason ? pc.dim(`: ${r.reason}`) : ''}`,
    );
  }
  const s = o.summary;
  lines.push(
    '',
    `${o.dryRun ? 'Would sync' : 'Synced'}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.conflict} conflict${s.conflict === 1 ? '' : 's'}, ${s.drift} drift (left alone).`,
  );
  if (o.installation && !o.dryRun) lines.push(pc.dim(`Installation ${o.installation.id}; undo it with: ferry rollback ${o.installation.id}`));
  return lines.join('\n');
}

export function formatComparison(c: Comparison): string {
  const pc = colors();
  const side = (x: 'a' | 'b') => (x === 'a' ? c.a.id : c.b.id);
  const line = (i: CompareItem): string => {
    const head = `${i.type.padEnd(7)} ${i.id}  ${JSON.stringify(i.name)}`;
    const changes = i.changes.length ? pc.dim(`  [${i.changes.join(', ')}]`) : '';
    if (i.status === 'only-in-a') return `  ${pc.green('+')} ${head}  only in ${c.a.id}`;
    if (i.status === 'only-in-b') return `  ${pc.red('-')} ${head}  only in ${c.b.id}`;
    if (i.status === 'same') return `  ${pc.dim('=')} ${head}  same`;
    const why = i.basis === 'sync' ? ' (since the last sync)' : i.basis === 'updatedAt' ? ' (edited later)' : '';
    if (i.ahead === 'a' || i.ahead === 'b') return `  ${pc.yellow(i.ahead === 'a' ? '>' : '<')} ${head}  ahead in ${side(i.ahead)}${pc.dim(why)}${changes}`;
    if (i.ahead === 'both') return `  ${pc.red('!')} ${head}  changed on both sides since the last sync${changes}`;
    return `  ${pc.yellow('?')} ${head}  differs (cannot tell which is newer)${changes}`;
  };
  const s = c.summary;
  const lines = [`Compare ${c.a.id} (${c.a.tier}) with ${c.b.id} (${c.b.tier}):`, ...c.items.map(line)];
  if (c.total > c.items.length) lines.push(pc.dim(`  ... ${c.total - c.items.length} more (--limit)`));
  lines.push(
    '',
    `${s.same} same, ${s.differs} differ (${s.aheadInA} ahead in ${c.a.id}, ${s.aheadInB} ahead in ${c.b.id}, ${s.aheadInBoth} changed on both sides), ` +
      `${s.onlyInA} only in ${c.a.id}, ${s.onlyInB} only in ${c.b.id}.`,
  );
  return lines.join('\n');
}
