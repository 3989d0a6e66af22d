import type { ObjectRef, Package, PackageStatus } from '../core/types.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { changeStatus } from '../core/rules.js';
import { typeSpec } from '../core/refs.js';
import { audit } from './context.js';
import { toCollections, type Actor, type Engine } from './engine.js';
import { validateObjects } from './validate-input.js';

/** Attributes of a package a user may change at once (003 PUT and PATCH). */
export interface PackageEdit {
  name?: string;
  description?: string;
  status?: PackageStatus;
  /** The whole definition, as objects `{type, id, name, fields}`; bumps the version. */
  entities?: unknown[];
}

/**
 * Change several attributes of a package in one request. Every part is
 * checked before anything is written (a name, the objects, the status
 * change), so a refused edit changes nothing. The definition is replaced
 * first and the status set last: a package set ACTIVE in the same request
 * is published with its new content.
 *
 * @example
 *   await editPackage(engine, id, { description: 'v2', status: 'TESTING' }, actor);
 */
export async function editPackage(engine: Engine, id: string, edit: PackageEdit, actor?: Actor): Promise<Package> {
  let pkg = await engine.getPackage(id);
  if (edit.name !== undefined && !edit.name.trim()) throw new ValidationError('a package needs a name');
  if (edit.entities !== undefined) {
    if (pkg.status === 'ASSEMBLING') throw new ConflictError('PACKAGE_ASSEMBLING', `package ${id} is still ASSEMBLING`);
    validateObjects(edit.entities, engine.catalog);
  }
  if (edit.status !== undefined) changeStatus(pkg, edit.status, new Date().toISOString());

  if (edit.entities !== undefined) pkg = await engine.replacePackageEntities(id, edit.entities, actor);
  if (edit.name !== undefined || edit.description !== undefined) {
    pkg = await engine.updatePackageDetails(id, { name: edit.name, description: edit.description }, actor);
  }
  if (edit.status !== undefined && edit.status !== pkg.status) pkg = await engine.setPackageStatus(id, edit.status, actor);
  return pkg;
}

/**
 * An empty package, DRAFT at once (003: DRAFT "is assigned at the conclusion
 * of an assembly process or when creating an empty promotion package"); its
 * definition comes later, by hand or by extraction.
 */
export async function createEmptyPackage(engine: Engine, input: { sourceEnvId: string; name: string; description?: string }, actor?: Actor): Promise<Package> {
  const pkg = await engine.startPackage({ ...input, selection: [] }, actor);
  const draft: Package = { ...pkg, status: 'DRAFT' };
  await engine.store.packages.update(draft);
  return draft;
}

/**
 * Start extracting a package again from its source with a new selection
 * (003 PATCH `objectCollections`): the package goes back to ASSEMBLING, as
 * the document says ("to return the package to the ASSEMBLING stage, you
 * must trigger the extraction process again"), and the assembly that follows
 * leaves it DRAFT. So new content is never installable under an approval
 * given to the old one: a TESTING or ACTIVE package must be set so again.
 * The version is bumped at once, so a plan prepared from the old content is
 * refused at install even while assembly runs. The caller queues the
 * assembly (`Engine.assemble` with the same selection).
 */
export async function restartAssembly(engine: Engine, id: string, selection: ObjectRef[], actor?: Actor): Promise<Package> {
  const pkg = await engine.getPackage(id);
  if (pkg.status === 'ASSEMBLING') throw new ConflictError('PACKAGE_ASSEMBLING', `package ${id} is still ASSEMBLING; wait for it to end`);
  if (selection.length === 0) throw new ValidationError('the selection is empty: select at least one object');
  for (const s of selection) typeSpec(engine.catalog, s.type);
  const next: Package = {
    ...pkg,
    status: 'ASSEMBLING',
    version: pkg.version + 1,
    objectCollections: toCollections(selection),
    assemblyError: null,
    updatedAt: new Date().toISOString(),
  };
  await engine.store.transaction(async (tx) => {
    await tx.packages.update(next);
    await audit(tx, actor, 'package.assemble', pkg.sourceEnvId, id, 'ok', { from: pkg.status, selected: selection.length });
  });
  return next;
}
