import type { Environment, Package, PackageEntity, TypeCode } from '../core/types.js';
import type { KeyMap } from '../core/key-map.js';
import { externalRefKeys, key, type TargetLookup } from '../core/plan.js';
import { naturalKeyOf, ownerIdOf, refsOf, typeSpec } from '../core/refs.js';
import { childTypesOf } from '../core/catalog.js';
import { groupByType } from '../store/store.js';
import { loadTargets, scopeOf, splitByScope, type EngineContext, type ProgressFn } from './context.js';

/** Every target fact the plan needs, in batched queries. */
export async function buildLookup(
  ctx: EngineContext,
  target: Environment,
  pkg: Package,
  entities: readonly PackageEntity[],
  positions: KeyMap<number>,
  choices: readonly { type: TypeCode; targetId: string | null }[],
  onProgress?: ProgressFn,
): Promise<TargetLookup> {
  const lookup: TargetLookup = { byId: new Map(), idMap: new Map(), targets: new Map(), byKey: new Map(), externals: new Map() };
  const externals = externalRefKeys(ctx.catalog, entities, positions);
  // Package entities are matched by joins in the database (they are stored
  // there); removals and external refs, few, by key.
  const others = [...pkg.removals.map((r) => ({ type: r.type, id: r.id })), ...externals];
  const total = entities.length + others.length;

  // Same id in the target (rule 1), for entities, removals and external refs.
  const entityKeys = entities.map((e) => ({ type: e.type, id: e.id }));
  for (const [scope, list] of splitByScope(ctx, target.id, entityKeys)) {
    for (const o of await ctx.store.objects.getLikePackage(scope, pkg.id, list)) lookup.byId.set(key(o.type, o.id), o);
  }
  onProgress?.({ phase: 'match', done: entities.length, total });
  for (let i = 0; i < others.length; i += 5000) {
    for (const [k, o] of await loadTargets(ctx, ctx.store, target.id, others.slice(i, i + 5000))) lookup.byId.set(k, o);
    onProgress?.({ phase: 'match', done: entities.length + Math.min(i + 5000, others.length), total });
  }

  // ID map (rule 2), and the target objects it points at.
  const rows = [
    ...(await ctx.store.idMap.getForPackage(target.id, pkg.sourceEnvUid, pkg.id, entityKeys)),
    ...(await ctx.store.idMap.get(target.id, pkg.sourceEnvUid, others)),
  ];
  for (const r of rows) lookup.idMap.set(key(r.type, r.sourceId), r);
  const targetKeys = [
    ...rows.map((r) => ({ type: r.type, id: r.targetId })),
    ...choices.filter((c) => c.targetId).map((c) => ({ type: c.type, id: c.targetId! })),
  ];
  lookup.targets = await loadTargets(ctx, ctx.store, target.id, targetKeys);

  // External refs: the same id in the target, else what the ID map says (if it still exists).
  for (const x of externals) {
    const k = key(x.type, x.id);
    if (lookup.byId.has(k)) lookup.externals.set(k, x.id);
    else {
      const r = lookup.idMap.get(k);
      if (r && lookup.targets.has(key(r.type, r.targetId))) lookup.externals.set(k, r.targetId);
    }
  }

  // Owned children of objects a removal would delete (orphan check).
  const removalTargets: { type: TypeCode; id: string }[] = [];
  for (const r of pkg.removals) {
    const k = key(r.type, r.id);
    const obj = lookup.byId.get(k) ?? (lookup.idMap.get(k) ? lookup.targets.get(key(r.type, lookup.idMap.get(k)!.targetId)) : undefined);
    if (obj) removalTargets.push({ type: obj.type, id: obj.id });
  }
  if (removalTargets.length > 0) {
    const owned = (lookup.ownedChildren = new Map<string, { type: TypeCode; id: string }[]>());
    for (const [scope, list] of splitByScope(ctx, target.id, removalTargets)) {
      for (const [type, ids] of groupByType(list)) {
        // Children of these types name an owner of `type` in their owner ref.
        const childTypes = childTypesOf(ctx.catalog, type).map((c) => c.type);
        if (childTypes.length === 0) continue;
        const wanted = new Set(ids);
        for (const kid of await ctx.store.objects.getChildren(scope, ids, childTypes)) {
          const ownerId = ownerIdOf(typeSpec(ctx.catalog, kid.type), kid);
          if (ownerId === null || !wanted.has(ownerId)) continue;
          const ok = key(type, ownerId);
          const list = owned.get(ok);
          if (list) list.push({ type: kid.type, id: kid.id });
          else owned.set(ok, [{ type: kid.type, id: kid.id }]);
        }
      }
    }
  }

  // Target objects that point at what a removal deletes through a plain
  // ref (the dangling-ref check). No index holds refs: the types that can
  // point at a removed type are searched for the ids in their fields.
  if (removalTargets.length > 0) {
    const referrers = (lookup.referrers = new Map<string, { type: TypeCode; id: string; field: string }[]>());
    const removed = groupByType(removalTargets);
    const wanted = new Set(removalTargets.map((t) => key(t.type, t.id)));
    for (const spec of Object.values(ctx.catalog.types)) {
      const ids = new Set<string>();
      for (const ref of Object.values(spec.refs)) if (!ref.owner) for (const id of removed.get(ref.type) ?? []) ids.add(id);
      if (ids.size === 0) continue;
      for (const o of await ctx.store.objects.findMentioning(scopeOf(ctx, target.id, spec.code), spec.code, [...ids])) {
        for (const ref of refsOf(spec, o)) {
          const k = key(ref.type, ref.id);
          if (ref.spec.owner || !wanted.has(k)) continue;
          const list = referrers.get(k);
          if (list) list.push({ type: o.type, id: o.id, field: ref.field });
          else referrers.set(k, [{ type: o.type, id: o.id, field: ref.field }]);
        }
      }
    }
  }

  // Natural keys (rule 3), only for entities not matched by id or ID map.
  const byType = new Map<TypeCode, string[]>();
  for (const e of entities) {
    const k = key(e.type, e.id);
    if (lookup.byId.has(k)) continue;
    const r = lookup.idMap.get(k);
    if (r && lookup.targets.has(key(e.type, r.targetId))) continue;
    const nk = naturalKeyOf(typeSpec(ctx.catalog, e.type), e);
    if (nk === null) continue;
    const list = byType.get(e.type) ?? [];
    list.push(nk);
    byType.set(e.type, list);
  }
  for (const [type, nkeys] of byType) {
    for (const o of await ctx.store.objects.findByNaturalKey(scopeOf(ctx, target.id, type), type, [...new Set(nkeys)])) {
      const k = key(type, o.nkey);
      const list = lookup.byKey.get(k) ?? [];
      list.push(o);
      lookup.byKey.set(k, list);
    }
  }
  return lookup;
}
