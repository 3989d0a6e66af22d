/**
 * Compare two environments object by object (002: "knowing which environment
 * of a pair has newer copies"): which objects differ, which side is ahead,
 * which exist on one side only. Objects are matched by id, as sync matches
 * them (clones share ids). Read only.
 */
import { unknownType } from '../core/refs.js';
import type { Environment, TypeCode } from '../core/types.js';
import { ValidationError } from '../core/errors.js';
import { changedFields, key } from '../core/plan.js';
import { SYNC_SOURCE_UID, whichIsAhead, type Ahead, type CompareCopy } from '../core/sync-pack.js';
import type { Engine } from './engine.js';

export type CompareStatus = 'same' | 'differs' | 'only-in-a' | 'only-in-b';

export interface CompareItem {
  type: TypeCode;
  id: string;
  /** The name on side a, else on side b. */
  name: string;
  status: CompareStatus;
  /** For `differs`: the side holding the newer copy (`a`, `b`, `both`) or null when Ferry cannot tell. */
  ahead: Ahead['ahead'];
  basis: Ahead['basis'] | null;
  /** For `differs`: the fields that differ (`name` included). */
  changes: string[];
  a: CompareCopy | null;
  b: CompareCopy | null;
}

export interface CompareSummary {
  same: number;
  differs: number;
  aheadInA: number;
  aheadInB: number;
  aheadInBoth: number;
  onlyInA: number;
  onlyInB: number;
}

export interface Comparison {
  a: Pick<Environment, 'id' | 'name' | 'tier'>;
  b: Pick<Environment, 'id' | 'name' | 'tier'>;
  summary: CompareSummary;
  /** Listed items (differing and one-sided; all with `all`), after type, offset and limit. */
  items: CompareItem[];
  /** How many items there are to list, before offset and limit. */
  total: number;
}

const PAGE = 5000;

/**
 * Compare environment a with environment b. Only environment-scoped types are
 * compared: server-scoped objects are one copy shared by both.
 */
export async function compareEnvironments(
  engine: Engine,
  aId: string,
  bId: string,
  opts: { type?: string; all?: boolean; limit?: number; offset?: number } = {},
): Promise<Comparison> {
  const a = await engine.getEnvironment(aId);
  const b = await engine.getEnvironment(bId);
  if (opts.type && !engine.catalog.types[opts.type]) throw new ValidationError(unknownType(engine.catalog, opts.type));
  const types = Object.values(engine.catalog.types)
    .filter((t) => t.scope !== 'server' && (!opts.type || t.code === opts.type))
    .map((t) => t.code);

  const summary: CompareSummary = { same: 0, differs: 0, aheadInA: 0, aheadInB: 0, aheadInBoth: 0, onlyInA: 0, onlyInB: 0 };
  const listed: CompareItem[] = [];
  for (const type of types) {
    const sideA = await copiesOf(engine, a.id, type);
    const sideB = await copiesOf(engine, b.id, type);
    const differing = [...sideA.keys()].filter((id) => sideB.has(id) && sideB.get(id)!.hash !== sideA.get(id)!.hash);
    const givenToB = await syncedHashes(engine, b.id, type, differing);
    const givenToA = await syncedHashes(engine, a.id, type, differing);
    for (const id of [...new Set([...sideA.keys(), ...sideB.keys()])].sort()) {
      const ca = sideA.get(id) ?? null;
      const cb = sideB.get(id) ?? null;
      const item: CompareItem = { type, id, name: (ca ?? cb)!.name, status: 'same', ahead: null, basis: null, changes: [], a: ca, b: cb };
      if (!cb) {
        item.status = 'only-in-a';
        summary.onlyInA++;
      } else if (!ca) {
        item.status = 'only-in-b';
        summary.onlyInB++;
      } else if (ca.hash === cb.hash) {
        summary.same++;
      } else {
        item.status = 'differs';
        summary.differs++;
        const ahead = whichIsAhead(ca, cb, givenToB.get(id), givenToA.get(id));
        item.ahead = ahead.ahead;
        item.basis = ahead.basis;
        if (ahead.ahead === 'a') summary.aheadInA++;
        else if (ahead.ahead === 'b') summary.aheadInB++;
        else if (ahead.ahead === 'both') summary.aheadInBoth++;
      }
      if (opts.all || item.status !== 'same') listed.push(item);
    }
  }

  const offset = opts.offset ?? 0;
  const items = listed.slice(offset, offset + (opts.limit ?? 1000));
  await addChanges(engine, a.id, b.id, items);
  return { a: { id: a.id, name: a.name, tier: a.tier }, b: { id: b.id, name: b.name, tier: b.tier }, summary, items, total: listed.length };
}

/** id -> name, hash and last change of every object of one type in an environment. */
async function copiesOf(engine: Engine, envId: string, type: TypeCode): Promise<Map<string, CompareCopy>> {
  const out = new Map<string, CompareCopy>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await engine.store.objects.list([envId], { type, limit: PAGE, offset });
    for (const o of page.items) out.set(o.id, { name: o.name, hash: o.hash, updatedAt: o.updatedAt });
    if (page.items.length < PAGE) return out;
  }
}

/** id -> the hash sync last wrote into this environment's copy (same id on both sides: a sync keeps ids). */
async function syncedHashes(engine: Engine, envId: string, type: TypeCode, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += PAGE) {
    const rows = await engine.store.idMap.get(
      envId,
      SYNC_SOURCE_UID,
      ids.slice(i, i + PAGE).map((id) => ({ type, id })),
    );
    for (const r of rows) if (r.targetId === r.sourceId) out.set(r.sourceId, r.hash);
  }
  return out;
}

/** The differing fields of the listed items that differ (only those: full objects are read for them alone). */
async function addChanges(engine: Engine, aId: string, bId: string, items: CompareItem[]): Promise<void> {
  const differing = items.filter((i) => i.status === 'differs').map((i) => ({ type: i.type, id: i.id }));
  if (differing.length === 0) return;
  const full = async (envId: string) => new Map((await engine.store.objects.getMany(envId, differing)).map((o) => [key(o.type, o.id), o]));
  const [oa, ob] = [await full(aId), await full(bId)];
  for (const item of items) {
    const x = oa.get(key(item.type, item.id));
    const y = ob.get(key(item.type, item.id));
    if (item.status === 'differs' && x && y) item.changes = changedFields(x, y);
  }
}
