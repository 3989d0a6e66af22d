import type { Installation, ObjectRef, Package } from '../core/types.js';
import { OP, type AssembleParams, type InstallParams } from './handlers.js';
import type { Operation, OperationRunner } from './types.js';

/** Who asks for an operation: recorded on it (and it is always visible to them). */
export interface Requester {
  createdBy: string | null;
  address: string | null;
}

/**
 * Queue the assembly of a package from its source environment (create and
 * re-assemble, in every face). Its subject is the package.
 */
export function submitAssembly(
  runner: OperationRunner,
  pkg: Pick<Package, 'id' | 'sourceEnvId'>,
  selection: ObjectRef[],
  by: Requester,
  message?: string,
): Promise<Operation> {
  const params: AssembleParams = { packageId: pkg.id, selection };
  return runner.submit({
    kind: OP.assemble,
    environmentId: pkg.sourceEnvId,
    subject: pkg.id,
    params: { ...params },
    ...by,
    ...(message ? { message } : {}),
  });
}

/**
 * Queue the install of a prepared plan into its target. Its subject is the
 * installation: that is how a status call finds an install queued or running.
 */
export function submitInstall(runner: OperationRunner, inst: Pick<Installation, 'id' | 'targetEnvId'>, by: Requester, message?: string): Promise<Operation> {
  const params: InstallParams = { installationId: inst.id };
  return runner.submit({
    kind: OP.install,
    environmentId: inst.targetEnvId,
    subject: inst.id,
    params: { ...params },
    ...by,
    message: message ?? `install of ${inst.id} into ${inst.targetEnvId} queued`,
  });
}
