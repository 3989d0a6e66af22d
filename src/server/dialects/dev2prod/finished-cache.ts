import { NotFoundError } from '../../../core/errors.js';
import type { Operation } from '../../../ops/types.js';
import type { DialectContext } from '../types.js';

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

  /**
   * @param kind the operation kind the status route answers for (OP.export, OP.import)
   * @param what the word a 404 names (`export`, `import`)
   */
  constructor(
    private readonly operations: DialectContext['ferry']['operations'],
    private readonly kind: string,
    private readonly what: string,
  ) {}

  /**
   * The status body of operation `id` polled through `tenant`: the kept one,
   * or `build` of the operation, kept once it is final. An operation of
   * another kind or another tenant is a 404, as a missing one.
   */
  async status(id: string, tenant: string, build: (op: Operation) => Promise<T>): Promise<T> {
    const kept = this.bodies.get(id);
    if (kept?.tenant === tenant) return kept.body;
    const op = (await this.operations.getWithJson(id))?.op;
    if (!op || op.kind !== this.kind || op.environmentId !== tenant) throw new NotFoundError(this.what, id);
    const body = await build(op);
    this.put(op, tenant, body);
    return body;
  }

  /** Keep the body of a finished operation; others are recomputed at every poll. */
  private put(op: Operation, tenant: string, body: T): void {
    if (op.status !== 'COMPLETED' && op.status !== 'FAILED' && op.status !== 'CANCELLED') return;
    if (this.bodies.size >= SIZE) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(op.id, { tenant, body });
  }
}
