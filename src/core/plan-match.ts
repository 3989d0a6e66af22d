import type { Catalog, FerryObject, IdMapEntry, MatchKind, MatchPolicy, PlanEntry, StoredObject, TypeSpec } from './types.js';
import { naturalKeyOf, typeSpec } from './refs.js';
import { KeyMap } from './key-map.js';
import { key, type TargetLookup } from './plan-input.js';

/** How a package entity finds its target object (DESIGN "Prepare": same id, ID map, natural key), and one target object per source. */

export type Matched = { obj: StoredObject | undefined; problem: string | null; idMap: IdMapEntry | undefined };

/** How strongly an entity holds its target object: the same id first, then a user's choice, the ID map, a name. */
const MATCH_RANK: Record<MatchKind, number> = { id: 0, user: 1, idmap: 2, naturalKey: 3, none: 4 };

/**
 * One target object, one source. Two entities matched to the same object
 * would both write it (the last write would win and the ID map would point
 * two sources at it), so the strongest match keeps it. A loser matched only
 * by a non-unique name simply has no match (CREATE); any other loser is
 * invalid, with the reason naming the winner.
 */
export function releaseSharedTargets(catalog: Catalog, entries: PlanEntry[], matched: Matched[]): void {
  const holder = new KeyMap<number>();
  const losers: [loser: number, winner: number][] = [];
  for (let i = 0; i < entries.length; i++) {
    const en = entries[i]!;
    if (!en.targetId || !matched[i]!.obj) continue;
    const j = holder.get(en.type, en.targetId);
    if (j === undefined) {
      holder.set(en.type, en.targetId, i);
      continue;
    }
    const other = entries[j]!;
    if (MATCH_RANK[en.match] < MATCH_RANK[other.match]) {
      holder.set(en.type, en.targetId, i);
      losers.push([j, i]);
    } else {
      losers.push([i, j]);
    }
  }
  for (const [i, w] of losers) {
    const en = entries[i]!;
    const winner = entries[w]!;
    const m = matched[i]!;
    const unique = typeSpec(catalog, en.type).naturalKey?.unique ?? false;
    if (en.match === 'naturalKey' && !unique) {
      matched[i] = { obj: undefined, problem: null, idMap: m.idMap };
      if (en.action === 'USEEXISTING') en.action = 'CREATE';
      en.autoAction = 'CREATE';
      en.targetId = null;
      en.match = 'none';
      continue;
    }
    matched[i] = {
      obj: undefined,
      problem: `target ${en.type}:${en.targetId} is already matched by ${winner.type}:${winner.sourceId} (by ${winner.match === 'naturalKey' ? 'natural key' : winner.match}); choose another target or CREATE`,
      idMap: m.idMap,
    };
  }
}

export function findMatch(
  spec: TypeSpec,
  e: FerryObject,
  lookup: TargetLookup,
  policy: MatchPolicy,
  k: string = key(e.type, e.id),
): { obj: StoredObject | undefined; kind: MatchKind; problem: string | null } {
  const same = lookup.byId.get(k);
  if (policy === 'id+name') {
    if (same) {
      if (same.name === e.name) return { obj: same, kind: 'id', problem: null };
      return {
        obj: undefined,
        kind: 'none',
        problem: `conflict: target ${e.type}:${e.id} is named "${same.name}", not "${e.name}" (sync matches on id and name)`,
      };
    }
    // Another object of the target already answers to this name: creating
    // a second one would be a duplicate, updating it would cross ids (002).
    const nk = naturalKeyOf(spec, e);
    const other = nk === null ? undefined : lookup.byKey.get(key(e.type, nk))?.[0];
    if (other) {
      return {
        obj: undefined,
        kind: 'none',
        problem: `conflict: target ${e.type}:${other.id} is named "${other.name}" and has another id than ${e.id} (sync matches on id and name)`,
      };
    }
    return { obj: undefined, kind: 'none', problem: null };
  }
  if (same) return { obj: same, kind: 'id', problem: null };
  const row = lookup.idMap.get(k);
  if (row) {
    const obj = lookup.targets.get(key(e.type, row.targetId));
    if (obj) return { obj, kind: 'idmap', problem: null };
  }
  const nk = naturalKeyOf(spec, e);
  if (nk !== null) {
    const found = lookup.byKey.get(key(e.type, nk)) ?? [];
    if (found.length === 1) return { obj: found[0], kind: 'naturalKey', problem: null };
    if (found.length > 1) {
      const ids = found
        .slice(0, 3)
        .map((o) => o.id)
        .join(', ');
      return {
        obj: undefined,
        kind: 'naturalKey',
        problem: `ambiguous: ${found.length} target ${e.type} objects match "${e.name}" (${ids}${found.length > 3 ? ', ...' : ''}); choose one or CREATE`,
      };
    }
  }
  return { obj: undefined, kind: 'none', problem: null };
}
