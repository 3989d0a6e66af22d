/** Sample work: portfolios and programs, then projects and templates with their tasks, assignments and predecessors (the bulk). */
import type { FerryObject } from '../../core/types.js';
import { setDefined, type SampleContext } from './context.js';
import { hashInt } from './random.js';
import { combo, templateName, uniqueName } from './names.js';
import { programCount, projectShape, templateShape, type WorkShape } from './plan.js';
import {
  ACTIVITIES,
  COMPANIES,
  CURRENCIES,
  MILESTONES_PER_PATH,
  PHASES,
  PORTFOLIOS,
  PROGRAM_KINDS,
  ROLES,
  STATUSES,
  TEMPLATE_KIND,
  TEMPLATE_WORK,
} from './words.js';

/** PORT with PRGM, then PROJ and TMPL, each followed by its tasks, assignments and predecessors. */
export function* generateWork(s: SampleContext): Generator<FerryObject> {
  const { plan, n, salt, ids, rng, id, some, date, form, make } = s;
  let prgm = 0;
  for (let k = 0; k < n.PORT; k++) {
    const name = uniqueName(PORTFOLIOS, k);
    const f: Record<string, unknown> = {
      description: `${name} portfolio.`,
      isActive: true,
      currency: rng.pick(CURRENCIES),
      groupID: id('GROUP', rng.int(n.GROUP)),
    };
    setDefined(f, 'categoryID', form(4));
    yield make('PORT', k, name, f);
    for (let p = 0; p < programCount(plan, k); p++) {
      const pf: Record<string, unknown> = { description: `${PROGRAM_KINDS[p]!} of ${name}.`, isActive: true, portfolioID: id('PORT', k) };
      if (rng.chance(0.5)) pf.groupID = id('GROUP', rng.int(n.GROUP));
      setDefined(pf, 'categoryID', form(5));
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
    if (rng.chance(0.6)) setDefined(f, 'categoryID', form(0));
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
      if (rng.chance(0.1)) setDefined(tf, 'categoryID', form(1));
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
