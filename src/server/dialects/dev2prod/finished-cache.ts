import type { Operation } from '../../../ops/types.js';

/** Finished operations whose status body is kept, per process (oldest dropped first). */
const SIZE = 2000;

/**
 * The status bodies of finished operations. COMPLETED, FAILED and CANCELLED
 * are final, so a body computed once (an import's reads every plan entry)
 * stays right; CI pipelines poll these hard. Kept with the tenant it was
 * computed for, so a poll through another tenant's path never reads it.
 */
export class FinishedCache<T> {
  private readonly bodies = new Map<string, { tenant: string; body: T }>();

  get(id: string): { tenant: string; body: T } | undefined {
    return this.bodies.get(id);
  }

  /** Keep the body of a finished operation; others are recomputed at every poll. */
  put(op: Operation, tenant: string, body: T): void {
    if (op.status !== 'COMPLETED' && op.status !== 'FAILED' && op.status !== 'CANCELLED') return;
    if (this.bodies.size >= SIZE) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(op.id, { tenant, body });
  }
}
