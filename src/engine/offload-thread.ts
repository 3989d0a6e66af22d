/**
 * The offload thread (offload.ts says why): an Engine of its own on the
 * same database, running the use cases the main thread sends, one message
 * per call, and answering with the result or the error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../store/store.js';
import type { WriteGate } from '../store/write-gate.js';
import type { ProgressFn } from './context.js';
import { Engine } from './engine.js';
import { deserializeError, ENTRY_SLICE, serializeError, type FromThread, type OffloadConfig, type ToThread } from './offload.js';
import { runVerb, type OffloadVerb, type VerbArgs } from './offload-verbs.js';

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
/** Calls whose caller's progress callback threw: they fail at their next report, with what it threw (an install records its words). */
const stopped = new Map<number, Error>();
/** Results whose long arrays the main thread is pulling, by call. */
const results = new Map<number, Record<string, unknown[]>>();

/** The long arrays of a result, left here to be pulled a slice at a time (ENTRY_SLICE says why). */
function bigArrays(value: unknown): Record<string, unknown[]> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  let big: Record<string, unknown[]> | undefined;
  for (const [k, v] of Object.entries(value)) if (Array.isArray(v) && v.length > ENTRY_SLICE) (big ??= {})[k] = v;
  return big;
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
        const big = results.get(m.id);
        const array = big?.[m.key];
        if (!big || !array) break;
        const items = array.slice(m.from, m.from + ENTRY_SLICE);
        if (m.from + ENTRY_SLICE >= array.length) delete big[m.key];
        if (Object.keys(big).length === 0) results.delete(m.id);
        send({ type: 'slice', id: m.id, key: m.key, items });
        break;
      }
      case 'abort':
        aborts.get(m.id)?.abort();
        break;
      case 'stop':
        stopped.set(m.id, deserializeError(m.error));
        aborts.get(m.id)?.abort();
        break;
      case 'run': {
        const controller = new AbortController();
        aborts.set(m.id, controller);
        const onProgress: ProgressFn | undefined = m.progress
          ? (progress) => {
              const stop = stopped.get(m.id);
              if (stop) throw stop;
              send({ type: 'progress', id: m.id, progress });
            }
          : undefined;
        const job = runVerb(engine, m.verb, { onProgress, signal: controller.signal }, m.args as VerbArgs<OffloadVerb>)
          .then(
            (value) => {
              const big = bigArrays(value);
              if (!big) return send({ type: 'done', id: m.id, value });
              // Big: the rest of the result first, then its long arrays a slice per pull (ENTRY_SLICE says why).
              results.set(m.id, big);
              const rest = { ...(value as object), ...Object.fromEntries(Object.keys(big).map((k) => [k, []])) };
              send({ type: 'done', id: m.id, value: rest, big: Object.fromEntries(Object.entries(big).map(([k, v]) => [k, v.length])) });
            },
            (e: unknown) => send({ type: 'failed', id: m.id, error: serializeError(e) }),
          )
          .finally(() => {
            aborts.delete(m.id);
            stopped.delete(m.id);
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
