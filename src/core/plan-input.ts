import type { Action, Catalog, Decision, Environment, IdMapEntry, MatchPolicy, ObjectRef, PackageEntity, StoredObject, TypeCode } from './types.js';
import { KeyMap } from './key-map.js';

/**
 * What a plan is computed from: the target facts the engine looked up, the
 * user's overrides, the whole input of preparePlan; and `key`, the string
 * key of a (type, id) pair those maps use.
 */

export type { MatchPolicy };

/** What the engine looked up in the target for one prepare, in batches. */
export interface TargetLookup {
  /** key(type, id) -> target object with the same id. */
  byId: Map<string, StoredObject>;
  /** key(type, sourceId) -> ID map row for this source environment. */
  idMap: Map<string, IdMapEntry>;
  /** key(type, targetId) -> target object, for ID map rows and user-chosen targets. */
  targets: Map<string, StoredObject>;
  /** key(type, nkey) -> target objects with that natural key. */
  byKey: Map<string, StoredObject[]>;
  /** key(type, sourceId) -> target id, for refs to objects outside the package. */
  externals: Map<string, string>;
  /**
   * key(type, targetId) of an object a removal would delete -> its owned
   * children in the target. Removing an owner would orphan them, so such a
   * removal is invalid unless the children are removed too.
   */
  ownedChildren?: Map<string, { type: TypeCode; id: string }[]>;
  /**
   * key(type, targetId) of an object a removal would delete -> the target
   * objects that point at it through a plain (non-owner) ref. Deleting it
   * would leave their refs dangling, so such a removal is invalid unless they
   * are removed too or the plan rewrites them without that ref.
   */
  referrers?: Map<string, { type: TypeCode; id: string; field: string }[]>;
}

/** A user's choice for one entry: an action, and for USEEXISTING/UPDATE/MERGE optionally which target object. */
export interface Override {
  type: TypeCode;
  sourceId: string;
  action: Action;
  targetId?: string | null;
}

export interface PrepareInput {
  catalog: Catalog;
  target: Pick<Environment, 'id' | 'parameters' | 'targetOwned'>;
  policy: MatchPolicy;
  /**
   * Never change a matched object on its own: USEEXISTING even when its
   * content differs (003 has no automatic UPDATE; `changes` still lists what
   * differs). A user may still set UPDATE on an entry.
   */
  keepExisting?: boolean;
  /** Package entities in install order. */
  entities: readonly PackageEntity[];
  removals: readonly ObjectRef[];
  lookup: TargetLookup;
  /** Decisions remembered from earlier prepares into this target (applied first). */
  decisions: readonly Decision[];
  /** Overrides given with this prepare or re-validation (win over decisions). */
  overrides: readonly Override[];
  /** positionsOf(entities), when the caller has built it already. */
  positions?: KeyMap<number>;
}

export const key = (type: string, id: string): string => `${type}\u0000${id}`;
