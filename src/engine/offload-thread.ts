/**
 * The offload thread (offload.ts says why): an Engine of its own on the
 * same database, running the use cases the main thread sends, one message
 * per call, and answering with the result or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ObjectRef, Package } from '../core/types.js';
import type { Override } from '../core/plan.js';
import { Store } from '../store/store.js';
import type { WriteGate } from '../store/write-gate.js';
import type { Actor, ProgressFn } from './context.js';
import { Engine } from './engine.js';
import { entryStatusCounts } from './history.js';
import { install } from './installs.js';
import { ENTRY_SLICE, serializeError, type FromThread, type OffloadConfig, type OffloadVerb, type ToThread } from './offload.js';
import { assemble } from './packages.js';
import { prepare, revalidate, type PrepareOptions } from './plans.js';
import { rollback } from './rollback.js';

const port = parentPort!;
const config = workerData as OffloadConfig;
const send = (m: FromThread) => port.postMessage(m);

/** The main thread's write gate, asked for by message (write-gate.ts). */
let nextHold = 1;
const granted = new Map<number, () => void>();
const remoteGate: WriteGate = {
  acquire: () =>
    new Promise((resolve) => {
      const id = nextHold++;
      granted.set(id, () => resolve(() => send({ type: 'gate:release', id })));
      send({ type: 'gate:acquire', id });
    }),
};

const aborts = new Map<number, AbortController>();
/** Results whose entries the main thread is pulling, by call. */
const results = new Map<number, unknown[]>();

async function call(engine: Engine, verb: OffloadVerb, args: unknown[], onProgress: ProgressFn | undefined, signal: AbortSignal): Promise<unknown> {
  switch (verb) {
    case 'assemble':
      return assemble(engine, args[0] as Package, args[1] as ObjectRef[], onProgress);
    case 'prepare':
      return prepare(engine, args[0] as string, args[1] as string, { ...(args[2] as PrepareOptions | undefined), onProgress }, args[3] as Actor | undefined);
    case 'revalidate':
      return revalidate(engine, args[0] as string, args[1] as Override[], args[2] as { remember?: boolean } | undefined, args[3] as Actor | undefined);
    case 'install':
      return install(engine, args[0] as string, { onProgress, signal }, args[1] as Actor | undefined);
    case 'rollback':
      return rollback(engine, args[0] as string, args[1] as Actor | undefined);
    case 'entryStatusCounts':
      return entryStatusCounts(engine, args[0] as string);
  }
}

async function main(): Promise<void> {
  const store = await Store.open({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    writeGate: remoteGate,
    // The main thread opened the database and migrated it.
    migrate: false,
  });
  const engine = new Engine({ store, catalog: config.catalog, publicUrl: config.publicUrl });
  const running = new Set<Promise<void>>();
  port.on('message', (m: ToThread) => {
    switch (m.type) {
      case 'gate':
        granted.get(m.id)?.();
        granted.delete(m.id);
        break;
      case 'pull': {
        const entries = results.get(m.id);
        if (!entries) break;
        const items = entries.slice(m.from, m.from + ENTRY_SLICE);
        if (m.from + ENTRY_SLICE >= entries.length) results.delete(m.id);
        send({ type: 'slice', id: m.id, items });
        break;
      }
      case 'abort':
        aborts.get(m.id)?.abort();
        break;
      case 'run': {
        const controller = new AbortController();
        aborts.set(m.id, controller);
        const onProgress: ProgressFn | undefined = m.progress ? (progress) => send({ type: 'progress', id: m.id, progress }) : undefined;
        const job = call(engine, m.verb, m.args, onProgress, controller.signal)
          .then(
            (value) => {
              const entries = (value as { entries?: unknown } | null)?.entries;
              if (!Array.isArray(entries) || entries.length <= ENTRY_SLICE) return send({ type: 'done', id: m.id, value });
              // Big: the rest of the result first, then its entries a slice per pull (ENTRY_SLICE says why).
              results.set(m.id, entries);
              send({ type: 'done', id: m.id, value: { ...(value as object), entries: [] }, entries: entries.length });
            },
            (e: unknown) => send({ type: 'failed', id: m.id, error: serializeError(e) }),
          )
          .finally(() => {
            aborts.delete(m.id);
            running.delete(job);
          });
        running.add(job);
        break;
      }
      case 'close':
        void Promise.allSettled([...running]).then(async () => {
          await store.close();
          port.close();
        });
        break;
    }
  });
  send({ type: 'ready' });
}

main().catch((e: unknown) => {
  // The main thread sees the thread exit and fails its calls with this.
  process.stderr.write(`ferry: the offload thread could not start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
