import type { Installation, ObjectRef, Package } from '../core/types.js';
import { OP, type AssembleParams, type ExportParams, type ImportParams, type InstallParams } from './handlers.js';
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

/**
 * Queue the export of a package to a `.ferry` bundle in the file store (the
 * native API and dev2prod). Its subject is the package. The caller refuses a
 * package that is not assembled first, in its own face's words.
 */
export function submitExport(runner: OperationRunner, pkg: Pick<Package, 'id' | 'name' | 'sourceEnvId'>, by: Requester): Promise<Operation> {
  const params: ExportParams = { packageId: pkg.id };
  return runner.submit({
    kind: OP.export,
    environmentId: pkg.sourceEnvId,
    subject: pkg.id,
    params: { ...params },
    ...by,
    message: `export of package ${pkg.name} queued`,
  });
}

/** Queue the import of a bundle file (`fileName`, for the message) into its target, or its dry run (the native API and dev2prod). */
export function submitImport(runner: OperationRunner, params: ImportParams, fileName: string, by: Requester): Promise<Operation> {
  return runner.submit({
    kind: OP.import,
    environmentId: params.targetEnvId,
    subject: null,
    params: { ...params },
    ...by,
    message: `${params.dryRun ? 'dry-run ' : ''}import of ${fileName} into ${params.targetEnvId} queued`,
  });
}
