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
 */
import { createHash } from 'node:crypto';
import { DEFAULT_CATALOG } from '../core/default-catalog.js';
import type { FerryObject, TypeCode } from '../core/types.js';

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

// ---------------------------------------------------------------------------
// Randomness

/** mulberry32: tiny, fast, identical on every platform; used for content only. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
  /** k distinct indices below n (fewer when n < k), in draw order. */
  distinct(n: number, k: number): number[] {
    const want = Math.min(n, k);
    const out: number[] = [];
    const seen = new Set<number>();
    while (out.length < want) {
      const i = this.int(n);
      if (!seen.has(i)) {
        seen.add(i);
        out.push(i);
      }
    }
    return out;
  }
}

/** Stateless integer hash of a few numbers: structure decisions replayable from indices alone. */
function hashInt(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

function seedNumber(seed: string): number {
  return createHash('sha256').update(`ferry-sample\u0000${seed}`).digest().readUInt32BE(0);
}

/**
 * Ids of one generated environment. Shared objects (pointed at from many
 * places) are cached; the bulk (tasks, assignments) is hashed once on emit.
 */
class Ids {
  private readonly cache = new Map<TypeCode, string[]>();
  constructor(
    private readonly seed: string,
    private readonly prefix: string,
  ) {}
  of(type: TypeCode, n: number): string {
    if (!POOLED.has(type)) return this.hash(type, n);
    let list = this.cache.get(type);
    if (!list) this.cache.set(type, (list = []));
    return (list[n] ??= this.hash(type, n));
  }
  private hash(type: TypeCode, n: number): string {
    return createHash('sha256').update(`${this.seed}\u0000${this.prefix}\u0000${type}\u0000${n}`).digest('hex').slice(0, 32);
  }
}

const POOLED = new Set<TypeCode>([
  'GROUP',
  'ROLE',
  'TEAM',
  'CMPY',
  'CTGY',
  'PARAM',
  'PGRP',
  'HOURT',
  'SCHED',
  'MPATH',
  'MILE',
  'ARVPRC',
  'RSPL',
  'QUED',
  'UIFT',
  'UIGB',
  'UIVW',
  'PTLSEC',
  'CALEND',
  'EXTSEC',
  'PTLTAB',
  'USRGRP',
  'SECROLE',
  'PORT',
]);

// ---------------------------------------------------------------------------
// Names and text

const DEPARTMENTS = [
  'Marketing',
  'Creative Services',
  'Product Design',
  'Engineering',
  'Finance',
  'Legal',
  'Human Resources',
  'Sales',
  'Customer Success',
  'IT Operations',
  'Procurement',
  'Facilities',
  'Brand Studio',
  'Analytics',
  'Content',
  'Events',
  'Partnerships',
  'Compliance',
  'Research',
  'Training',
  'EMEA Delivery',
  'APAC Delivery',
];
const ROLES = [
  'Project Manager',
  'Designer',
  'Copywriter',
  'Developer',
  'QA Analyst',
  'Account Manager',
  'Art Director',
  'Producer',
  'Business Analyst',
  'Solution Architect',
  'Data Analyst',
  'Scrum Master',
  'Marketing Specialist',
  'Legal Reviewer',
  'Finance Controller',
  'Content Strategist',
  'UX Researcher',
  'Product Owner',
  'Support Engineer',
  'Trainer',
  'Video Editor',
  'Translator',
];
const TEAMS = [
  'Blue Team',
  'Web Squad',
  'Print Studio',
  'Launch Crew',
  'Platform Team',
  'Campaign Pod',
  'Video Unit',
  'Ops Desk',
  'Data Guild',
  'Brand Council',
  'Growth Team',
  'Localization Hub',
];
const COMPANIES = [
  'Acme Corp',
  'Globex',
  'Initech',
  'Umbrella Partners',
  'Stark Industries',
  'Wayne Enterprises',
  'Hooli',
  'Vandelay Imports',
  'Soylent Co',
  'Tyrell Systems',
  'Wonka Foods',
  'Cyberdyne',
  'Oscorp',
  'Gringotts',
];
const SCHEDULES = ['Default Schedule', 'US Schedule', 'EMEA Schedule', 'APAC Schedule', 'India Schedule', 'Part-time Schedule', 'Night Shift'];
const HOUR_TYPES = ['Regular', 'Overtime', 'Meetings', 'Training', 'Travel', 'Vacation', 'Sick Leave', 'Administrative', 'Support', 'Research'];
const TIMESHEETS = ['Weekly Timesheet', 'Bi-weekly Timesheet', 'Contractor Timesheet', 'Monthly Timesheet'];
const EXPENSES = ['Mileage', 'Airfare', 'Hotel', 'Meals', 'Software License', 'Equipment', 'Printing', 'Stock Photography'];
const RISKS = ['Schedule', 'Budget', 'Scope', 'Resource', 'Technical', 'Legal', 'Vendor', 'Quality'];
const POOLS = ['Creative Pool', 'Engineering Pool', 'Freelancers', 'Shared Services', 'Agency Partners', 'Offshore Team'];
const MILESTONE_PATHS = ['Standard Delivery', 'Campaign Launch', 'Product Release', 'Event Planning', 'Agile Sprint', 'Compliance Review'];
const MILESTONES = ['Kickoff', 'Design Approved', 'Build Complete', 'Launch'];
const MILESTONES_PER_PATH = MILESTONES.length;
const APPROVALS = [
  'Creative Approval',
  'Budget Approval',
  'Legal Review',
  'Launch Sign-off',
  'Change Request Approval',
  'Content Review',
  'Vendor Approval',
  'Final QA',
];
const PARAMETERS = [
  'Budget Code',
  'Cost Center',
  'Region',
  'Channel',
  'Audience',
  'Brand',
  'Campaign Type',
  'Priority Level',
  'Launch Date',
  'Requested By',
  'Business Unit',
  'Asset Type',
  'Language',
  'Market',
  'Fiscal Quarter',
  'Risk Level',
  'Approval Tier',
  'Vendor Name',
  'Target KPI',
  'Product Line',
  'Agency',
  'Media Type',
];
const PARAM_GROUPS = ['General', 'Financials', 'Marketing Details', 'Legal', 'Scheduling', 'Internal Use'];
/** Category i is a custom form for CATEGORY_CODES[i % 6]: templates find their forms by index. */
const CATEGORY_CODES = ['PROJ', 'TASK', 'GROUP', 'CMPY', 'PORT', 'PRGM'] as const;
const CATEGORY_NAMES = [
  'Project Intake Form',
  'Task Details Form',
  'Group Profile Form',
  'Client Profile Form',
  'Portfolio Scorecard Form',
  'Program Charter Form',
];
const PORTFOLIOS = ['Digital Transformation', 'Brand Refresh', 'Customer Experience', 'Operational Excellence', 'Growth Markets', 'Sustainability'];
const PROGRAM_KINDS = ['Wave 1', 'Wave 2', 'Pilot', 'Rollout'];
const USER_GROUPS = ['Everyone', 'Administrators', 'Developers', 'Report Authors', 'Approvers', 'Auditors', 'Contractors'];
const SECURITY_ROLES = ['Normal Users', 'Power Users', 'Administrators', 'Read Only', 'Architects'];
const PRIVILEGES = ['Browse', 'Create Reports', 'Edit Reports', 'Schedule Requests', 'Use Architect', 'Administer Users', 'Export Data', 'Web Print'];
const FIRST_NAMES = ['Ada', 'Grace', 'Linus', 'Ken', 'Barbara', 'Edsger', 'Margaret', 'Alan', 'Frances', 'Donald', 'Radia', 'Tim'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Torvalds', 'Thompson', 'Liskov', 'Dijkstra', 'Hamilton', 'Turing', 'Allen', 'Knuth', 'Perlman', 'Berners'];

const TEMPLATE_KIND = ['Agency', 'Client', 'Product', 'Campaign', 'Website', 'Event', 'Brand', 'Quarterly', 'Vendor', 'Employee', 'Social', 'Print'];
const TEMPLATE_WORK = ['Onboarding', 'Launch', 'Refresh', 'Review', 'Kickoff', 'Rollout', 'Audit', 'Migration', 'Planning', 'Production'];
const REPORT_SUBJECT = [
  'Active Projects',
  'Late Tasks',
  'Open Issues',
  'Hours Logged',
  'Budget vs Actual',
  'Pending Approvals',
  'Resource Utilization',
  'My Work',
  'Upcoming Milestones',
  'Template Usage',
];
const REPORT_CUT = ['by Owner', 'by Portfolio', 'by Group', 'This Week', 'by Status', 'by Company', 'for Executives', 'by Role'];
const FILTER_NAMES = [
  'My Active Projects',
  'Due This Week',
  'Overdue',
  'Awaiting My Approval',
  'High Priority',
  'Current Quarter',
  'Unassigned',
  'Completed Last Month',
];
const GROUPING_NAMES = ['By Owner', 'By Status', 'By Portfolio', 'By Group', 'By Month', 'By Company'];
const VIEW_NAMES = ['Standard View', 'Financial View', 'Timeline View', 'Resource View', 'Approval View', 'Compact View'];
const DASHBOARDS = ['Executive Overview', 'My Team', 'Creative Ops', 'PMO', 'Resource Planning', 'Finance Summary', 'Launch Tracker', 'Client Health'];
const DASHBOARD_KIND = ['Dashboard', 'Board', 'Home', 'Cockpit'];
const CALENDARS = ['Launch Calendar', 'Holiday Calendar', 'Content Calendar', 'Event Calendar', 'Release Calendar'];
const EXTERNAL_PAGES = ['Company Intranet', 'Brand Guidelines', 'Status Page', 'Team Wiki', 'Jira Board', 'Looker Dashboard'];
const LAYOUTS = ['Project Manager Layout', 'Executive Layout', 'Contributor Layout', 'Requestor Layout', 'Admin Layout'];
const PHASES = ['Discovery', 'Planning', 'Design', 'Build', 'Review', 'Launch', 'Wrap-up'];
const ACTIVITIES = [
  'Review brief',
  'Gather requirements',
  'Draft copy',
  'Create mockups',
  'Internal review',
  'Client review',
  'Legal check',
  'Build pages',
  'QA pass',
  'Fix defects',
  'Prepare assets',
  'Schedule posts',
  'Sign-off',
  'Publish',
  'Measure results',
  'Update budget',
  'Book vendors',
  'Translate content',
  'Record video',
];
const HOLIDAYS = [
  "New Year's Day",
  'Spring Holiday',
  'Labour Day',
  'Summer Break',
  'National Day',
  'Thanksgiving',
  'Christmas Eve',
  'Christmas Day',
  'Company Day',
];
const QUEUE_TOPICS = ['New Banner', 'Landing Page', 'Video Edit', 'Print Ad', 'Social Post', 'Translation', 'Photo Shoot'];
const FILLER = [
  'Owned by the PMO; changes go through the weekly change board.',
  'Used by the EMEA and North America teams.',
  'Keep in sync with the current brand guidelines.',
  'Created during the 2025 process refresh.',
  'Review every quarter with the business owners.',
  'Do not delete: active projects still refer to it.',
  'Mirrors the terms of the agency master agreement.',
  'Ask the operations desk before editing.',
  'Defaults agreed with Finance for the new fiscal year.',
  'Replaces the legacy setup from the old instance.',
  'Copied from the shared services standard and adapted.',
  'Visible to all licensed users.',
  'Reviewed by Legal in March.',
  'Applies to external vendors as well.',
];

/** Index k of a unique-name type: the list first, then numbered rounds ("Marketing 2"). */
function uniqueName(list: readonly string[], k: number): string {
  const base = list[k % list.length]!;
  return k < list.length ? base : `${base} ${Math.floor(k / list.length) + 1}`;
}

/** A combination of two lists visited in a seed-dependent, non-sequential order. */
function combo(a: readonly string[], b: readonly string[], i: number, salt: number): { text: string; round: number } {
  const p = a.length * b.length;
  const k = (i * 7 + salt) % p; // 7 is coprime with every p used here: a full cycle before repeating
  return { text: `${a[k % a.length]!} ${b[Math.floor(k / a.length) % b.length]!}`, round: Math.floor(i / p) };
}

/** Non-unique names repeat on purpose: every `every`-th object reuses its predecessor's name. */
function repeating(i: number, every: number, make: (j: number) => string): string {
  return i > 0 && i % every === every - 1 ? make(i - 1) : make(i);
}

function templateName(i: number, salt: number): string {
  return repeating(i, 9, (j) => `${combo(TEMPLATE_KIND, TEMPLATE_WORK, j, salt).text} ${j + 1}`);
}
function reportName(i: number, salt: number): string {
  return repeating(i, 7, (j) => {
    const c = combo(REPORT_SUBJECT, REPORT_CUT, j, salt);
    return c.round ? `${c.text} (${c.round + 1})` : c.text;
  });
}
function dashboardName(i: number, salt: number): string {
  return repeating(i, 6, (j) => {
    const c = combo(DASHBOARDS, DASHBOARD_KIND, j, salt);
    return c.round ? `${c.text} ${c.round + 1}` : c.text;
  });
}
function plainName(list: readonly string[], i: number): string {
  return repeating(i, 5, (j) => (j < list.length ? list[j]! : `${list[j % list.length]!} (${Math.floor(j / list.length) + 1})`));
}
function categoryName(c: number): string {
  return uniqueName(CATEGORY_NAMES, c);
}

/**
 * Extends text with filler sentences to about `extra` more characters, cut at
 * a sentence or word end. Sentences are walked with a stride coprime to the
 * list length, so one text never repeats a sentence.
 */
function padText(rng: Rng, base: string, extra: number): string {
  const limit = base.length + extra;
  let s = base;
  let at = rng.int(FILLER.length);
  const stride = FILLER_STRIDES[rng.int(FILLER_STRIDES.length)]!;
  for (let used = 0; s.length < limit && used < FILLER.length; used++, at = (at + stride) % FILLER.length) s += (s ? ' ' : '') + FILLER[at]!;
  if (s.length > limit) {
    const dot = s.lastIndexOf('.', limit - 1);
    const space = s.lastIndexOf(' ', limit);
    s = dot > limit - 40 && dot > base.length ? s.slice(0, dot + 1) : space > base.length ? s.slice(0, space) : s.slice(0, limit);
  }
  return s;
}
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
const FILLER_STRIDES = Array.from({ length: FILLER.length - 1 }, (_, i) => i + 1).filter((k) => gcd(k, FILLER.length) === 1);

// ---------------------------------------------------------------------------
// The plan: how many of everything

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
type Family = keyof typeof FAMILIES;

// Salts of the structural hashes, one per decision.
const H = {
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
interface WorkShape {
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

interface Plan {
  salt: number;
  counts: Record<Family, number>;
  templates: number;
  /** When set, the last template is shaped to exactly this many objects. */
  lastBudget: number | null;
}

// Child counts: pure functions of (salt, parent index), shared by the plan and the generator.
const optionCount = (p: Plan, k: number) => {
  const h = hashInt(p.salt, H.popt, k);
  return h % 10 < 5 ? 0 : 2 + ((h >>> 8) % 3);
};
const categoryFieldCount = (p: Plan, c: number) => Math.min(p.counts.PARAM, 2 + (hashInt(p.salt, H.ctgypa, c) % 4));
const displayLogicCount = (p: Plan, c: number) => (categoryFieldCount(p, c) >= 2 && hashInt(p.salt, H.ctcsd, c) % 3 !== 0 ? 1 : 0);
const rateCount = (p: Plan, k: number) => Math.min(p.counts.ROLE, 1 + (hashInt(p.salt, H.rate, k) % 2));
const nonWorkDayCount = (p: Plan, k: number) => 3 + (hashInt(p.salt, H.nonwkd, k) % 4);
const pathCount = (p: Plan, k: number) => 1 + (hashInt(p.salt, H.arvpth, k) % 2);
const stepCount = (p: Plan, k: number, a: number) => 1 + (hashInt(p.salt, H.arvstp, k, a) % 2);
const approverCount = (p: Plan, k: number, a: number, b: number) => 1 + (hashInt(p.salt, H.spapvr, k, a, b) % 2);
const topicGroupCount = (p: Plan, k: number) => 1 + (hashInt(p.salt, H.quetgp, k) % 2);
const topicCount = (p: Plan, k: number) => 2 + (hashInt(p.salt, H.quet, k) % 2);
const ROUTES_PER_QUEUE = 2;
const calendarSectionCount = (p: Plan, k: number) => 2 + (hashInt(p.salt, H.calsec, k) % 2);
const programCount = (p: Plan, k: number) => 1 + (hashInt(p.salt, H.prgm, k) % 3);
const projectShape = (p: Plan, k: number) => {
  const h = hashInt(p.salt, H.proj, k);
  // Projects 0, 3, 6... carry a parent loop, 1, 4, 7... a predecessor loop.
  return workShape(5 + (h % 5), h, k % 3 === 0, k % 3 === 1);
};
/** Templates 1, 5, 9... carry a parent loop, 2, 6, 10... a predecessor loop. */
const templateShape = (p: Plan, i: number) => {
  const h = hashInt(p.salt, H.tmpl, i);
  const parentLoop = i % 4 === 1;
  const predLoop = i % 4 === 2;
  if (i === p.templates - 1 && p.lastBudget !== null) return budgetShape(p.lastBudget, h, parentLoop, predLoop);
  return workShape(8 + (h % 9), h, parentLoop, predLoop);
};

function makePlan(opts: SampleOptions): Plan {
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

// ---------------------------------------------------------------------------
// Generation

/** Indices of categories that are forms for CATEGORY_CODES[code] (i = code, code + 6, ...). */
function formCount(p: Plan, code: number): number {
  const n = p.counts.CTGY;
  return n > code ? Math.floor((n - 1 - code) / CATEGORY_CODES.length) + 1 : 0;
}

/**
 * Group g (g >= 1) and the j-th group-profile form point at each other for
 * even j: a GROUP <-> CTGY cycle through two plain (non-owner) refs.
 */
function pairedCategory(p: Plan, g: number): number | null {
  const j = g - 1;
  const c = j * CATEGORY_CODES.length + 2;
  return j >= 0 && j % 2 === 0 && c < p.counts.CTGY ? c : null;
}
function pairedGroup(p: Plan, c: number): number | null {
  if (c % CATEGORY_CODES.length !== 2) return null;
  const j = (c - 2) / CATEGORY_CODES.length;
  return j % 2 === 0 && j + 1 < p.counts.GROUP ? j + 1 : null;
}

/** The padding field of a type: its description, or free-text notes where it has none. */
const PAD_KEY: Record<TypeCode, string> = Object.fromEntries(
  Object.values(DEFAULT_CATALOG.types).map((t) => [t.code, t.fields.includes('description') ? 'description' : 'notes']),
);

const STATUSES = ['CUR', 'PLN', 'CPL', 'ONH'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'];
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

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
  const plan = makePlan(opts);
  const { counts: n, salt } = plan;
  const ids = new Ids(opts.seed ?? 'ferry', opts.idPrefix ?? '');
  const rng = new Rng(salt);
  const id = (type: TypeCode, k: number) => ids.of(type, k);
  const some = (type: TypeCode, count: number, k: number) => Array.from(rng.distinct(count, k), (i) => id(type, i));
  const date = (offsetDays: number) => new Date(Date.UTC(2026, 0, 1) + offsetDays * 86_400_000).toISOString().slice(0, 10);
  /** A random form for a category code, or undefined when the environment has none. */
  const form = (code: number): string | undefined => {
    const m = formCount(plan, code);
    return m ? id('CTGY', rng.int(m) * CATEGORY_CODES.length + code) : undefined;
  };
  const set = (fields: Record<string, unknown>, key: string, value: unknown) => {
    if (value !== undefined) fields[key] = value;
  };
  /** Finishes an object (k: counter, or the id when already computed): pads its free-text field so that `fields` is ~400 bytes of JSON (330-470). */
  const make = (type: TypeCode, k: number | string, name: string, fields: Record<string, unknown>): FerryObject => {
    const key = PAD_KEY[type] ?? 'notes';
    const base = typeof fields[key] === 'string' ? fields[key] : '';
    fields[key] = base;
    const target = 330 + rng.int(141);
    const len = JSON.stringify(fields).length;
    if (len < target) fields[key] = padText(rng, base, target - len);
    else if (base === '' && key === 'notes') delete fields[key];
    return { type, id: typeof k === 'string' ? k : id(type, k), name, fields };
  };

  // ---- Server-scoped security configuration (004)
  for (let k = 0; k < n.SECROLE; k++) {
    yield make('SECROLE', k, uniqueName(SECURITY_ROLES, k), {
      description: `${uniqueName(SECURITY_ROLES, k)} security role.`,
      privileges: PRIVILEGES.slice(0, 2 + ((k * 3) % (PRIVILEGES.length - 1))),
    });
  }
  for (let k = 0; k < n.USRGRP; k++) {
    const f: Record<string, unknown> = { description: k === 0 ? 'Every user of the project.' : `Members of ${uniqueName(USER_GROUPS, k)}.` };
    // Everyone is the root; the others are its sub-groups.
    if (k > 0) f.parentGroupID = id('USRGRP', 0);
    yield make('USRGRP', k, uniqueName(USER_GROUPS, k), f);
  }
  for (let k = 0; k < n.USER; k++) {
    const first = FIRST_NAMES[k % FIRST_NAMES.length]!;
    const last = LAST_NAMES[Math.floor(k / FIRST_NAMES.length) % LAST_NAMES.length]!;
    const round = Math.floor(k / (FIRST_NAMES.length * LAST_NAMES.length));
    const login = `${first}.${last}${round ? round + 1 : ''}`.toLowerCase();
    yield make('USER', k, `${first} ${last}${round ? ` ${round + 1}` : ''}`, {
      login,
      fullName: `${first} ${last}`,
      email: `${login}@example.test`,
      enabled: rng.chance(0.9),
      passwordHash: `$2b$10$${createHash('sha256').update(`${salt}:${login}`).digest('base64').slice(0, 40)}`,
      userGroupIDs: [id('USRGRP', 0), ...(n.USRGRP > 1 && rng.chance(0.6) ? [id('USRGRP', 1 + rng.int(n.USRGRP - 1))] : [])],
      securityRoleIDs: [id('SECROLE', k === 0 ? Math.min(2, n.SECROLE - 1) : rng.int(n.SECROLE))],
    });
  }

  // ---- Custom data: parameter groups, parameters with options
  for (let k = 0; k < n.PGRP; k++) {
    yield make('PGRP', k, uniqueName(PARAM_GROUPS, k), { description: `${uniqueName(PARAM_GROUPS, k)} section of custom forms.`, displayOrder: k + 1 });
  }
  for (let k = 0; k < n.PARAM; k++) {
    const options = optionCount(plan, k);
    const name = uniqueName(PARAMETERS, k);
    const dataType = options ? 'TEXT' : rng.pick(['TEXT', 'NMBR', 'DATE', 'CURC']);
    yield make('PARAM', k, name, {
      description: `${name} as captured on intake forms.`,
      dataType,
      displayType: options ? rng.pick(['SLCT', 'RDIO', 'CHCK']) : dataType === 'DATE' ? 'DATE' : 'TEXT',
      formatConstraint: dataType === 'CURC' ? 'currency' : dataType === 'NMBR' ? 'number' : 'none',
    });
    for (let o = 0; o < options; o++) {
      const label = `${name} option ${String.fromCharCode(65 + o)}`;
      yield make('POPT', k * 8 + o, label, {
        label,
        value: `${name.toLowerCase().replace(/\s+/g, '_')}_${o + 1}`,
        displayOrder: o + 1,
        isDefault: o === 0,
        isHidden: false,
        parameterID: id('PARAM', k),
      });
    }
  }

  // ---- Groups (hierarchy up to 5 levels) and categories (forms)
  // Groups 1..5 are a chain (five levels under a top-level group); the rest hang under a random shallower group.
  const levels: number[] = [];
  for (let g = 0; g < n.GROUP; g++) {
    let parent = -1;
    if (g >= 2 && g <= 5) parent = g - 1;
    else if (g > 5 && rng.chance(0.75)) {
      parent = rng.int(g);
      if (levels[parent]! >= 5) parent = -1;
    }
    levels.push(parent < 0 ? 1 : levels[parent]! + 1);
    const f: Record<string, unknown> = {
      description: g === 0 ? 'Default group of new users and objects.' : `${uniqueName(DEPARTMENTS, g - 1)} department.`,
      isActive: true,
    };
    if (parent >= 0) f.parentID = id('GROUP', parent);
    const paired = pairedCategory(plan, g);
    if (paired !== null) f.categoryID = id('CTGY', paired);
    else if (g > 0 && rng.chance(0.3)) set(f, 'categoryID', form(2));
    yield make('GROUP', g, g === 0 ? 'Default Group' : uniqueName(DEPARTMENTS, g - 1), f);
  }
  let ctgypa = 0;
  let ctcsd = 0;
  for (let c = 0; c < n.CTGY; c++) {
    const code = CATEGORY_CODES[c % CATEGORY_CODES.length]!;
    const name = categoryName(c);
    const f: Record<string, unknown> = { description: `Custom form for ${code} objects.`, catObjCode: code, isActive: true };
    const paired = pairedGroup(plan, c);
    if (paired !== null) f.groupID = id('GROUP', paired);
    else if (rng.chance(0.5)) f.groupID = id('GROUP', rng.int(n.GROUP));
    yield make('CTGY', c, name, f);
    const fieldsOfForm = categoryFieldCount(plan, c);
    const firstField = ctgypa;
    const params = rng.distinct(n.PARAM, fieldsOfForm);
    for (const [o, param] of params.entries()) {
      const pf: Record<string, unknown> = {
        displayOrder: o + 1,
        isRequired: rng.chance(0.3),
        rowShared: rng.chance(0.2),
        categoryID: id('CTGY', c),
        parameterID: id('PARAM', param),
      };
      if (rng.chance(0.5)) pf.parameterGroupID = id('PGRP', rng.int(n.PGRP));
      yield make('CTGYPA', ctgypa++, `${name}: ${uniqueName(PARAMETERS, param)}`, pf);
    }
    for (let d = 0; d < displayLogicCount(plan, c); d++) {
      const driver = rng.int(fieldsOfForm);
      const field = uniqueName(PARAMETERS, params[driver]!);
      yield make('CTCSD', ctcsd++, `${name}: show details when ${field} is set`, {
        ruleType: rng.pick(['SHOW', 'HIDE', 'SKIP']),
        customExpression: `IF(ISBLANK({DE:${field}}),"hide","show")`,
        categoryID: id('CTGY', c),
        otherCategoryParameterID: ids.of('CTGYPA', firstField + driver),
      });
    }
  }

  // ---- Organization and resourcing
  for (let k = 0; k < n.ROLE; k++) {
    const billing = 80 + rng.int(120);
    yield make('ROLE', k, uniqueName(ROLES, k), {
      description: `${uniqueName(ROLES, k)} job role.`,
      billingPerHour: billing,
      costPerHour: Math.round(billing * 0.6),
      isActive: rng.chance(0.95),
    });
  }
  for (let k = 0; k < n.TEAM; k++) {
    yield make('TEAM', k, uniqueName(TEAMS, k), {
      description: `${uniqueName(TEAMS, k)} working team.`,
      isActive: true,
      groupID: id('GROUP', rng.int(n.GROUP)),
    });
  }
  let rate = 0;
  for (let k = 0; k < n.CMPY; k++) {
    const f: Record<string, unknown> = { description: `Client account ${uniqueName(COMPANIES, k)}.`, isPrimary: k === 0 };
    if (rng.chance(0.6)) set(f, 'categoryID', form(3));
    yield make('CMPY', k, uniqueName(COMPANIES, k), f);
    for (const role of rng.distinct(n.ROLE, rateCount(plan, k))) {
      yield make('RATE', rate++, `${uniqueName(COMPANIES, k)}: ${uniqueName(ROLES, role)} rate`, {
        rateValue: 90 + rng.int(150),
        startDate: date(rng.int(90)),
        endDate: date(365 + rng.int(365)),
        companyID: id('CMPY', k),
        roleID: id('ROLE', role),
      });
    }
  }
  let nonwkd = 0;
  for (let k = 0; k < n.SCHED; k++) {
    const f: Record<string, unknown> = {
      timeZone: rng.pick(['America/New_York', 'Europe/Paris', 'Asia/Tokyo', 'Asia/Kolkata', 'UTC']),
      isDefault: k === 0,
      mondayHours: [9, 17],
      fridayHours: k % 2 ? [9, 13] : [9, 17],
    };
    if (k > 0 && rng.chance(0.5)) f.groupID = id('GROUP', rng.int(n.GROUP));
    yield make('SCHED', k, uniqueName(SCHEDULES, k), f);
    for (let d = 0; d < nonWorkDayCount(plan, k); d++) {
      yield make('NONWKD', nonwkd++, `${HOLIDAYS[d % HOLIDAYS.length]!} ${2026 + Math.floor(d / HOLIDAYS.length)}`, {
        nonWorkDate: date(d * 40 + rng.int(10)),
        scheduleID: id('SCHED', k),
      });
    }
  }
  for (let k = 0; k < n.HOURT; k++) {
    yield make('HOURT', k, uniqueName(HOUR_TYPES, k), {
      description: `${uniqueName(HOUR_TYPES, k)} hours.`,
      scope: rng.pick(['GENERAL', 'PROJECT']),
      isActive: true,
    });
  }
  for (let k = 0; k < n.TSPRO; k++) {
    yield make('TSPRO', k, uniqueName(TIMESHEETS, k), {
      description: `${uniqueName(TIMESHEETS, k)} profile.`,
      periodType: rng.pick(['WEEKLY', 'BIWEEKLY', 'MONTHLY']),
      isRecurring: true,
      hourTypeIDs: some('HOURT', n.HOURT, 2 + rng.int(3)),
    });
  }
  for (let k = 0; k < n.EXPTYP; k++) {
    yield make('EXPTYP', k, uniqueName(EXPENSES, k), {
      description: `${uniqueName(EXPENSES, k)} expenses.`,
      rateUnit: rng.pick(['EACH', 'MILE', 'DAY']),
      rate: 1 + rng.int(200),
      appGlobalID: `exp-${uniqueName(EXPENSES, k).toLowerCase().replace(/\s+/g, '-')}`,
    });
  }
  for (let k = 0; k < n.RSKTYP; k++) yield make('RSKTYP', k, uniqueName(RISKS, k), { description: `${uniqueName(RISKS, k)} risk.` });
  for (let k = 0; k < n.RSPL; k++) yield make('RSPL', k, uniqueName(POOLS, k), { description: `${uniqueName(POOLS, k)} resource pool.` });

  // ---- Workflow building blocks
  for (let k = 0; k < n.MPATH; k++) {
    const name = uniqueName(MILESTONE_PATHS, k);
    yield make('MPATH', k, name, { description: `${name} milestones.` });
    for (let m = 0; m < MILESTONES_PER_PATH; m++) {
      yield make('MILE', k * MILESTONES_PER_PATH + m, MILESTONES[m]!, {
        description: `${MILESTONES[m]!} milestone of ${name}.`,
        sequence: m + 1,
        color: COLORS[m % COLORS.length],
        milestonePathID: id('MPATH', k),
      });
    }
  }
  let arvpth = 0;
  let arvstp = 0;
  let spapvr = 0;
  for (let k = 0; k < n.ARVPRC; k++) {
    const name = uniqueName(APPROVALS, k);
    yield make('ARVPRC', k, name, {
      description: `${name} process.`,
      approvalObjCode: rng.pick(['PROJ', 'TASK', 'ISSU', 'DOCU']),
      isActive: true,
      groupIDs: some('GROUP', n.GROUP, 1 + rng.int(2)),
    });
    for (let a = 0; a < pathCount(plan, k); a++) {
      const pathId = arvpth++;
      const trigger = rng.pick(['CPL', 'CUR', 'PLN']);
      yield make('ARVPTH', pathId, `${name}: on ${trigger}`, {
        triggerStatus: trigger,
        rejectedStatus: 'INP',
        shouldCreateIssue: rng.chance(0.3),
        approvalProcessID: id('ARVPRC', k),
      });
      for (let b = 0; b < stepCount(plan, k, a); b++) {
        const stepId = arvstp++;
        yield make('ARVSTP', stepId, `${name}: step ${b + 1}`, {
          sequenceNumber: b + 1,
          approvalType: rng.pick(['ONE', 'ALL']),
          approvalPathID: ids.of('ARVPTH', pathId),
        });
        for (let c = 0; c < approverCount(plan, k, a, b); c++) {
          const f: Record<string, unknown> = { wildCard: rng.chance(0.2) ? 'PROJECT_OWNER' : null, approvalStepID: ids.of('ARVSTP', stepId) };
          let who: string;
          if (rng.chance(0.7)) {
            const role = rng.int(n.ROLE);
            f.roleID = id('ROLE', role);
            who = uniqueName(ROLES, role);
          } else {
            const team = rng.int(n.TEAM);
            f.teamID = id('TEAM', team);
            who = uniqueName(TEAMS, team);
          }
          yield make('SPAPVR', spapvr++, `Approver: ${who}`, f);
        }
      }
    }
  }
  let quetgp = 0;
  let quet = 0;
  let rrul = 0;
  for (let k = 0; k < n.QUED; k++) {
    const team = uniqueName(TEAMS, k % n.TEAM);
    yield make('QUED', k, `${team} Request Queue`, {
      requestTypes: ['REQUEST', 'ISSUE'],
      isPublic: rng.chance(0.7),
      shareMode: rng.pick(['PUBLIC', 'GROUP', 'PRIVATE']),
    });
    const groups = topicGroupCount(plan, k);
    const firstGroup = quetgp;
    for (let g = 0; g < groups; g++) {
      yield make('QUETGP', quetgp++, g === 0 ? 'Creative Requests' : 'Digital Requests', {
        description: 'Topics requesters pick from.',
        queueDefID: id('QUED', k),
      });
    }
    const firstRoute = rrul;
    for (let r = 0; r < ROUTES_PER_QUEUE; r++) {
      const role = rng.int(n.ROLE);
      const f: Record<string, unknown> = { description: 'Assigns new requests.', queueDefID: id('QUED', k), defaultRoleID: id('ROLE', role) };
      if (rng.chance(0.5)) f.defaultTeamID = id('TEAM', rng.int(n.TEAM));
      yield make('RRUL', rrul++, `Route to ${uniqueName(ROLES, role)}`, f);
    }
    for (let t = 0; t < topicCount(plan, k); t++) {
      const f: Record<string, unknown> = {
        description: 'Request form topic.',
        allowedRequestTypes: ['REQUEST'],
        defaultDuration: 1 + rng.int(10),
        queueDefID: id('QUED', k),
        queueTopicGroupID: ids.of('QUETGP', firstGroup + rng.int(groups)),
        defaultRouteID: ids.of('RRUL', firstRoute + rng.int(ROUTES_PER_QUEUE)),
      };
      if (rng.chance(0.4)) f.defaultApprovalProcessID = id('ARVPRC', rng.int(n.ARVPRC));
      yield make('QUET', quet++, QUEUE_TOPICS[t % QUEUE_TOPICS.length]!, f);
    }
  }

  // ---- Reporting: filters, groupings, views, reports, calendars, pages, dashboards, layouts
  const prompts = () => some('PARAM', n.PARAM, rng.int(3));
  for (let k = 0; k < n.UIFT; k++) {
    yield make('UIFT', k, plainName(FILTER_NAMES, k), {
      filterObjCode: rng.pick(['PROJ', 'TASK', 'OPTASK']),
      definition: `status=${rng.pick(STATUSES)}\nstatus_Mod=in`,
      isPublic: rng.chance(0.6),
      parameterIDs: prompts(),
    });
  }
  for (let k = 0; k < n.UIGB; k++) {
    yield make('UIGB', k, plainName(GROUPING_NAMES, k), {
      groupingObjCode: rng.pick(['PROJ', 'TASK']),
      definition: 'group.0.name=owner:name',
      isPublic: rng.chance(0.6),
      parameterIDs: prompts(),
    });
  }
  for (let k = 0; k < n.UIVW; k++) {
    yield make('UIVW', k, plainName(VIEW_NAMES, k), {
      viewObjCode: rng.pick(['PROJ', 'TASK']),
      definition: 'column.0.valuefield=name\ncolumn.1.valuefield=plannedCompletionDate',
      isPublic: rng.chance(0.6),
      parameterIDs: prompts(),
    });
  }
  for (let k = 0; k < n.PTLSEC; k++) {
    const f: Record<string, unknown> = {
      description: '',
      reportObjCode: rng.pick(['PROJ', 'TASK', 'HOUR', 'OPTASK']),
      chartSettings: rng.chance(0.4) ? { type: rng.pick(['bar', 'pie', 'line']), stacked: rng.chance(0.5) } : null,
      isPublic: rng.chance(0.5),
      filterID: id('UIFT', rng.int(n.UIFT)),
      viewID: id('UIVW', rng.int(n.UIVW)),
    };
    if (rng.chance(0.7)) f.groupingID = id('UIGB', rng.int(n.UIGB));
    f.parameterIDs = prompts();
    yield make('PTLSEC', k, reportName(k, salt % 80), f);
  }
  for (let k = 0; k < n.CALEND; k++) {
    yield make('CALEND', k, plainName(CALENDARS, k), { description: 'Shared calendar.', isPublic: rng.chance(0.7) });
    for (let s = 0; s < calendarSectionCount(plan, k); s++) {
      yield make('CALSEC', k * 4 + s, ['Milestones', 'Launches', 'Time off', 'Deadlines'][s]!, {
        color: COLORS[s % COLORS.length],
        filterCriteria: `status=${rng.pick(STATUSES)}`,
        calendarID: id('CALEND', k),
      });
    }
  }
  for (let k = 0; k < n.EXTSEC; k++) {
    yield make('EXTSEC', k, plainName(EXTERNAL_PAGES, k), {
      description: 'Embedded external page.',
      url: `https://intranet.example.test/pages/${k + 1}`,
      height: 400 + 100 * rng.int(5),
    });
  }
  for (let k = 0; k < n.PTLTAB; k++) {
    const f: Record<string, unknown> = {
      description: '',
      layoutType: rng.pick(['ONE_COLUMN', 'TWO_COLUMN', 'THREE_COLUMN']),
      isPublic: rng.chance(0.5),
      portalSectionIDs: some('PTLSEC', n.PTLSEC, 2 + rng.int(3)),
    };
    if (k === 0 || rng.chance(0.4)) f.calendarIDs = some('CALEND', n.CALEND, 1);
    if (k === 0 || rng.chance(0.3)) f.externalSectionIDs = some('EXTSEC', n.EXTSEC, 1);
    yield make('PTLTAB', k, dashboardName(k, salt % 32), f);
  }
  for (let k = 0; k < n.UITMPL; k++) {
    yield make('UITMPL', k, plainName(LAYOUTS, k), {
      description: 'Navigation and dashboards for a user population.',
      navBar: ['home', 'projects', 'reports'],
      layoutType: rng.pick(['STANDARD', 'CUSTOM']),
      portalTabIDs: some('PTLTAB', n.PTLTAB, 1 + rng.int(3)),
    });
  }

  // ---- Portfolios and programs
  let prgm = 0;
  for (let k = 0; k < n.PORT; k++) {
    const name = uniqueName(PORTFOLIOS, k);
    const f: Record<string, unknown> = {
      description: `${name} portfolio.`,
      isActive: true,
      currency: rng.pick(CURRENCIES),
      groupID: id('GROUP', rng.int(n.GROUP)),
    };
    set(f, 'categoryID', form(4));
    yield make('PORT', k, name, f);
    for (let p = 0; p < programCount(plan, k); p++) {
      const pf: Record<string, unknown> = { description: `${PROGRAM_KINDS[p]!} of ${name}.`, isActive: true, portfolioID: id('PORT', k) };
      if (rng.chance(0.5)) pf.groupID = id('GROUP', rng.int(n.GROUP));
      set(pf, 'categoryID', form(5));
      // The portfolio name is unique and p differs within it: program names are unique too.
      yield make('PRGM', prgm++, `${name} - ${PROGRAM_KINDS[p]!}`, pf);
    }
  }

  // ---- Projects and templates with their tasks
  // Running counters per kind: a task's children come right after it, so plain counters suffice.
  const kinds = {
    PROJ: { task: 'TASK', assign: 'ASSGN', pred: 'PRED', owner: 'projectID', taskOwner: 'taskID', counters: { task: 0, assign: 0, pred: 0 } },
    TMPL: { task: 'TTSK', assign: 'TASSGN', pred: 'TPRED', owner: 'templateID', taskOwner: 'templateTaskID', counters: { task: 0, assign: 0, pred: 0 } },
  };
  function* work(kind: 'PROJ' | 'TMPL', k: number, name: string, shape: WorkShape): Generator<FerryObject> {
    const K = kinds[kind];
    const f: Record<string, unknown> = { description: `${name}: standard ${kind === 'TMPL' ? 'template' : 'project'} for the delivery teams.` };
    if (kind === 'PROJ')
      Object.assign(f, { status: rng.pick(STATUSES), priority: rng.int(5), plannedStartDate: date(rng.int(200)), currency: rng.pick(CURRENCIES) });
    else Object.assign(f, { isActive: rng.chance(0.9), priority: rng.int(5), currency: rng.pick(CURRENCIES) });
    if (rng.chance(0.4)) f.companyID = id('CMPY', rng.int(n.CMPY));
    // Template 0 is the demo's showcase: it uses the Default Group, a milestone path and hour type 0.
    f.groupID = id('GROUP', k === 0 || rng.chance(0.3) ? 0 : rng.int(n.GROUP));
    if (rng.chance(0.6)) set(f, 'categoryID', form(0));
    if (rng.chance(0.7)) f.scheduleID = id('SCHED', rng.int(n.SCHED));
    const path = k === 0 || rng.chance(0.6) ? rng.int(n.MPATH) : -1;
    if (path >= 0) f.milestonePathID = id('MPATH', path);
    if (rng.chance(0.3)) f.approvalProcessID = id('ARVPRC', rng.int(n.ARVPRC));
    // A queue belongs to one template: template 0 gets queue 0, template 5 queue 1, ...
    if (kind === 'TMPL' && k % 5 === 0 && k / 5 < n.QUED) f.queueDefID = id('QUED', k / 5);
    if (rng.chance(0.4)) f.resourcePoolID = id('RSPL', rng.int(n.RSPL));
    const hours = some('HOURT', n.HOURT, 1 + rng.int(3));
    if (k === 0 && !hours.includes(id('HOURT', 0))) hours.unshift(id('HOURT', 0));
    f.hourTypeIDs = hours;
    yield make(kind, k, name, f);

    const taskIds: string[] = [];
    const taskBase = K.counters.task;
    for (let j = 0; j < shape.tasks; j++) taskIds.push(ids.of(K.task, taskBase + j));
    // Titles first: assignments and predecessors are named after their tasks.
    const titles: string[] = [];
    const labels: string[] = [];
    let phase = 0;
    for (let j = 0; j < shape.tasks; j++) {
      if (shape.summary[j]) {
        phase++;
        titles.push(`Phase ${phase}: ${PHASES[(phase - 1) % PHASES.length]!}`);
        labels.push(`Phase ${phase}`);
      } else {
        titles.push(`Task ${j + 1}: ${ACTIVITIES[(j + hashInt(salt, k)) % ACTIVITIES.length]!}`);
        labels.push(`Task ${j + 1}`);
      }
    }
    const taskRoles: number[] = [];
    phase = 0;
    for (let j = 0; j < shape.tasks; j++) {
      const isSummary = shape.summary[j]!;
      const tf: Record<string, unknown> = {
        description: isSummary ? `${titles[j]!} of ${name}.` : `${titles[j]!.replace(/^Task \d+: /, '')} for ${name}.`,
        taskNumber: j + 1,
        duration: isSummary ? 0 : 1 + rng.int(10),
        durationUnit: rng.pick(['D', 'H']),
      };
      if (kind === 'PROJ') tf.status = rng.pick(STATUSES);
      tf[K.owner] = id(kind, k);
      const parent = shape.parent[j]!;
      if (parent >= 0) tf.parentID = taskIds[parent];
      const role = rng.int(n.ROLE);
      taskRoles.push(role);
      if (!isSummary) tf.roleID = id('ROLE', role);
      if (!isSummary && rng.chance(0.3)) tf.teamID = id('TEAM', rng.int(n.TEAM));
      // Each phase ends at the next milestone of the item's own path.
      if (isSummary && path >= 0 && phase < MILESTONES_PER_PATH) tf.milestoneID = id('MILE', path * MILESTONES_PER_PATH + phase);
      if (isSummary) phase++;
      if (rng.chance(0.1)) set(tf, 'categoryID', form(1));
      if (rng.chance(0.1)) tf.approvalProcessID = id('ARVPRC', rng.int(n.ARVPRC));
      yield make(K.task, taskIds[j]!, titles[j]!, tf);
    }
    for (let j = 0; j < shape.tasks; j++) {
      for (let a = 0; a < shape.assigns[j]!; a++) {
        // The first assignment is the task's own role; extra ones bring another role or a team.
        const role = a === 0 ? taskRoles[j]! : rng.int(n.ROLE);
        const af: Record<string, unknown> = {
          assignmentPercent: a === 0 ? 100 : 25 * (1 + rng.int(3)),
          isPrimary: a === 0,
          [K.taskOwner]: taskIds[j],
          roleID: id('ROLE', role),
        };
        if (a > 0 && rng.chance(0.4)) af.teamID = id('TEAM', rng.int(n.TEAM));
        yield make(K.assign, K.counters.assign++, `${uniqueName(ROLES, role)} on ${labels[j]!}`, af);
      }
    }
    for (const [succ, pred] of shape.preds) {
      yield make(K.pred, K.counters.pred++, `${labels[pred]!} -> ${labels[succ]!}`, {
        predecessorType: rng.pick(['fs', 'fs', 'fs', 'ss', 'ff']),
        lagDays: rng.chance(0.2) ? 1 + rng.int(3) : 0,
        isEnforced: rng.chance(0.5),
        successorID: taskIds[succ],
        predecessorID: taskIds[pred],
      });
    }
    K.counters.task += shape.tasks;
  }
  for (let k = 0; k < n.PROJ; k++) {
    const client = uniqueName(COMPANIES, k % n.CMPY);
    yield* work('PROJ', k, `${client} ${combo(TEMPLATE_KIND, TEMPLATE_WORK, k, salt % 120).text}`, projectShape(plan, k));
  }
  for (let i = 0; i < plan.templates; i++) yield* work('TMPL', i, templateName(i, salt % 120), templateShape(plan, i));
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
