import type { Catalog } from '../core/types.js';
import { DEFAULT_CATALOG } from '../core/default-catalog.js';
import { Store } from '../store/store.js';
import { readCatalog } from './catalog-file.js';
import { Engine } from './engine.js';

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

/** Open the store (running migrations) and load the catalog; a bad catalog is refused here, at start. */
export async function openEngine(config: FerryConfig): Promise<Engine> {
  const catalog: Catalog = config.catalogPath ? await readCatalog(config.catalogPath) : DEFAULT_CATALOG;
  const store = await Store.open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, schema: config.databaseSchema });
  return new Engine({ store, catalog, publicUrl: config.publicUrl });
}
