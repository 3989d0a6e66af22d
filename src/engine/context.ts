import type { Catalog, FerryObject, StoredObject, TypeCode } from '../core/types.js';
import { groupBy } from '../core/group.js';
import { contentHashAndFields } from '../core/hash.js';
import { key } from '../core/plan.js';
import { naturalKeyOf, ownerIdOf, typeSpec } from '../core/refs.js';
import { SERVER_SCOPE, type ObjectRow, type Store } from '../store/store.js';

/**
 * What every use case runs on: the store, the catalog and this server's
 * public URL. `Engine` is one; the use-case modules take it as their first
 * argument, so a face may call `prepare(engine, ...)` or `engine.prepare(...)`.
 */
export interface EngineContext {
  readonly store: Store;
  readonly catalog: Catalog;
  /** Public base URL of this server (bundle headers, package `source`). */
  readonly publicUrl: string;
}

/** Who asks, for the audit log. */
export interface Actor {
  actor: string | null;
  address?: string | null;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
}
export type ProgressFn = (p: Progress) => void;

export const now = () => new Date().toISOString();

/** The store environment an object of `type` lives in, seen from environment envId. */
export function scopeOf(ctx: EngineContext, envId: string, type: TypeCode): string {
  return typeSpec(ctx.catalog, type).scope === 'server' ? SERVER_SCOPE : envId;
}

export function splitByScope<T extends { type: TypeCode }>(ctx: EngineContext, envId: string, items: readonly T[]): Map<string, T[]> {
  return groupBy(items, (it) => scopeOf(ctx, envId, it.type));
}

/** Append to the audit log through `store` (a transaction, to record the change and its audit together). */
export async function audit(
  store: Store,
  actor: Actor | undefined,
  action: string,
  envId: string | null,
  subject: string | null,
  result: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await store.audit.append({ actor: actor?.actor ?? null, address: actor?.address ?? null, action, envId, subject, result, detail });
}

/** The stored row of an object written through environment envId: its scope, hash, natural key and owner. */
export function toRow(ctx: EngineContext, envId: string, o: FerryObject): ObjectRow {
  const spec = typeSpec(ctx.catalog, o.type);
  const { hash, fieldsJson } = contentHashAndFields(o.name, o.fields);
  return {
    envId: scopeOf(ctx, envId, o.type),
    type: o.type,
    id: o.id,
    name: o.name,
    fields: o.fields,
    fieldsJson,
    hash,
    nkey: naturalKeyOf(spec, o),
    ownerId: ownerIdOf(spec, o),
  };
}

/** True when any of `types` is server-scoped (one copy shared by every environment). */
export function touchesServerScope(ctx: EngineContext, types: Iterable<TypeCode>): boolean {
  for (const t of types) if (ctx.catalog.types[t]?.scope === 'server') return true;
  return false;
}

/**
 * Every write bumps the version of the environment it went through; a
 * write that touched server-scoped objects (users, groups, roles) changes
 * what every environment sees, so plans prepared against any of them are
 * stale too.
 */
export async function bumpVersions(ctx: EngineContext, tx: Store, envId: string, types: Iterable<TypeCode>): Promise<number> {
  const version = await tx.environments.bumpVersion(envId);
  if (touchesServerScope(ctx, types)) await tx.environments.bumpOtherVersions(envId);
  return version;
}

/**
 * The row locks a write transaction takes before it writes anything: its
 * environment's row, or, when it writes server-scoped objects (and so bumps
 * every environment's version), every environment's row in id order.
 *
 * Why an order and not a retry on 40P01: two such writes through different
 * environments each held their own row and then waited for the other's in
 * bumpOtherVersions, and PostgreSQL killed one. Taking all rows in one
 * order first makes that cycle impossible, so no transaction is ever rolled
 * back and run again (an install is minutes of work, and callers' side
 * effects around a transaction would have to be safe to repeat). The price:
 * such a write waits for any transaction holding an environment's row (an
 * install elsewhere), as it did before at its bump, and meanwhile holds the
 * rows before it.
 */
export async function lockForWrite(ctx: EngineContext, tx: Store, envId: string, types: Iterable<TypeCode>): Promise<void> {
  if (touchesServerScope(ctx, types)) await tx.environments.lockAllRows();
  else await tx.environments.lockRow(envId);
}

/** key(type, id) -> the target object, for those of `keys` that exist. */
export async function loadTargets(
  ctx: EngineContext,
  store: Store,
  envId: string,
  keys: readonly { type: TypeCode; id: string }[],
): Promise<Map<string, StoredObject>> {
  const out = new Map<string, StoredObject>();
  for (const [scope, list] of splitByScope(ctx, envId, keys)) {
    for (const o of await store.objects.getMany(scope, list)) out.set(key(o.type, o.id), o);
  }
  return out;
}
