/**
 * Synthetic source environments for the demo, tests and benchmarks: a
 * realistic mix of every type of the default catalog, generated as a stream.
 *
 * Design (why it looks the way it does):
 * - Pure and deterministic: the same options give the same objects, byte for
 *   byte. Content (names, fields, structure) depends on `seed` only; ids
 *   depend on `seed` and `idPrefix`, so one seed with two prefixes gives two
 *   environments with the same names and different ids (a natural-key match).
 * - Streaming: ids are a hash of (seed, idPrefix, type, counter), so a ref to
 *   any object (even one yielded later, which is how cycles are made) is
 *   computed from its counter instead of being looked up. Only small arrays
 *   survive between objects (group levels, cached ids of shared objects).
 * - Exact size: a plan computed up front sizes every family from N (shared
 *   objects grow sub-linearly, see FAMILIES), and templates fill the rest;
 *   the last template is shaped to the exact remaining budget. Everything
 *   that decides how many objects exist comes from `hashInt` of indices, not
 *   from the sequential content PRNG, so `sampleSelection` can replay the
 *   plan without generating anything.
 *
 * The pieces live in ./sample/: randomness and ids (random.ts), word lists
 * and names (words.ts, names.ts), the plan (plan.ts), the state a run shares
 * (context.ts), and one generator per section, in output order (security,
 * forms, organization, workflow, reporting, work).
 */
import type { FerryObject } from '../core/types.js';
import { createContext } from './sample/context.js';
import { generateForms } from './sample/forms.js';
import { categoryName, dashboardName, templateName } from './sample/names.js';
import { makePlan, type SampleOptions } from './sample/plan.js';
import { Ids } from './sample/random.js';
import { generateReporting } from './sample/reporting.js';
import { generateSecurity } from './sample/security.js';
import { generateOrganization } from './sample/organization.js';
import { generateWork } from './sample/work.js';
import { generateWorkflow } from './sample/workflow.js';

export type { SampleOptions } from './sample/plan.js';

/**
 * Yields about `opts.objects` objects (exactly, from ~150 up) forming a
 * realistic source environment of the default catalog: shared objects
 * (groups, roles, forms, approval processes...), reports and dashboards,
 * a few projects, and templates with their tasks as the bulk. Refs never
 * dangle (some point forward, at objects yielded later), required refs are
 * always set, unique natural keys are unique, and a few cycles exist:
 * GROUP <-> CTGY through categoryID/groupID, TTSK and TASK pairs that are
 * each other's parentID, and predecessor loops (TPRED/PRED) among tasks.
 * Streams: memory does not grow with N.
 */
export function* generateSample(opts: SampleOptions): Generator<FerryObject> {
  // The sections share one content PRNG: their order is part of the output.
  const s = createContext(opts);
  yield* generateSecurity(s);
  yield* generateForms(s);
  yield* generateOrganization(s);
  yield* generateWorkflow(s);
  yield* generateReporting(s);
  yield* generateWork(s);
}

/**
 * A selection for a demo or benchmark package: every template, dashboard
 * and category of `generateSample(opts)`, with the same ids and names,
 * computed from the plan without generating the environment.
 */
export function sampleSelection(opts: SampleOptions): { type: string; id: string; name?: string }[] {
  const plan = makePlan(opts);
  const ids = new Ids(opts.seed ?? 'ferry', opts.idPrefix ?? '');
  const out: { type: string; id: string; name?: string }[] = [];
  for (let i = 0; i < plan.templates; i++) out.push({ type: 'TMPL', id: ids.of('TMPL', i), name: templateName(i, plan.salt % 120) });
  for (let k = 0; k < plan.counts.PTLTAB; k++) out.push({ type: 'PTLTAB', id: ids.of('PTLTAB', k), name: dashboardName(k, plan.salt % 32) });
  for (let c = 0; c < plan.counts.CTGY; c++) out.push({ type: 'CTGY', id: ids.of('CTGY', c), name: categoryName(c) });
  return out;
}
