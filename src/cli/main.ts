import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { Action, ObjectRef } from '../core/types.js';
import { FerryError, ValidationError } from '../core/errors.js';
import type { Override } from '../core/plan.js';
import { parseStatus } from '../core/rules.js';
import { configFromEnv, openEngine, type FerryConfig } from '../engine/open.js';
import type { Engine, ProgressFn } from '../engine/engine.js';
import { exportPackage, importBundle } from '../engine/bundles.js';
import { parseNdjson, parseSelection } from '../engine/validate-input.js';
import { printable as show, printableJson, printableText } from '../core/printable.js';
import { formatEnvironments, formatHistory, formatInstallResult, formatObjects, formatPackage, formatPlan, useColors } from './format.js';
import { runDemo } from './demo.js';
import { RemoteEngine, type EngineApi } from './remote.js';
import { registerSyncCommands } from './sync.js';

/** Bad command-line usage: exit code 2. */
class UsageError extends Error {}

interface GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
  catalog?: string;
  json?: boolean;
  server?: string;
  apiKey?: string;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** stderr is a terminal: show progress bars. */
  isTTY: boolean;
  /** stdout is a terminal: colour the output. */
  colors?: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: !!process.stderr.isTTY,
  colors: !!process.stdout.isTTY,
};

/**
 * The `ferry` command. Returns the exit code: 0 success, 1 a refused
 * operation (one-line reason on stderr), 2 bad usage.
 */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let engine: Engine | undefined;
  let remote: RemoteEngine | undefined;
  let config: FerryConfig | undefined;
  const program = new Command();
  let globals: GlobalOptions = {};
  /** Set by actions that end without an error but not in success (an invalid plan). */
  let exitCode = 0;

  const colors = !!io.colors && !process.env.NO_COLOR;
  useColors(colors);
  // Everything printed goes through here: names and other user values are
  // stored verbatim but never reach the terminal with their control
  // characters raw (formatters escape each value with `show`; this catches
  // anything missed, keeping only our own colours and line breaks).
  const out = (s: string) => io.out(printableText(s, { keepColors: colors }));
  const err = (s: string) => io.err(printableText(s));
  /** JSON output: valid JSON for the same values, with bidi controls and C1 controls escaped too. */
  const jsonText = (data: unknown) => printableJson(JSON.stringify(data, null, 2));
  /** `--server <url>` (or FERRY_SERVER): every command runs against that server over HTTP. */
  const serverUrl = () => globals.server ?? (process.env.FERRY_SERVER || undefined);
  const getEngine = async (): Promise<EngineApi> => {
    const server = serverUrl();
    if (server) return (remote ??= await RemoteEngine.connect(server, globals.apiKey ?? (process.env.FERRY_API_KEY || undefined)));
    return getLocalEngine();
  };
  const getLocalEngine = async (): Promise<Engine> => {
    if (!engine) {
      config = configFromEnv({ dataDir: globals.dataDir, databaseUrl: globals.databaseUrl, catalogPath: globals.catalog });
      engine = await openEngine(config);
    }
    return engine;
  };
  const json = () => !!globals.json;
  const print = (human: string, data: unknown) => out(json() ? jsonText(data) : human);
  const actor = () => ({ actor: `cli:${process.env.USER ?? 'local'}`, address: null });
  const progress = (label: string): { fn: ProgressFn; stop: () => void } => {
    if (json() || !io.isTTY) return { fn: () => {}, stop: () => {} };
    const bar = new cliProgress.SingleBar(
      { format: `${label} {phase} [{bar}] {value}/{total}`, clearOnComplete: true, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      fn: (p) => {
        if (!started) {
          bar.start(Math.max(p.total, 1), p.done, { phase: p.phase });
          started = true;
        }
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, { phase: p.phase });
      },
      stop: () => started && bar.stop(),
    };
  };

  /**
   * Package and installation ids are UUIDs; like git, the CLI accepts any
   * unique prefix of at least 4 characters.
   */
  const resolve = async (kind: 'package' | 'installation', id: string): Promise<string> => {
    const eng = await getEngine();
    const ids = kind === 'package' ? (await eng.listPackages()).map((p) => p.id) : (await eng.listInstallations()).map((i) => i.id);
    if (ids.includes(id) || id.length < 4) return id;
    const hits = ids.filter((x) => x.startsWith(id));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new UsageError(`${kind} id prefix ${id} is ambiguous (${hits.slice(0, 3).join(', ')}...)`);
    return id;
  };

  program
    .name('ferry')
    .description('Move configuration between environments: assemble a package, preview the plan, install atomically, roll back.')
    .option('--data-dir <dir>', 'data directory for the embedded SQLite store (env FERRY_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL instead (env FERRY_DATABASE_URL)')
    .option('--catalog <file>', 'type catalog JSON replacing or extending the default (env FERRY_CATALOG)')
    .option('--json', 'machine-readable JSON output')
    .option('--server <url>', 'run the command against a Ferry server over HTTP instead of a local data directory (env FERRY_SERVER)')
    .option('--api-key <key>', 'API key for --server (env FERRY_API_KEY)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) })
    .hook('preAction', (_this, cmd) => {
      globals = cmd.optsWithGlobals<GlobalOptions>();
    });

  // ------------------------------------------------------------------ env
  const env = program.command('env').description('environments (tenants holding configuration objects)');
  env
    .command('create <id>')
    .description('create an environment, optionally as a clone of another (same ids)')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--tier <tier>', 'tier').choices(['development', 'testing', 'preview', 'production']).makeOptionMandatory())
    .option('--clone-from <env>', 'copy every object of this environment, ids unchanged')
    .option('--host <host...>', 'host names that select this environment')
    .option('--param <name=value...>', 'parameter substituted for ${name} at install')
    .option('--target-owned <TYPE:field...>', 'fields an UPDATE never overwrites here')
    .action(async (id: string, o: { name: string; tier: string; cloneFrom?: string; host?: string[]; param?: string[]; targetOwned?: string[] }) => {
      const bar = progress('cloning');
      const e = await (
        await getEngine()
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
        actor(),
        bar.fn,
      );
      bar.stop();
      print(`Created environment ${show(e.id)} "${show(e.name)}" (${e.tier})${e.clonedFrom ? `, a clone of ${show(e.clonedFrom)}` : ''}.`, e);
    });
  env
    .command('list')
    .description('list environments')
    .action(async () => {
      const list = await (await getEngine()).listEnvironments();
      print(formatEnvironments(list), list);
    });
  env
    .command('show <id>')
    .description('show one environment')
    .action(async (id: string) => {
      const e = await (await getEngine()).getEnvironment(id);
      print(jsonText(e), e);
    });
  env
    .command('set <id>')
    .description('change an environment: name, tier, hosts, parameters, target-owned fields')
    .option('--name <name>')
    .addOption(new Option('--tier <tier>').choices(['development', 'testing', 'preview', 'production']))
    .option('--host <host...>', 'replace the host names')
    .option('--param <name=value...>', 'set parameters (merged into the existing ones)')
    .option('--target-owned <TYPE:field...>', 'replace the target-owned fields')
    .action(async (id: string, o: { name?: string; tier?: string; host?: string[]; param?: string[]; targetOwned?: string[] }) => {
      const eng = await getEngine();
      const cur = await eng.getEnvironment(id);
      const e = await eng.updateEnvironment(
        id,
        {
          name: o.name,
          tier: o.tier,
          hosts: o.host,
          parameters: o.param ? { ...cur.parameters, ...parseParams(o.param) } : undefined,
          targetOwned: o.targetOwned ? parseTargetOwned(o.targetOwned) : undefined,
        },
        actor(),
      );
      print(`Updated environment ${show(e.id)} (version ${e.version}).`, e);
    });

  // ------------------------------------------------------------------ objects
  const objects = program.command('objects').description('configuration objects of an environment');
  objects
    .command('load <env> <file>')
    .description('upsert objects from a JSON array or NDJSON file of {type,id,name,fields} (one transaction)')
    .action(async (envId: string, file: string) => {
      const input = await readObjectsFile(file);
      const r = await (await getEngine()).loadObjects(envId, input, actor());
      print(`Loaded ${r.written} objects into ${show(envId)} (now version ${r.version}).`, r);
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
      const r = await (await getEngine()).listObjects(envId, { type: o.type?.toUpperCase(), limit, offset });
      print(formatObjects(r, offset), r);
    });
  objects
    .command('show <env> <type> <id>')
    .description('show one object')
    .action(async (envId: string, type: string, id: string) => {
      const o = await (await getEngine()).getObject(envId, type.toUpperCase(), id);
      print(jsonText(o), o);
    });

  // ------------------------------------------------------------------ package
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
      const eng = await getEngine();
      if (!o.select?.length && !o.remove?.length) throw new UsageError('select at least one object: --select TYPE:id');
      const selection = usage(() => parseSelection(o.select ?? [], eng.catalog));
      const removals = usage(() => parseSelection(o.remove ?? [], eng.catalog));
      const bar = progress('assembling');
      const p = await eng.createPackage({ sourceEnvId: o.source, name: o.name, description: o.description, selection, removals }, actor(), bar.fn);
      bar.stop();
      if (p.status === 'ASSEMBLING_FAILED') {
        print(`Package ${show(p.id)} failed to assemble: ${show(p.assemblyError)}`, p);
        exitCode = 1;
        return;
      }
      print(`${formatPackage(p)}\n\nNext: ferry package status ${show(p.id)} TESTING, then ferry plan ${show(p.id)} --target <env>`, p);
    });
  pkg
    .command('list')
    .description('list packages')
    .action(async () => {
      const list = await (await getEngine()).listPackages();
      print(
        list.length
          ? list.map((p) => `${show(p.id)}  ${p.status.padEnd(10)} v${p.version}  ${String(p.entityCount).padStart(6)} objects  ${show(p.name)}`).join('\n')
          : 'No packages yet.',
        list,
      );
    });
  pkg
    .command('show <package>')
    .description('show a package; --entities lists them, --explain says why one is included')
    .option('--entities', 'list the entities in install order')
    .option('--explain <TYPE:id>', 'the path of refs that pulled this entity in')
    .action(async (idArg: string, o: { entities?: boolean; explain?: string }) => {
      const eng = await getEngine();
      const id = await resolve('package', idArg);
      const p = await eng.getPackage(id);
      if (o.explain) {
        const [ref] = usage(() => parseSelection([o.explain!], eng.catalog));
        const path = await eng.explain(id, ref!.type, ref!.id);
        print(path.map((s, i) => `${'  '.repeat(i)}${i ? '-> ' : ''}${show(s)}`).join('\n'), { path });
        return;
      }
      if (o.entities) {
        const list = await eng.getPackageEntities(id);
        print(list.map((e) => `${String(e.ord).padStart(6)}  ${show(e.type).padEnd(7)} ${show(e.id)}  ${show(e.name)}`).join('\n'), list);
        return;
      }
      print(formatPackage(p), p);
    });
  pkg
    .command('status <package> <status>')
    .description('set the status: DRAFT, TESTING (non-production only), ACTIVE (anywhere), DISABLED')
    .action(async (idArg: string, status: string) => {
      const s = usage(() => parseStatus(status));
      const id = await resolve('package', idArg);
      const p = await (await getEngine()).setPackageStatus(id, s, actor());
      print(`Package ${show(p.id)} is now ${p.status}.`, p);
    });
  pkg
    .command('delete <package>')
    .description('delete a package (DISABLED keeps history; prefer it)')
    .action(async (idArg: string) => {
      const id = await resolve('package', idArg);
      await (await getEngine()).deletePackage(id, actor());
      print(`Deleted package ${show(id)}.`, { deleted: id });
    });

  // ------------------------------------------------------------------ plan / install
  program
    .command('plan <package>')
    .description('prepare a package against a target and print what the install would do')
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
      const eng = await getEngine();
      const id = await resolve('package', idArg);
      const overrides = parseOverrides(o.set ?? []);
      const bar = progress('preparing');
      const plan = await eng.prepare(
        id,
        o.target,
        { overrides, remember: o.remember, force: o.force, policy: o.strict ? 'id+name' : 'default', onProgress: bar.fn },
        actor(),
      );
      bar.stop();
      const p = await eng.getPackage(id);
      const target = await eng.getEnvironment(o.target);
      if (json()) {
        const steps = plan.installation.summary.invalid === 0 ? await eng.installSteps(plan.installation.id) : null;
        out(jsonText({ installation: plan.installation, installBlocker: plan.installBlocker, entries: plan.entries, steps }));
      } else {
        out(formatPlan(p, target, plan.installation, plan.entries, plan.installBlocker, { all: o.all }));
      }
      if (plan.installation.summary.invalid > 0) exitCode = 1;
    });
  program
    .command('install <installation>')
    .description('execute a prepared plan, atomically')
    .action(async (idArg: string) => {
      const eng = await getEngine();
      const id = await resolve('installation', idArg);
      const bar = progress('installing');
      const inst = await eng.install(id, { onProgress: bar.fn }, actor());
      bar.stop();
      const entries = await eng.getEntries(id);
      print(formatInstallResult(inst, entries), { installation: inst, entries });
    });
  program
    .command('history <env>')
    .description('installations into an environment, newest first')
    .action(async (envId: string) => {
      const eng = await getEngine();
      const list = await eng.history(envId);
      const pkgs = new Map((await eng.listPackages()).map((p) => [p.id, p]));
      print(formatHistory(list, pkgs), list);
    });
  program
    .command('rollback <installation>')
    .description('undo a completed installation from its restore point')
    .action(async (idArg: string) => {
      const id = await resolve('installation', idArg);
      const inst = await (await getEngine()).rollback(id, actor());
      print(`Installation ${show(inst.id)} rolled back; ${show(inst.targetEnvId)} is as it was before it.`, inst);
    });

  // ------------------------------------------------------------------ bundles
  program
    .command('export <package>')
    .description('write a package as a .ferry bundle, and/or as a directory tree for review in Git')
    .option('-o, --output <file>', '.ferry file to write')
    .option('--dir <folder>', 'directory tree to write (<type>/<id>.json)')
    .action(async (idArg: string, o: { output?: string; dir?: string }) => {
      if (!o.output && !o.dir) throw new UsageError('give -o <file.ferry> and/or --dir <folder>');
      const id = await resolve('package', idArg);
      const bar = progress('exporting');
      const eng = await getEngine();
      const r =
        eng instanceof RemoteEngine
          ? await eng.exportPackage(id, { file: o.output, dir: o.dir }, bar.fn)
          : await exportPackage(await getLocalEngine(), id, { file: o.output, dir: o.dir }, actor(), bar.fn);
      bar.stop();
      const lines: string[] = [];
      if (r.file) lines.push(`Wrote ${show(r.file.path)}: ${r.file.count} objects, ${r.file.bytes} bytes, sha256 ${r.file.sha256}.`);
      if (r.dir) lines.push(`Wrote ${show(r.dir.path)}/: ${r.dir.count} objects.`);
      print(lines.join('\n'), r);
    });
  program
    .command('import <file>')
    .description('verify a bundle, plan it against a target and install it (--dry-run: plan only)')
    .requiredOption('--target <env>', 'target environment')
    .option('--dry-run', 'prepare only; change nothing')
    .option('--set <TYPE:id=ACTION...>', 'override an action')
    .option('--force', 'allow promotion to a lower tier')
    .action(async (file: string, o: { target: string; dryRun?: boolean; set?: string[]; force?: boolean }) => {
      const eng = await getEngine();
      const bar = progress('importing');
      let r;
      try {
        const opts = { dryRun: o.dryRun, overrides: parseOverrides(o.set ?? []), force: o.force, onProgress: bar.fn };
        r =
          eng instanceof RemoteEngine
            ? await eng.importBundle(file, o.target, opts)
            : await importBundle(await getLocalEngine(), file, o.target, opts, actor());
      } finally {
        bar.stop();
      }
      if (json()) {
        out(jsonText({ package: r.package, installation: r.installation ?? r.plan.installation, entries: r.entries }));
        return;
      }
      const target = await eng.getEnvironment(o.target);
      out(formatPlan(r.package, target, r.plan.installation, r.plan.entries, r.plan.installBlocker));
      if (r.installation) out(formatInstallResult(r.installation, r.entries));
    });

  registerSyncCommands(program, { getEngine, getLocalEngine, print, actor, progress, setExitCode: (code) => (exitCode = code) });

  program
    .command('demo')
    .description('build development, testing and production environments and promote a package end to end, explaining each step')
    .action(async () => {
      if (serverUrl()) throw new UsageError('demo runs on a local data directory; a server seeds the demo environments itself at its first start');
      const cfg = configFromEnv({ dataDir: globals.dataDir, databaseUrl: globals.databaseUrl, catalogPath: globals.catalog });
      exitCode = await runDemo(cfg, { out, json: json() });
    });

  program
    .command('serve')
    .description('start the Ferry server: native REST API under /api/v1, OpenAPI at /docs (env FERRY_HOST, FERRY_PORT, FERRY_DEMO, FERRY_ADMIN_API_KEY...)')
    .option('--host <host>', 'address to listen on (env FERRY_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (env FERRY_PORT, default 8080; 0 picks a free one)')
    .option('--no-demo', 'do not seed the demo environments on a fresh data directory (env FERRY_DEMO=0)')
    .action(async (o: { host?: string; port?: string; demo: boolean }) => {
      if (serverUrl()) throw new UsageError('serve starts a server here; it does not take --server');
      // Loaded on demand: the other commands never pay for Fastify.
      const { serve } = await import('../server/start.js');
      const { serverConfigFromEnv } = await import('../server/config.js');
      const cfg = serverConfigFromEnv({
        dataDir: globals.dataDir,
        databaseUrl: globals.databaseUrl,
        catalogPath: globals.catalog,
        host: o.host,
        port: o.port !== undefined ? positiveInt(o.port, '--port', true) : undefined,
        ...(o.demo === false ? { demo: false } : {}),
      });
      exitCode = await serve(cfg);
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
      if (serverUrl()) throw new UsageError('db copy works on the databases themselves; it does not take --server');
      const { copyDatabase } = await import('../store/copy.js');
      const r = await copyDatabase({
        from: o.from,
        to: o.to,
        schema: o.schema ?? (process.env.FERRY_DATABASE_SCHEMA || undefined),
        fromFilesDir: o.fromFiles,
        toFilesDir: o.filesDir,
        onProgress: (line) => {
          if (!json()) err(line);
        },
      });
      const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
      print(
        `copied ${rows} rows in ${Object.keys(r.tables).length} tables and ${r.files} files into ${o.to.replace(/:[^:@/]*@/, ':***@')}` +
          (r.missingFiles.length ? `; left out ${r.missingFiles.length} files whose bytes were gone` : ''),
        r,
      );
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      err(`ferry: ${show(e.message)}`);
      return 2;
    }
    if (e instanceof FerryError) {
      if (json()) out(printableJson(JSON.stringify({ error: { code: e.code, message: e.message } })));
      err(`ferry: ${show(e.message)}`);
      return 1;
    }
    err(`ferry: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  } finally {
    await engine?.store.close();
  }
}

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new UsageError(e.message);
    throw e;
  }
}

function positiveInt(v: string, name: string, zeroOk = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new UsageError(`${name} must be a ${zeroOk ? 'non-negative' : 'positive'} integer`);
  return n;
}

function parseParams(list: string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`bad --param "${p}": expected name=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function parseTargetOwned(list: string[] | undefined): Record<string, string[]> | undefined {
  if (!list) return undefined;
  const out: Record<string, string[]> = {};
  for (const p of list) {
    const m = /^([A-Za-z][A-Za-z0-9_]*):([A-Za-z0-9_.-]+)$/.exec(p);
    if (!m) throw new UsageError(`bad --target-owned "${p}": expected TYPE:field`);
    const t = m[1]!.toUpperCase();
    (out[t] ??= []).push(m[2]!);
  }
  return out;
}

/** `TYPE:id=ACTION[@targetId]`. */
export function parseOverrides(list: readonly string[]): Override[] {
  return list.map((s) => {
    const m = /^([A-Za-z][A-Za-z0-9_]*):([^=]+)=([A-Za-z]+)(?:@(.+))?$/.exec(s.trim());
    if (!m) throw new UsageError(`bad --set "${s}": expected TYPE:id=ACTION or TYPE:id=USEEXISTING@targetId`);
    const action = m[3]!.toUpperCase() as Action;
    if (!['CREATE', 'UPDATE', 'USEEXISTING', 'MERGE', 'IGNORE'].includes(action)) {
      throw new UsageError(`bad --set "${s}": action must be CREATE, UPDATE, USEEXISTING, MERGE or IGNORE`);
    }
    return { type: m[1]!.toUpperCase(), sourceId: m[2]!, action, targetId: m[4] ?? null };
  });
}

async function readObjectsFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ValidationError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new ValidationError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  try {
    return parseNdjson(text);
  } catch (e) {
    throw new ValidationError(`${file} is not valid NDJSON (${(e as Error).message})`);
  }
}

export type { ObjectRef };
