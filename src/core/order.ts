import type { Catalog, FerryObject, TypeCode } from './types.js';
import { refsOf, typeSpec } from './refs.js';

export interface InstallOrder<T extends FerryObject> {
  /** Entities in install order: everything an entity references comes before it, except refs inside a cycle. */
  ordered: T[];
  /** Types by first appearance in install order (003 `metadata.installOrder`). */
  installOrder: TypeCode[];
  /** Refs that point at an entity installed later (cycles, self-references): patched after creation. */
  deferredRefs: number;
  /** Each reference cycle, as a path of `TYPE:id`, for the user. */
  cycles: string[][];
}

const key = (type: string, id: string) => `${type}\u0000${id}`;

/**
 * Order package entities for installation: a topological order of the
 * reference graph (referenced first), cycles collapsed with Tarjan's
 * algorithm. Within one depth of the condensed graph, entities are sorted by
 * type then id so the order, and with it the bundle, is deterministic.
 * Iterative, so a 1M-entity chain does not overflow the stack.
 */
export function orderForInstall<T extends FerryObject>(entities: readonly T[], catalog: Catalog): InstallOrder<T> {
  const n = entities.length;
  const index = new Map<string, number>();
  entities.forEach((e, i) => index.set(key(e.type, e.id), i));

  // Edges i -> j: entity i references entity j (j must come first).
  const adj: number[][] = new Array<number[]>(n);
  for (let i = 0; i < n; i++) {
    const e = entities[i]!;
    const out: number[] = [];
    for (const ref of refsOf(typeSpec(catalog, e.type), e)) {
      const j = index.get(key(ref.type, ref.id));
      if (j !== undefined) out.push(j);
    }
    adj[i] = out;
  }

  const comp = tarjan(adj);
  const compCount = comp.count;

  // Depth of each component = 1 + max depth of the components it references.
  // Tarjan emits components in reverse topological order of the "references"
  // relation, i.e. referenced components first, which is the order we need.
  const depth = new Array<number>(compCount).fill(0);
  const members: number[][] = Array.from({ length: compCount }, () => []);
  for (let i = 0; i < n; i++) members[comp.of[i]!]!.push(i);
  for (let c = 0; c < compCount; c++) {
    let d = 0;
    for (const i of members[c]!) {
      for (const j of adj[i]!) {
        const cj = comp.of[j]!;
        if (cj !== c) d = Math.max(d, depth[cj]! + 1);
      }
    }
    depth[c] = d;
  }

  const order = entities.map((_, i) => i);
  order.sort((a, b) => {
    const da = depth[comp.of[a]!]!;
    const db = depth[comp.of[b]!]!;
    if (da !== db) return da - db;
    const ea = entities[a]!;
    const eb = entities[b]!;
    if (ea.type !== eb.type) return ea.type < eb.type ? -1 : 1;
    return ea.id < eb.id ? -1 : ea.id > eb.id ? 1 : 0;
  });
  const position = new Array<number>(n);
  order.forEach((i, pos) => (position[i] = pos));

  let deferredRefs = 0;
  for (let i = 0; i < n; i++) for (const j of adj[i]!) if (position[j]! >= position[i]!) deferredRefs++;

  const cycles: string[][] = [];
  for (let c = 0; c < compCount; c++) {
    const m = members[c]!;
    const selfRef = m.length === 1 && adj[m[0]!]!.includes(m[0]!);
    if (m.length > 1 || selfRef) {
      cycles.push(m.map((i) => `${entities[i]!.type}:${entities[i]!.id}`).sort());
    }
  }

  const ordered = order.map((i) => entities[i]!);
  const installOrder: TypeCode[] = [];
  const seen = new Set<TypeCode>();
  for (const e of ordered) {
    if (!seen.has(e.type)) {
      seen.add(e.type);
      installOrder.push(e.type);
    }
  }
  return { ordered, installOrder, deferredRefs, cycles };
}

/** Iterative Tarjan SCC. Components are numbered in reverse topological order (sinks first). */
function tarjan(adj: readonly number[][]): { of: number[]; count: number } {
  const n = adj.length;
  const idx = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const of = new Array<number>(n).fill(-1);
  const stack: number[] = [];
  let counter = 0;
  let count = 0;
  const work: { v: number; edge: number }[] = [];

  for (let s = 0; s < n; s++) {
    if (idx[s] !== -1) continue;
    work.push({ v: s, edge: 0 });
    idx[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const v = frame.v;
      const edges = adj[v]!;
      if (frame.edge < edges.length) {
        const w = edges[frame.edge++]!;
        if (idx[w] === -1) {
          idx[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          work.push({ v: w, edge: 0 });
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, idx[w]!);
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === idx[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          of[w] = count;
        } while (w !== v);
        count++;
      }
    }
  }
  return { of, count };
}
