import type { Installation, ObjectRef, Package } from '../../../core/types.js';
import { submitAssembly, submitInstall } from '../../../ops/submit.js';
import type { Operation } from '../../../ops/types.js';
import type { Access } from '../../auth.js';
import type { DialectContext } from '../types.js';

/** Assembly runs as an operation, as the native API runs it: the package answers ASSEMBLING at once (003). */
export function queueAssembly(ctx: DialectContext, access: Access, pkg: Package, selection: ObjectRef[]): Promise<Operation> {
  const by = access.requester;
  return submitAssembly(ctx.ferry.runner, pkg, selection, by, `assembly of package ${pkg.name} queued (promotion API)`);
}

/** An install runs as an operation on the target; a status call finds it by its subject, the installation. */
export function queueInstall(ctx: DialectContext, access: Access, inst: Installation): Promise<Operation> {
  return submitInstall(ctx.ferry.runner, inst, access.requester);
}

const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * The operation once it has finished, or null after `timeoutMs`. This
 * process's runner tells at once; another server process sharing the
 * database may run it instead, so its row is read too, every 250 ms.
 */
export function settled(ctx: DialectContext, opId: string, timeoutMs: number): Promise<Operation | null> {
  const { runner, operations } = ctx.ferry;
  return new Promise((resolve) => {
    let done = false;
    const finish = (op: Operation | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(poll);
      runner.off('finished', onFinished);
      resolve(op);
    };
    const onFinished = (op: Operation) => {
      if (op.id === opId) finish(op);
    };
    runner.on('finished', onFinished);
    // Neither keeps a closing server alive: the request they serve is what does.
    const timer = setTimeout(() => finish(null), timeoutMs).unref();
    const poll = setInterval(() => {
      operations.get(opId).then(
        (op) => {
          if (op && FINISHED.has(op.status)) finish(op);
        },
        () => {},
      );
    }, 250).unref();
  });
}
