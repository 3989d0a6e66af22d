/**
 * The plan of a sample environment: how many of every family (sized from N,
 * shared objects growing sub-linearly), the shape of each project and
 * template, and the pairings that make cycles. Every decision is a `hashInt`
 * of indices, so the plan replays without generating anything.
 */
import { hashInt, seedNumber } from './random.js';
import { CATEGORY_CODES, MILESTONES_PER_PATH } from './words.js';

/** Options of `generateSample`. */
export interface SampleOptions {
  /**
   * How many objects to yield. Exact from about 150 up; below that the
   * minimal structure (one of each shared type, one project, one template)
   * makes the environment somewhat larger than asked.
   */
  objects: number;
  /** Varies content and ids; default `ferry`. */
  seed?: string;
  /** Mixed into every id only: same seed + another prefix = same content, other ids. */
  idPrefix?: string;
}

const BASE_N = 300;

/**
 * Top-level counts as `max(min, round(base * (N/300)^exp))`: `base` is the
 * count in a 300-object environment; the exponent says how the family grows
 * (an instance with 100x more templates has maybe 15x more roles, and
 * reports grow nearly as fast as templates). Templates take what is left.
 */
const FAMILIES = {
  SECROLE: [3, 0.2, 2],
  USRGRP: [3, 0.3, 2],
  USER: [5, 0.4, 2],
  PGRP: [2, 0.5, 1],
  PARAM: [8, 0.7, 3],
  GROUP: [8, 0.6, 2],
  CTGY: [3, 0.65, 3],
  ROLE: [6, 0.55, 3],
  TEAM: [4, 0.6, 1],
  CMPY: [3, 0.6, 1],
  SCHED: [2, 0.4, 1],
  HOURT: [4, 0.4, 1],
  TSPRO: [2, 0.4, 1],
  EXPTYP: [2, 0.4, 1],
  RSKTYP: [2, 0.4, 1],
  RSPL: [2, 0.5, 1],
  MPATH: [2, 0.5, 1],
  ARVPRC: [2, 0.6, 1],
  QUED: [1, 0.5, 1],
  UIFT: [3, 0.8, 1],
  UIGB: [2, 0.8, 1],
  UIVW: [3, 0.8, 1],
  PTLSEC: [4, 0.8, 1],
  CALEND: [1, 0.6, 1],
  EXTSEC: [2, 0.5, 1],
  PTLTAB: [2, 0.7, 1],
  UITMPL: [1, 0.5, 1],
  PORT: [1, 0.5, 1],
  PROJ: [1, 0.7, 1],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Family = keyof typeof FAMILIES;

// Salts of the structural hashes, one per decision.
export const H = {
  popt: 1,
  ctgypa: 2,
  ctcsd: 3,
  rate: 4,
  nonwkd: 5,
  arvpth: 6,
  arvstp: 7,
  spapvr: 8,
  quetgp: 9,
  quet: 10,
  calsec: 11,
  prgm: 12,
  tmpl: 13,
  proj: 14,
  assign: 15,
};

/** A template's or project's tasks: parent index per task, assignments per task, predecessor pairs. */
export interface WorkShape {
  tasks: number;
  parent: number[];
  summary: boolean[];
  assigns: number[];
  /** [successor, predecessor] task indices. */
  preds: [number, number][];
}

function shapeSize(s: WorkShape): number {
  return 1 + s.tasks + s.assigns.reduce((a, b) => a + b, 0) + s.preds.length;
}

/**
 * Tasks in phases: each phase is a summary task with its children, children
 * chained by predecessors across phases. `parentLoop` makes the first summary
 * and its first child parents of each other; `predLoop` closes the first
 * phase's predecessor chain into a loop: the cycles real data has and an
 * install must survive (two-phase install).
 */
function workShape(tasks: number, h: number, parentLoop: boolean, predLoop: boolean): WorkShape {
  const t = Math.max(2, tasks);
  const phases = Math.max(1, Math.min(2 + (h % 3), Math.floor(t / 2)));
  const parent: number[] = [];
  const summary: boolean[] = [];
  const assigns: number[] = [];
  const preds: [number, number][] = [];
  let prevChild = -1;
  let firstPhase: number[] = [];
  for (let q = 0; q < phases; q++) {
    const size = Math.floor(t / phases) + (q < t % phases ? 1 : 0);
    const head = parent.length;
    const children: number[] = [];
    parent.push(-1);
    summary.push(true);
    assigns.push(0);
    for (let c = 1; c < size; c++) {
      const j = parent.length;
      parent.push(head);
      summary.push(false);
      assigns.push(1 + (hashInt(h, H.assign, j) % 4 === 0 ? 1 : 0));
      if (prevChild >= 0) preds.push([j, prevChild]);
      prevChild = j;
      children.push(j);
    }
    if (q === 0) firstPhase = children;
  }
  if (parentLoop && firstPhase.length > 0) parent[0] = firstPhase[0]!;
  const last = firstPhase[firstPhase.length - 1];
  if (predLoop && firstPhase.length >= 2 && last !== undefined) preds.unshift([firstPhase[0]!, last]);
  return { tasks: t, parent, summary, assigns, preds };
}

/** Reshapes a work item to exactly `budget` objects (container included), by adding or removing assignments and predecessors. */
function budgetShape(budget: number, h: number, parentLoop: boolean, predLoop: boolean): WorkShape {
  const s = workShape(Math.max(2, Math.round((budget - 1) / 3)), h, parentLoop, predLoop);
  let diff = budget - shapeSize(s);
  const leaves = s.summary.flatMap((isSummary, j) => (isSummary ? [] : [j]));
  for (let k = 0; diff > 0; k++, diff--) s.assigns[leaves[k % leaves.length]!]! += 1;
  while (diff < 0 && s.preds.length > 0) {
    s.preds.pop();
    diff++;
  }
  for (let k = 0; diff < 0 && k < leaves.length * 4; k++) {
    const j = leaves[k % leaves.length]!;
    if (s.assigns[j]! > 0) {
      s.assigns[j]! -= 1;
      diff++;
    }
  }
  return s;
}

export interface Plan {
  salt: number;
  counts: Record<Family, number>;
  templates: number;
  /** When set, the last template is shaped to exactly this many objects. */
  lastBudget: number | null;
}

// Child counts: pure functions of (salt, parent index), shared by the plan and the generator.
export const optionCount = (p: Plan, k: number) => {
  const h = hashInt(p.salt, H.popt, k);
  return h % 10 < 5 ? 0 : 2 + ((h >>> 8) % 3);
};
export const categoryFieldCount = (p: Plan, c: number) => Math.min(p.counts.PARAM, 2 + (hashInt(p.salt, H.ctgypa, c) % 4));
export const displayLogicCount = (p: Plan, c: number) => (categoryFieldCount(p, c) >= 2 && hashInt(p.salt, H.ctcsd, c) % 3 !== 0 ? 1 : 0);
export const rateCount = (p: Plan, k: number) => Math.min(p.counts.ROLE, 1 + (hashInt(p.salt, H.rate, k) % 2));
export const nonWorkDayCount = (p: Plan, k: number) => 3 + (hashInt(p.salt, H.nonwkd, k) % 4);
export const pathCount = (p: Plan, k: number) => 1 + (hashInt(p.salt, H.arvpth, k) % 2);
export const stepCount = (p: Plan, k: number, a: number) => 1 + (hashInt(p.salt, H.arvstp, k, a) % 2);
export const approverCount = (p: Plan, k: number, a: number, b: number) => 1 + (hashInt(p.salt, H.spapvr, k, a, b) % 2);
export const topicGroupCount = (p: Plan, k: number) => 1 + (hashInt(p.salt, H.quetgp, k) % 2);
export const topicCount = (p: Plan, k: number) => 2 + (hashInt(p.salt, H.quet, k) % 2);
export const ROUTES_PER_QUEUE = 2;
export const calendarSectionCount = (p: Plan, k: number) => 2 + (hashInt(p.salt, H.calsec, k) % 2);
export const programCount = (p: Plan, k: number) => 1 + (hashInt(p.salt, H.prgm, k) % 3);
export const projectShape = (p: Plan, k: number) => {
  const h = hashInt(p.salt, H.proj, k);
  // Projects 0, 3, 6... carry a parent loop, 1, 4, 7... a predecessor loop.
  return workShape(5 + (h % 5), h, k % 3 === 0, k % 3 === 1);
};
/** Templates 1, 5, 9... carry a parent loop, 2, 6, 10... a predecessor loop. */
export const templateShape = (p: Plan, i: number) => {
  const h = hashInt(p.salt, H.tmpl, i);
  const parentLoop = i % 4 === 1;
  const predLoop = i % 4 === 2;
  if (i === p.templates - 1 && p.lastBudget !== null) return budgetShape(p.lastBudget, h, parentLoop, predLoop);
  return workShape(8 + (h % 9), h, parentLoop, predLoop);
};

export function makePlan(opts: SampleOptions): Plan {
  const n = Math.max(0, Math.floor(opts.objects));
  const scale = n / BASE_N;
  const counts = {} as Record<Family, number>;
  for (const [family, [base, exp, min]] of Object.entries(FAMILIES) as [Family, readonly [number, number, number]][]) {
    counts[family] = Math.max(min, Math.round(base * scale ** exp));
  }
  const plan: Plan = { salt: seedNumber(opts.seed ?? 'ferry'), counts, templates: 0, lastBudget: null };
  let used = 0;
  for (const count of Object.values(counts)) used += count;
  const sum = (count: number, f: (k: number) => number) => {
    let s = 0;
    for (let k = 0; k < count; k++) s += f(k);
    return s;
  };
  used += sum(counts.PARAM, (k) => optionCount(plan, k));
  used += sum(counts.CTGY, (c) => categoryFieldCount(plan, c) + displayLogicCount(plan, c));
  used += sum(counts.CMPY, (k) => rateCount(plan, k));
  used += sum(counts.SCHED, (k) => nonWorkDayCount(plan, k));
  used += counts.MPATH * MILESTONES_PER_PATH;
  used += sum(counts.ARVPRC, (k) => sum(pathCount(plan, k), (a) => 1 + sum(stepCount(plan, k, a), (b) => 1 + approverCount(plan, k, a, b))));
  used += sum(counts.QUED, (k) => topicGroupCount(plan, k) + topicCount(plan, k) + ROUTES_PER_QUEUE);
  used += sum(counts.CALEND, (k) => calendarSectionCount(plan, k));
  used += sum(counts.PORT, (k) => programCount(plan, k));
  used += sum(counts.PROJ, (k) => shapeSize(projectShape(plan, k)) - 1); // the PROJ itself is counted above
  // Templates fill the rest; a small leftover goes to the last template, a big one is a template of its own.
  let left = n - used;
  let lastSize = 0;
  for (;;) {
    const size = shapeSize(templateShape(plan, plan.templates));
    if (left < size) break;
    left -= size;
    lastSize = size;
    plan.templates++;
  }
  if (left >= 12 || plan.templates === 0) {
    plan.templates++;
    plan.lastBudget = Math.max(left, 7);
  } else if (left > 0) {
    plan.lastBudget = lastSize + left;
  }
  return plan;
}

/** Indices of categories that are forms for CATEGORY_CODES[code] (i = code, code + 6, ...). */
export function formCount(p: Plan, code: number): number {
  const n = p.counts.CTGY;
  return n > code ? Math.floor((n - 1 - code) / CATEGORY_CODES.length) + 1 : 0;
}

/**
 * Group g (g >= 1) and the j-th group-profile form point at each other for
 * even j: a GROUP <-> CTGY cycle through two plain (non-owner) refs.
 */
export function pairedCategory(p: Plan, g: number): number | null {
  const j = g - 1;
  const c = j * CATEGORY_CODES.length + 2;
  return j >= 0 && j % 2 === 0 && c < p.counts.CTGY ? c : null;
}
export function pairedGroup(p: Plan, c: number): number | null {
  if (c % CATEGORY_CODES.length !== 2) return null;
  const j = (c - 2) / CATEGORY_CODES.length;
  return j % 2 === 0 && j + 1 < p.counts.GROUP ? j + 1 : null;
}
