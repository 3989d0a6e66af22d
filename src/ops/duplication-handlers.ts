import type { Engine } from '../engine/engine.js';
import { DUPLICATION_OPS } from '../engine/duplication.js';
import { abandonDuplication, runExport, runImport, runLocal, type WorkContext, type WorkDeps } from '../engine/duplication-work.js';
import type { FileStore } from '../store/file-store.js';
import type { Operation, OperationHandler, OperationHandlers } from './types.js';

const idOf = (op: Operation) => (op.params as { duplicationId: string }).duplicationId;

/**
 * One handler per side of a project duplication (004). All may run again
 * from the start after their server died: an export rewrites its package, a
 * clone or an import is one transaction (a dead one wrote nothing), and a
 * target that was waiting for its source simply asks again.
 */
function handler(deps: WorkDeps, run: (deps: WorkDeps, id: string, ctx: WorkContext) => Promise<unknown>): OperationHandler {
  return {
    resumable: () => true,
    run: (ctx) => run(deps, idOf(ctx.op), ctx),
    abandon: (op, reason) => abandonDuplication(deps, idOf(op), op.status, reason),
  };
}

export function duplicationHandlers(engine: Engine, files: FileStore): OperationHandlers {
  const deps = { engine, files };
  return {
    [DUPLICATION_OPS.export]: handler(deps, runExport),
    [DUPLICATION_OPS.local]: handler(deps, runLocal),
    [DUPLICATION_OPS.import]: handler(deps, runImport),
  };
}
