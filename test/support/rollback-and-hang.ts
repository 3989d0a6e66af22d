/**
 * A process that rolls an installation back and stops inside the rollback's
 * transaction, its work done but not committed, holding whatever lock the
 * rollback took, until it is killed: what a SIGKILL during a rollback
 * leaves. Run as `node --import tsx rollback-and-hang.ts <installationId>`
 * with FERRY_DATA_DIR, or FERRY_DATABASE_URL and FERRY_DATABASE_SCHEMA.
 * Prints "inside" once it is there.
 */
import { configFromEnv, openEngine } from '../../src/engine/open.js';

const engine = await openEngine(configFromEnv());
const store = engine.store;
const transaction = store.transaction.bind(store);
store.transaction = <T>(fn: (tx: typeof store) => Promise<T>): Promise<T> =>
  transaction(async (tx) => {
    await fn(tx);
    process.stdout.write('inside\n');
    return new Promise<T>(() => {});
  });
await engine.rollback(process.argv[2]!);
