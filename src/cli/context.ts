import type { Engine, ProgressFn } from '../engine/engine.js';
import type { FerryConfig } from '../engine/open.js';
import { printable as show, printableJson, printableText } from '../core/printable.js';
import { UsageError } from './args.js';
import type { EngineApi, RemoteEngine } from './remote.js';

/** The options every command takes (`ferry --help`). */
export interface GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
  catalog?: string;
  json?: boolean;
  server?: string;
  apiKey?: string;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** stderr is a terminal: show progress bars. */
  isTTY: boolean;
  /** stdout is a terminal: colour the output. */
  colors?: boolean;
}

export interface Progress {
  fn: ProgressFn;
  stop: () => void;
}

/**
 * What every command needs of one `ferry` run: its global options, output,
 * and the engine, opened on first use. The engine (and with it the store,
 * Kysely and the SQLite driver), the HTTP client and the progress bars are
 * loaded with `import()` when a command first asks for them, so `ferry
 * --help` loads none of them and `ferry env list` only the local engine.
 */
export class Cli {
  globals: GlobalOptions = {};
  /** Set by actions that end without an error but not in success (an invalid plan, a refused sync). */
  exitCode = 0;
  readonly colors: boolean;
  private engine?: Engine;
  private remoteEngine?: RemoteEngine;

  constructor(readonly io: Io) {
    this.colors = !!io.colors && !process.env.NO_COLOR;
  }

  // Everything printed goes through here: names and other user values are
  // stored verbatim but never reach the terminal with their control
  // characters raw (formatters escape each value with `show`; this catches
  // anything missed, keeping only our own colours and line breaks).
  out = (s: string): void => this.io.out(printableText(s, { keepColors: this.colors }));
  err = (s: string): void => this.io.err(printableText(s));
  /** JSON output: valid JSON for the same values, with bidi controls and C1 controls escaped too. */
  jsonText = (data: unknown): string => printableJson(JSON.stringify(data, null, 2));
  json = (): boolean => !!this.globals.json;
  /** The human text, or with --json the data. */
  print = (human: string, data: unknown): void => this.out(this.json() ? this.jsonText(data) : human);
  /** One line on stderr that is not an error: the command goes on. */
  warn = (s: string): void => this.err(`ferry: ${show(s)}`);
  actor = (): { actor: string; address: null } => ({ actor: `cli:${process.env.USER ?? 'local'}`, address: null });

  /** `--server <url>` (or FERRY_SERVER): every command runs against that server over HTTP. */
  serverUrl(): string | undefined {
    return this.globals.server ?? (process.env.FERRY_SERVER || undefined);
  }

  /** The engine a command runs on: a server over HTTP with --server, else the local data directory. */
  engineApi = async (): Promise<EngineApi> => {
    const server = this.serverUrl();
    if (!server) return this.local();
    if (!this.remoteEngine) {
      const { RemoteEngine } = await import('./remote.js');
      this.remoteEngine = await RemoteEngine.connect(server, this.globals.apiKey ?? (process.env.FERRY_API_KEY || undefined));
    }
    return this.remoteEngine;
  };

  /** The server this run talks to, or undefined when it runs locally. */
  async remote(): Promise<RemoteEngine | undefined> {
    if (!this.serverUrl()) return undefined;
    await this.engineApi();
    return this.remoteEngine;
  }

  /** Where a local run keeps its data, from the flags and the environment. */
  async localConfig(): Promise<FerryConfig> {
    const { configFromEnv } = await import('../engine/open.js');
    return configFromEnv({ dataDir: this.globals.dataDir, databaseUrl: this.globals.databaseUrl, catalogPath: this.globals.catalog });
  }

  /** The local engine on the data directory (or --database-url); warns when a server holds the same directory. */
  local = async (): Promise<Engine> => {
    if (!this.engine) {
      const config = await this.localConfig();
      await this.warnIfServed(config);
      const { openEngine } = await import('../engine/open.js');
      this.engine = await openEngine(config);
    }
    return this.engine;
  };

  /**
   * Run from the repository while `npm start` runs, the CLI and the server
   * share `./data`: allowed (SQLite serialises the writers), but the user
   * should know, and know how to go through the server instead.
   */
  async warnIfServed(config: FerryConfig): Promise<void> {
    if (config.databaseUrl) return;
    const { runningServer } = await import('../engine/server-marker.js');
    const s = runningServer(config.dataDir);
    if (!s) return;
    this.warn(
      `the Ferry server at ${s.url} (pid ${s.pid}${s.host ? ` on ${s.host}` : ''}) holds the data directory ${config.dataDir}; ` +
        `this command works on the same data directly, beside it.`,
    );
    this.warn(
      `to go through the server instead: ferry --server ${s.url} --api-key <key> ...; ` +
        `for a data directory of its own: ferry --data-dir <dir> ... (or FERRY_DATA_DIR).`,
    );
  }

  /** A progress bar on stderr, only on a terminal and without --json. */
  progress = async (label: string): Promise<Progress> => {
    if (this.json() || !this.io.isTTY) return { fn: () => {}, stop: () => {} };
    const { default: cliProgress } = await import('cli-progress');
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
   * unique prefix of at least 4 characters. A shorter one that is not a
   * whole id says so rather than "not found".
   */
  resolve = async (kind: 'package' | 'installation', id: string): Promise<string> => {
    const eng = await this.engineApi();
    const ids = kind === 'package' ? (await eng.listPackages()).map((p) => p.id) : (await eng.listInstallations()).map((i) => i.id);
    if (ids.includes(id)) return id;
    if (id.length < 4) {
      throw new UsageError(
        `${kind} id "${show(id)}" is too short: give the whole id or a prefix of at least 4 characters (see ferry ${kind === 'package' ? 'package list' : 'history <env>'})`,
      );
    }
    const hits = ids.filter((x) => x.startsWith(id));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new UsageError(`${kind} id prefix ${id} is ambiguous (${hits.slice(0, 3).join(', ')}...)`);
    return id;
  };

  async close(): Promise<void> {
    await this.engine?.store.close();
  }
}
