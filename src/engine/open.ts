import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Catalog } from '../core/types.js';
import { DEFAULT_CATALOG } from '../core/default-catalog.js';
import { FerryError } from '../core/errors.js';
import { describeFsError } from '../store/fs-errors.js';
import { Store } from '../store/store.js';
import { readCatalog } from './catalog-file.js';
import { Engine } from './engine.js';
import { Offload } from './offload.js';

/** Where Ferry keeps its data and which catalog it speaks; from flags, else environment variables. */
export interface FerryConfig {
  /** SQLite file and file store live here (FERRY_DATA_DIR, default ./data). */
  dataDir: string;
  /** postgres://... selects PostgreSQL (FERRY_DATABASE_URL). */
  databaseUrl?: string;
  /** PostgreSQL schema (FERRY_DATABASE_SCHEMA); tests give each run its own. */
  databaseSchema?: string;
  /** A catalog JSON file replacing or extending the default (FERRY_CATALOG). */
  catalogPath?: string;
  /** Public base URL (FERRY_PUBLIC_URL). */
  publicUrl: string;
}

export function configFromEnv(flags: Partial<FerryConfig> = {}, env: NodeJS.ProcessEnv = process.env): FerryConfig {
  const port = env.FERRY_PORT ?? '8080';
  return {
    dataDir: flags.dataDir ?? env.FERRY_DATA_DIR ?? './data',
    databaseUrl: flags.databaseUrl ?? (env.FERRY_DATABASE_URL || undefined),
    databaseSchema: flags.databaseSchema ?? (env.FERRY_DATABASE_SCHEMA || undefined),
    catalogPath: flags.catalogPath ?? (env.FERRY_CATALOG || undefined),
    publicUrl: flags.publicUrl ?? env.FERRY_PUBLIC_URL ?? `http://localhost:${port}`,
  };
}

/**
 * Open the store (running migrations) and load the catalog; a bad catalog is
 * refused here, at start. `offload`: run the long use cases in a worker
 * thread (offload.ts), as a server does; its start begins here.
 */
export async function openEngine(config: FerryConfig, opts: { offload?: boolean } = {}): Promise<Engine> {
  const catalog: Catalog = config.catalogPath ? await readCatalog(config.catalogPath) : DEFAULT_CATALOG;
  let store: Store;
  try {
    store = await Store.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema });
  } catch (e) {
    throw config.databaseUrl ? e : (dataDirError(config.dataDir, e) ?? e);
  }
  let offload: Offload | undefined;
  try {
    if (opts.offload) {
      offload = new Offload({ ...config, catalog }, store.writeGate);
      // Started now, not waited for: the server listens meanwhile, and the first
      // offloaded call waits for the thread (or fails with why it could not start).
      offload.start().catch(() => {});
    }
    const engine = new Engine({ store, catalog, publicUrl: config.publicUrl, offload });
    // The signing key is made at first start (and read at every start), so a server never exports unsigned.
    await engine.signingKey();
    return engine;
  } catch (e) {
    await offload?.close();
    await store.close();
    throw e;
  }
}

/**
 * The embedded store cannot live in the data directory: one line saying
 * which directory and why (read-only, permission denied, not a directory,
 * full), instead of the driver's error and its stack. Null for anything else.
 */
function dataDirError(dataDir: string, e: unknown): FerryError | null {
  let why = describeFsError(e);
  // mkdir -p on a read-only file system says ENOENT: the closest existing parent says why.
  if ((e as { code?: unknown }).code === 'ENOENT') why = notWritable(dataDir) ?? why;
  const sqlite = (e as { code?: unknown }).code;
  if (why === undefined && typeof sqlite === 'string' && sqlite.startsWith('SQLITE_')) {
    if (sqlite === 'SQLITE_FULL') why = 'no space left on the device';
    else if (sqlite === 'SQLITE_NOTADB' || sqlite === 'SQLITE_CORRUPT') why = 'its ferry.sqlite is not a Ferry database, or is damaged';
    else if (sqlite.startsWith('SQLITE_CANTOPEN') || sqlite.startsWith('SQLITE_READONLY') || sqlite.startsWith('SQLITE_IOERR')) {
      // The driver does not say why; the directory does.
      why = notWritable(dataDir) ?? (sqlite.startsWith('SQLITE_READONLY') ? 'its database file is read-only' : 'the database file cannot be opened');
    }
  }
  if (why === undefined) return null;
  return new FerryError('DATA_DIR_UNAVAILABLE', 503, `cannot use the data directory ${dataDir} (FERRY_DATA_DIR): ${why}`, { cause: e });
}

/** Why `dir` (or, while it does not exist, its closest existing parent) cannot be written; undefined when it can. */
function notWritable(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      accessSync(d, constants.W_OK);
      return undefined;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ENOENT' || dirname(d) === d) return describeFsError(e) ?? 'it cannot be written';
    }
  }
}
