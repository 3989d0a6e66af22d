import type { Catalog, MatchPolicy, PackageEntity, PlanEntry, TypeCode } from './types.js';
import { naturalKeyOf, ownerRefOf, refIds, refsOf, typeSpec } from './refs.js';
import { KeyMap } from './key-map.js';
import type { Matched } from './plan-match.js';

/**
 * The validity rules (DESIGN "Prepare"), run after every override so a
 * re-validated plan is judged exactly like a fresh one.
 */
export function validatePlan(
  catalog: Catalog,
  entities: readonly PackageEntity[],
  entries: PlanEntry[],
  matched: readonly Matched[],
  position: KeyMap<number>,
  translate: (type: TypeCode, id: string) => string | undefined,
  policy: MatchPolicy,
): void {
  const entryOf = (type: TypeCode, id: string): PlanEntry | undefined => {
    const i = position.get(type, id);
    return i === undefined ? undefined : entries[i];
  };
  /** (type, natural key) -> the first CREATE with it. */
  const uniqueCreates = new KeyMap<PlanEntry>();
  for (let i = 0; i < entities.length; i++) {
    const e = entities[i]!;
    const en = entries[i]!;
    const problems: string[] = [];
    const notes: string[] = [];
    if (en.reason) (en.isValid ? notes : problems).push(en.reason);
    const spec = typeSpec(catalog, e.type);
    const m = matched[i];
    const acting = en.action !== 'IGNORE';

    if ((en.action === 'UPDATE' || en.action === 'MERGE' || en.action === 'USEEXISTING') && !en.targetId) {
      if (!m?.problem) problems.push(`${en.action} needs a matching target object, and none was found`);
    }
    if (en.action === 'MERGE' && spec.conflictRule !== 'merge') {
      problems.push(`MERGE applies only to types with the merge rule (users, security roles); ${e.type} does not have it`);
    }
    if (en.action === 'REMOVE') problems.push('REMOVE applies only to the package removals');

    if (acting && (en.action === 'CREATE' || en.action === 'UPDATE' || en.action === 'MERGE')) {
      for (const ref of refsOf(spec, e)) {
        if (translate(ref.type, ref.id) !== undefined) continue;
        const target = entryOf(ref.type, ref.id);
        // An IGNOREd owner is reported once, by the owner rule below.
        if (ref.spec.owner && target?.action === 'IGNORE') continue;
        const why = target ? `${ref.type}:${ref.id} is IGNOREd and has no target object` : `${ref.type}:${ref.id} is not in the package and not in the target`;
        if (ref.spec.required) problems.push(`required ref ${ref.field} -> ${why}`);
        else notes.push(`ref ${ref.field} -> ${why}; it will be cleared`);
      }
    }

    // A child whose owner is IGNOREd must be IGNOREd too (003 "IGNORE" notes).
    // Sync keeps ids: an owner left as it is in the target still owns its children there.
    const owner = ownerRefOf(spec);
    if (owner && acting) {
      for (const ownerId of refIds(e.fields[owner[0]])) {
        const parent = entryOf(owner[1].type, ownerId);
        if (parent && parent.action === 'IGNORE' && !(policy === 'id+name' && parent.targetId)) {
          problems.push(`its owner ${parent.type}:${parent.sourceId} is IGNOREd but it is not: IGNORE it too`);
        }
      }
    }

    if (en.action === 'CREATE' && spec.naturalKey?.unique) {
      const nk = naturalKeyOf(spec, e);
      if (nk !== null) {
        if (m?.obj && en.autoAction !== 'CREATE') {
          problems.push(`CREATE would duplicate the unique ${spec.naturalKey.fields.join('+')} of target ${e.type}:${m.obj.id}`);
        }
        const other = uniqueCreates.get(e.type, nk);
        if (other)
          problems.push(
            `CREATE would duplicate the unique ${spec.naturalKey.fields.join('+')} of ${other.type}:${other.sourceId}, also created by this package`,
          );
        else uniqueCreates.set(e.type, nk, en);
      }
    }

    en.isValid = problems.length === 0;
    const all = [...new Set(problems), ...notes];
    en.reason = all.length > 0 ? all.join('; ') : null;
  }
}
