import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OperationsStore } from '../store/operations-store.js';
import type { Operation } from '../ops/types.js';

/**
 * Prometheus metrics of one server instance. A registry per app (not
 * prom-client's global one) so several apps in one process (tests) do not
 * collide on metric names.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly durations: Histogram<'method' | 'route' | 'status'>;
  readonly operationsFinished: Counter<'kind' | 'status'>;
  readonly objectsInstalled: Counter<'status'>;

  constructor(ops: OperationsStore, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // Counted once per request, by the duration histogram (its _count); this counter is read from it at scrape time.
    const durations = (this.durations = new Histogram({
      name: 'ferry_http_request_duration_seconds',
      help: 'HTTP request duration in seconds by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }));
    this.requests = new Counter({
      name: 'ferry_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
      async collect() {
        const counted = await durations.get();
        // Reset and filled in one turn: two scrapes at once never add twice.
        this.reset();
        for (const v of counted.values) {
          if (v.metricName === 'ferry_http_request_duration_seconds_count') this.inc(v.labels as Record<'method' | 'route' | 'status', string>, v.value);
        }
      },
    });
    this.operationsFinished = new Counter({
      name: 'ferry_operations_finished_total',
      help: 'Operations this process saw finish, by kind and final status',
      labelNames: ['kind', 'status'],
      registers,
    });
    this.objectsInstalled = new Counter({
      name: 'ferry_objects_installed_total',
      help: 'Objects written by installs run by this process, by per-object status (INSTALLED, UPDATED, REGISTERED, SKIPPED, REMOVED)',
      labelNames: ['status'],
      registers,
    });
    // Read from the database at scrape time: the truth across every process sharing it.
    new Gauge({
      name: 'ferry_operations',
      help: 'Operations in the database by kind and status',
      labelNames: ['kind', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const r of await ops.countByKindAndStatus()) this.set({ kind: r.kind, status: r.status }, r.n);
      },
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ferry_' });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.durations.observe({ method, route, status: String(status) }, seconds);
  }

  /** Called when an operation finishes; installs add their per-object counts. */
  observeOperation(op: Operation): void {
    this.operationsFinished.inc({ kind: op.kind, status: op.status });
    const counts = (op.result as { counts?: Record<string, number> } | null)?.counts;
    if (op.status === 'COMPLETED' && counts) {
      for (const [status, n] of Object.entries(counts)) if (n > 0) this.objectsInstalled.inc({ status }, n);
    }
  }
}
