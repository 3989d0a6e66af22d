import type { Catalog, FerryObject, ObjectRef, TypeCode, Via } from './types.js';
import { refsOf, typeSpec } from './refs.js';
import { childTypesOf, type ChildType } from './catalog.js';
import { ValidationError } from './errors.js';

/**
 * Read access to the source environment that assembly needs. Batched so the
 * engine can answer each call with one query per type; the core never knows
 * whether a database, a bundle or a test world sits behind it.
 */
export interface SourceReader {
  /** The objects among keys that exist. */
  getObjects(keys: readonly ObjectRef[]): Promise<FerryObject[]>;
  /** Objects of `types` whose owner ref points at one of ownerIds. */
  getChildren(ownerIds: readonly string[], types: readonly TypeCode[]): Promise<FerryObject[]>;
}

export interface AssembledEntity extends FerryObject {
  via: Via | null;
}

/** A ref from a package entity to an object left outside the package. */
export interface ExternalRef {
  fromType: TypeCode;
  fromId: string;
  field: string;
  type: TypeCode;
  id: string;
  /** The referenced object does not exist in the source either. */
  missing: boolean;
}

export interface Assembly {
  entities: AssembledEntity[];
  externals: ExternalRef[];
}

const key = (type: string, id: string) => `${type}\u0000${id}`;

/**
 * Build the closure of a selection: from each selected object follow refs
 * forward and owned children backward, keeping the objects whose type is in
 * the selected type's `includes` (003 "included promotable sub-objects").
 *
 * An explicit fixpoint over layers (Changesets' dependents loop): each round
 * loads the next frontier in two batched calls, so depth, not size, sets the
 * number of round trips. An object reached from two roots with different
 * include sets is expanded once per distinct root type; it appears once in
 * the result, with the first path that reached it as its `via`.
 *
 * @example
 *   const { entities } = await assemblePackage(reader, [{ type: 'TMPL', id: 't1' }], catalog);
 */
