/**
 * What an export holds and what an import does, per catalog part (the
 * `part` of each type: `workflow`, `formLayouts`, ...), the grouping the
 * dev2prod statistics report (`Statistics`, `Results`, `Totals`). Pure: the
 * engine or a face loads the entries and calls these.
 */
import { OUTCOMES } from './rules.js';
import type { Catalog, EntryStatus, PlanEntry, TypeCode } from './types.js';

/** The part of objects whose type the catalog no longer knows (a catalog changed since the plan). */
export const UNKNOWN_PART = 'unknown';

/** What an import does (or did) to the objects of one part. */
export interface PartOutcome {
  part: string;
  /** Created. */
  added: number;
  /** Updated or merged. */
  modified: number;
  removed: number;
  /** Invalid in the plan, or the object whose write failed. */
  failed: number;
  /** Left as they are: equal or kept (use existing), ignored, nothing to remove, or not written because the import was refused. */
  skipped: number;
  /** Why objects failed, and why the import was refused: `TYPE id "name": reason`. */
  errors: string[];
  /** Notes on objects that do not stop the import (a ref cleared, an edit in the target overwritten). */
  warnings: string[];
}

export type OutcomeCount = 'added' | 'modified' | 'removed' | 'failed' | 'skipped';
export const OUTCOME_COUNTS: readonly OutcomeCount[] = ['added', 'modified', 'removed', 'failed', 'skipped'];

/**
 * The parts of a catalog, those named in `preferred` first in that order,
 * then the others in the order the catalog first uses them.
 *
 * @example
 * orderedParts(DEFAULT_CATALOG, ['metadata', 'workflow', 'customAction'])
 * // ['metadata', 'workflow', 'uiComponentConfig', 'formLayouts', 'securityConfiguration']
 */
export function orderedParts(catalog: Catalog, preferred: readonly string[] = []): string[] {
  const inCatalog = [...new Set(Object.values(catalog.types).map((t) => t.part))];
  const known = new Set(inCatalog);
  const first = preferred.filter((p, i) => known.has(p) && preferred.indexOf(p) === i);
  const named = new Set(first);
  return [...first, ...inCatalog.filter((p) => !named.has(p))];
}

const partOf = (catalog: Catalog, type: TypeCode): string => catalog.types[type]?.part ?? UNKNOWN_PART;

/** Entity counts by part, from counts by type (a package's `countsByType`). */
export function countByPart(catalog: Catalog, countsByType: Readonly<Record<TypeCode, number>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [type, n] of Object.entries(countsByType)) {
    const part = partOf(catalog, type);
    out.set(part, (out.get(part) ?? 0) + n);
  }
  return out;
}

/**
 * The status an entry ends with: the one an install recorded, or for an
 * entry not installed (a plan), the one the install will record (OUTCOMES,
 * and a removal with nothing to remove is SKIPPED as the install does). A
 * dry run and the run it predicts so go through the same counting.
 */
export function expectedStatus(entry: PlanEntry): EntryStatus {
  if (entry.installationStatus !== 'PENDING') return entry.installationStatus;
  if (entry.action === 'REMOVE' && !entry.targetId) return 'SKIPPED';
  return OUTCOMES[entry.action].status;
}

const COUNT_OF: Record<EntryStatus, OutcomeCount> = {
  INSTALLED: 'added',
  UPDATED: 'modified',
  REMOVED: 'removed',
  REGISTERED: 'skipped',
  SKIPPED: 'skipped',
  PENDING: 'skipped',
  FAILED: 'failed',
};

const emptyOutcome = (part: string): PartOutcome => ({ part, added: 0, modified: 0, removed: 0, failed: 0, skipped: 0, errors: [], warnings: [] });

/**
 * What an import does to each part, from its entries: a plan (dry run), or
 * an installation once it ran. `refusal` says why nothing is (or was)
 * written: a plan with invalid entries, a package status gate, an install
 * that failed and rolled back. Then every entry that did not fail itself is
 * counted as skipped, and the refusal is an error of every part with entries,
 * so a dry run reports exactly the counts of the run it predicts.
 *
 * Messages are capped at `maxMessages` per part and kind, with a last line
 * saying how many more there are: a plan of 100k invalid objects must not
 * make a status poll megabytes long.
 */
export function outcomeByPart(
  catalog: Catalog,
  entries: Iterable<PlanEntry>,
  opts: { refusal: string | null; maxMessages?: number },
): Map<string, PartOutcome> {
  const max = opts.maxMessages ?? 100;
  const out = new Map<string, PartOutcome>();
  const over = new Map<string, { errors: number; warnings: number }>();
  const note = (o: PartOutcome, kind: 'errors' | 'warnings', text: string) => {
    if (o[kind].length < max) return void o[kind].push(text);
    const n = over.get(o.part) ?? { errors: 0, warnings: 0 };
    n[kind]++;
    over.set(o.part, n);
  };
  for (const en of entries) {
    const part = partOf(catalog, en.type);
    let o = out.get(part);
    if (!o) out.set(part, (o = emptyOutcome(part)));
    const what = `${en.type} ${en.sourceId}${en.name ? ` "${en.name}"` : ''}`;
    const status = expectedStatus(en);
    if (status === 'FAILED' || !en.isValid) {
      o.failed++;
      note(o, 'errors', `${what}: ${(status === 'FAILED' ? en.statusReason : en.reason) ?? en.reason ?? 'failed'}`);
      continue;
    }
    o[opts.refusal ? 'skipped' : COUNT_OF[status]]++;
    if (en.reason) note(o, 'warnings', `${what}: ${en.reason}`);
    if (en.drift && (en.action === 'UPDATE' || en.action === 'MERGE')) {
      note(o, 'warnings', `${what}: edited in the target since it was last imported; the import replaces that edit`);
    }
  }
  for (const o of out.values()) {
    const n = over.get(o.part);
    if (n?.errors) o.errors.push(`... and ${n.errors} more`);
    if (n?.warnings) o.warnings.push(`... and ${n.warnings} more`);
    if (opts.refusal) o.errors.push(opts.refusal);
  }
  return out;
}

/** The sums of every part's counts (dev2prod `Totals`). */
export function totalOutcome(outcomes: Iterable<PartOutcome>): Record<OutcomeCount, number> {
  const t: Record<OutcomeCount, number> = { added: 0, modified: 0, removed: 0, failed: 0, skipped: 0 };
  for (const o of outcomes) for (const k of OUTCOME_COUNTS) t[k] += o[k];
  return t;
}

/**
 * Why an import of this plan is refused, or null: the words a dry run and a
 * refused real run share. `blocker` is the engine's install gate (package
 * status) when there is one.
 */
export function importRefusal(invalid: number, blocker: string | null): string | null {
  if (invalid > 0) return `the import is refused: ${invalid} object${invalid === 1 ? '' : 's'} failed (see Errors); nothing is written`;
  return blocker ? `the import is refused: ${blocker}; nothing is written` : null;
}
