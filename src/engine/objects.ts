import { unknownType } from '../core/refs.js';
import type { StoredObject } from '../core/types.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { SERVER_SCOPE } from '../store/store.js';
import { audit, bumpVersions, scopeOf, toRow, type Actor, type EngineContext } from './context.js';
import { assertWritable, getEnvironment, holdWritable } from './environments.js';
import { validateObjects } from './validate-input.js';

/** Upsert objects into an environment (one transaction, one version bump). */
export async function loadObjects(ctx: EngineContext, envId: string, input: unknown, actor?: Actor): Promise<{ written: number; version: number }> {
  await assertWritable(ctx, envId);
  const objects = validateObjects(input, ctx.catalog);
  let version = 0;
  await ctx.store.transaction(async (tx) => {
    await holdWritable(
      ctx,
      tx,
      envId,
      objects.map((o) => o.type),
    );
    await tx.objects.upsert(objects.map((o) => toRow(ctx, envId, o)));
    version = await bumpVersions(
      ctx,
      tx,
      envId,
      objects.map((o) => o.type),
    );
    await audit(tx, actor, 'objects.load', envId, null, 'ok', { count: objects.length });
  });
  return { written: objects.length, version };
}

export async function listObjects(
  ctx: EngineContext,
  envId: string,
  opts: { type?: string; limit?: number; offset?: number } = {},
): Promise<{ items: StoredObject[]; total: number }> {
  await getEnvironment(ctx, envId);
  if (opts.type && !ctx.catalog.types[opts.type]) throw new ValidationError(unknownType(ctx.catalog, opts.type));
  const scopes = opts.type ? [scopeOf(ctx, envId, opts.type)] : [envId, SERVER_SCOPE];
  return ctx.store.objects.list(scopes, opts);
}

export async function getObject(ctx: EngineContext, envId: string, type: string, id: string): Promise<StoredObject> {
  await getEnvironment(ctx, envId);
  if (!ctx.catalog.types[type]) throw new NotFoundError('object', `${type}:${id}`);
  const o = await ctx.store.objects.get(scopeOf(ctx, envId, type), type, id);
  if (!o) throw new NotFoundError('object', `${type}:${id}`);
  return o;
}

export async function putObject(ctx: EngineContext, envId: string, obj: unknown, actor?: Actor): Promise<StoredObject> {
  const [o] = validateObjects([obj], ctx.catalog);
  await loadObjects(ctx, envId, [o], actor);
  return getObject(ctx, envId, o!.type, o!.id);
}

export async function deleteObject(ctx: EngineContext, envId: string, type: string, id: string, actor?: Actor): Promise<void> {
  await assertWritable(ctx, envId);
  await getObject(ctx, envId, type, id);
  await ctx.store.transaction(async (tx) => {
    await holdWritable(ctx, tx, envId, [type]);
    await tx.objects.delete(scopeOf(ctx, envId, type), [{ type, id }]);
    await bumpVersions(ctx, tx, envId, [type]);
    await audit(tx, actor, 'objects.delete', envId, `${type}:${id}`, 'ok', {});
  });
}
