import type { PlanEntry } from '../core/types.js';
import { ConflictError } from '../core/errors.js';
import type { Override } from '../core/plan.js';
import type { Actor, Engine } from './engine.js';
import { checkInstallable } from './preflight.js';

/**
 * Get a prepared plan ready to install with the user's last edits (003: the
 * edited `translationMap` sent to `/install`, IGNORE overrides and the like).
 *
 * Every refusal that does not depend on the edits comes first (the plan's
 * state, the package status gate, one-way push, a package or target that
 * moved since the plan was prepared, a running install), so a stale plan is
 * never silently recomputed against a target that changed after the pre-run.
 * Then the edits are applied and the plan is validated like a fresh prepare.
 * Edits that leave invalid entries are refused with those entries named, and
 * the plan is put back as it was: a refused edit changes nothing.
 *
 * Throws the engine's ConflictError (409) or LockedError (423); returns when
 * the install may be queued.
 */
export async function applyInstallEdits(engine: Engine, installationId: string, overrides: readonly Override[], actor?: Actor): Promise<void> {
  await checkInstallable(engine, installationId, { allowInvalid: true });
  if (overrides.length > 0) {
    const before = await engine.getEntries(installationId);
    const plan = await engine.revalidate(installationId, [...overrides], {}, actor);
    if (plan.installation.summary.invalid > 0) {
      await engine.revalidate(installationId, restoring(before, overrides), {}, actor);
      throw invalidPlanError(plan.entries);
    }
  } else {
    const inst = await engine.getInstallation(installationId);
    if (inst.summary.invalid > 0) throw invalidPlanError(await engine.getEntries(installationId));
  }
  // Once more, whole: what the install itself will check first.
  await checkInstallable(engine, installationId);
}

/** Overrides that put the given entries back to what they were before an edit. */
function restoring(before: readonly PlanEntry[], edited: readonly Override[]): Override[] {
  const byKey = new Map(before.map((e) => [`${e.type}\u0000${e.sourceId}`, e]));
  const out: Override[] = [];
  for (const o of edited) {
    const e = byKey.get(`${o.type.toUpperCase()}\u0000${o.sourceId}`);
    if (!e) continue;
    // A target the user had chosen stays chosen; any other is found again by the same rules.
    out.push({ type: e.type, sourceId: e.sourceId, action: e.action, targetId: e.match === 'user' ? e.targetId : null });
  }
  return out;
}

/** 409 naming the invalid entries (the first few) and why each is invalid. */
export function invalidPlanError(entries: readonly PlanEntry[]): ConflictError {
  const invalid = entries.filter((e) => !e.isValid);
  const shown = invalid
    .slice(0, 5)
    .map((e) => `${e.type}:${e.sourceId}${e.name ? ` "${e.name}"` : ''} (${e.action}): ${e.reason ?? 'invalid'}`)
    .join('; ');
  const more = invalid.length > 5 ? `; and ${invalid.length - 5} more` : '';
  const n = invalid.length;
  return new ConflictError(
    'PLAN_INVALID',
    `nothing was installed: ${n} entr${n === 1 ? 'y is' : 'ies are'} invalid: ${shown}${more}. Change their actions, or prepare again`,
  );
}
