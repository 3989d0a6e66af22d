import type { Installation, ObjectRef, Package } from '../../../core/types.js';
import { OP } from '../../../ops/handlers.js';
import type { Operation } from '../../../ops/types.js';
import type { Access } from '../../auth.js';
import type { DialectContext } from '../types.js';

/** Assembly runs as an operation, as the native API runs it: the package answers ASSEMBLING at once (003). */
export function queueAssembly(ctx: DialectContext, access: Access, pkg: Package, selection: ObjectRef[]): Promise<Operation> {
  return ctx.ferry.runner.submit({
    kind: OP.assemble,
    environmentId: pkg.sourceEnvId,
    subject: pkg.id,
    params: { packageId: pkg.id, selection },
    createdBy: access.principal.username,
    address: access.address,
    message: `assembly of package ${pkg.name} queued (promotion API)`,
  });
}

/** An install runs as an operation on the target; its subject is the installation, which is how a status call finds it. */
export function queueInstall(ctx: DialectContext, access: Access, inst: Installation): Promise<Operation> {
  return ctx.ferry.runner.submit({
    kind: OP.install,
    environmentId: inst.targetEnvId,
    subject: inst.id,
    params: { installationId: inst.id },
    createdBy: access.principal.username,
    address: access.address,
    message: `install of ${inst.id} into ${inst.targetEnvId} queued (promotion API)`,
  });
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
    const timer = setTimeout(() => finish(null), timeoutMs);
    const poll = setInterval(() => {
      operations.get(opId).then(
        (op) => {
          if (op && FINISHED.has(op.status)) finish(op);
        },
        () => {},
      );
    }, 250);
  });
}
