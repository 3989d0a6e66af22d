import type { Command } from 'commander';
import { printable as show } from '../../core/printable.js';
import { positiveInt, readObjectsFile } from '../args.js';
import type { Cli } from '../context.js';
import { formatObjects } from '../format.js';

/** `ferry objects load|list|show`: configuration objects of an environment. */
export function registerObjectCommands(program: Command, cli: Cli): void {
  const objects = program.command('objects').description('configuration objects of an environment');
  objects
    .command('load <env> <file>')
    .description('upsert objects from a JSON array or NDJSON file of {type,id,name,fields} (one transaction)')
    .action(async (envId: string, file: string) => {
      const input = await readObjectsFile(file);
      const r = await (await cli.engineApi()).loadObjects(envId, input, cli.actor());
      cli.print(`Loaded ${r.written} objects into ${show(envId)} (now version ${r.version}).`, r);
    });
  objects
    .command('list <env>')
    .description('list objects')
    .option('--type <code>', 'only this type')
    .option('--limit <n>', 'page size', '100')
    .option('--offset <n>', 'skip this many', '0')
    .action(async (envId: string, o: { type?: string; limit: string; offset: string }) => {
      const limit = positiveInt(o.limit, '--limit');
      const offset = positiveInt(o.offset, '--offset', true);
      const r = await (await cli.engineApi()).listObjects(envId, { type: o.type?.toUpperCase(), limit, offset });
      cli.print(formatObjects(r, offset), r);
    });
  objects
    .command('show <env> <type> <id>')
    .description('show one object')
    .action(async (envId: string, type: string, id: string) => {
      const o = await (await cli.engineApi()).getObject(envId, type.toUpperCase(), id);
      cli.print(cli.jsonText(o), o);
    });
}