export async function assemblePackage(source: SourceReader, selection: readonly ObjectRef[], catalog: Catalog): Promise<Assembly> {
  if (selection.length === 0) throw new ValidationError('the selection is empty: select at least one object');
  for (const s of selection) typeSpec(catalog, s.type);

  const found = new Map<string, AssembledEntity>();
  /** key -> root types it has been expanded with. */
  const expandedFor = new Map<string, Set<TypeCode>>();
  const externals: ExternalRef[] = [];
  const externalSeen = new Set<string>();

  const selected = await source.getObjects(dedupe(selection));
  const selectedKeys = new Set(selected.map((o) => key(o.type, o.id)));
  const missing = selection.filter((s) => !selectedKeys.has(key(s.type, s.id)));
  if (missing.length > 0) {
    const list = missing
      .slice(0, 5)
      .map((m) => `${m.type}:${m.id}`)
      .join(', ');
    throw new ValidationError(
      `selected object${missing.length > 1 ? 's' : ''} not found in the source environment: ${list}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
    );
  }

  type Item = { obj: FerryObject; root: TypeCode };
  let frontier: Item[] = [];
  for (const obj of selected) {
    if (!found.has(key(obj.type, obj.id))) found.set(key(obj.type, obj.id), { ...obj, via: null });
    frontier.push({ obj, root: obj.type });
  }

  while (frontier.length > 0) {
    // Keep only (object, root) pairs not expanded before: the fixpoint test.
    const todo: Item[] = [];
    for (const item of frontier) {
      const k = key(item.obj.type, item.obj.id);
      const roots = expandedFor.get(k) ?? new Set<TypeCode>();
      if (roots.has(item.root)) continue;
      roots.add(item.root);
      expandedFor.set(k, roots);
      todo.push(item);
    }
    if (todo.length === 0) break;

    // Forward refs.
    const wanted = new Map<string, { ref: ObjectRef; from: { item: Item; field: string }[] }>();
    // Owned children, grouped by the child types to look for.
    const childQueries = new Map<string, { children: ChildType[]; owners: Map<string, Item[]> }>();

    for (const item of todo) {
      const includes = new Set(typeSpec(catalog, item.root).includes);
      const spec = typeSpec(catalog, item.obj.type);
      for (const ref of refsOf(spec, item.obj)) {
        const k = key(ref.type, ref.id);
        if (!includes.has(ref.type)) {
          noteExternal(item.obj, ref.field, ref.type, ref.id, false);
          continue;
        }
        const w = wanted.get(k) ?? { ref: { type: ref.type, id: ref.id }, from: [] };
        w.from.push({ item, field: ref.field });
        wanted.set(k, w);
      }
      const childTypes = childTypesOf(catalog, item.obj.type).filter((c) => includes.has(c.type));
      if (childTypes.length > 0) {
        const qk = childTypes.map((c) => c.type).join(',');
        const q = childQueries.get(qk) ?? { children: childTypes, owners: new Map<string, Item[]>() };
        const list = q.owners.get(item.obj.id) ?? [];
        list.push(item);
        q.owners.set(item.obj.id, list);
        childQueries.set(qk, q);
      }
    }

    const next: Item[] = [];
    const toLoad = [...wanted.values()].filter((w) => !found.has(key(w.ref.type, w.ref.id))).map((w) => w.ref);
    const loaded = toLoad.length > 0 ? await source.getObjects(toLoad) : [];
    const loadedByKey = new Map(loaded.map((o) => [key(o.type, o.id), o]));
    for (const [k, w] of wanted) {
      const known = found.get(k);
      const obj = known ?? loadedByKey.get(k);
      if (!obj) {
        for (const f of w.from) noteExternal(f.item.obj, f.field, w.ref.type, w.ref.id, true);
        continue;
      }
      const first = w.from[0]!;
      if (!known) found.set(k, { ...obj, via: { type: first.item.obj.type, id: first.item.obj.id, field: first.field, kind: 'ref' } });
      for (const f of w.from) next.push({ obj, root: f.item.root });
    }

    for (const q of childQueries.values()) {
      const kids = await source.getChildren(
        [...q.owners.keys()],
        q.children.map((c) => c.type),
      );
      for (const kid of kids) {
        const ownerField = q.children.find((c) => c.type === kid.type)?.field;
        const ownerId = ownerField ? kid.fields[ownerField] : undefined;
        const parents = typeof ownerId === 'string' ? q.owners.get(ownerId) : undefined;
        if (!parents || !ownerField) continue;
        const k = key(kid.type, kid.id);
        if (!found.has(k)) {
          const p = parents[0]!;
          found.set(k, { ...kid, via: { type: p.obj.type, id: p.obj.id, field: ownerField, kind: 'child' } });
        }
        const obj = found.get(k)!;
        for (const p of parents) next.push({ obj, root: p.root });
      }
    }
    frontier = next;
  }

  // A ref first judged external (type outside one root's includes) may point
  // at an object another root pulled in: then it is not external after all.
  const realExternals = externals.filter((e) => !found.has(key(e.type, e.id)));
  return { entities: [...found.values()], externals: realExternals };

  function noteExternal(from: FerryObject, field: string, type: TypeCode, id: string, isMissing: boolean): void {
    const k = `${from.type}\u0000${from.id}\u0000${field}\u0000${id}`;
    if (externalSeen.has(k)) return;
    externalSeen.add(k);
    externals.push({ fromType: from.type, fromId: from.id, field, type, id, missing: isMissing });
  }
}

function dedupe(refs: readonly ObjectRef[]): ObjectRef[] {
  const seen = new Set<string>();
  const out: ObjectRef[] = [];
  for (const r of refs) {
    const k = key(r.type, r.id);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ type: r.type, id: r.id });
  }
  return out;
}

/**
 * The path of refs from a selected object to an entity, for "why is this in
 * the package": `TMPL:t1 <-templateID- TTSK:k1 -roleID-> ROLE:r1`.
 */
export function explainPath(
  entity: { type: TypeCode; id: string; via: Via | null },
  lookup: (type: TypeCode, id: string) => { type: TypeCode; id: string; via: Via | null } | undefined,
): string[] {
  const path: string[] = [];
  let cur: { type: TypeCode; id: string; via: Via | null } | undefined = entity;
  const seen = new Set<string>();
  while (cur) {
    const k = key(cur.type, cur.id);
    if (seen.has(k)) break;
    seen.add(k);
    if (!cur.via) {
      path.unshift(`${cur.type}:${cur.id} (selected)`);
      break;
    }
    const v: Via = cur.via;
    path.unshift(
      v.kind === 'ref'
        ? `${cur.type}:${cur.id} (referenced by ${v.type}:${v.id}.${v.field})`
        : `${cur.type}:${cur.id} (owned child of ${v.type}:${v.id}, via ${v.field})`,
    );
    cur = lookup(v.type, v.id);
  }
  return path;
}
