/** Sample organization and resourcing: roles, teams, companies and rates, schedules, hour types, timesheets, expenses, risks, pools. */
import type { FerryObject } from '../../core/types.js';
import { setDefined, type SampleContext } from './context.js';
import { uniqueName } from './names.js';
import { nonWorkDayCount, rateCount } from './plan.js';
import { COMPANIES, EXPENSES, HOLIDAYS, HOUR_TYPES, POOLS, RISKS, ROLES, SCHEDULES, TEAMS, TIMESHEETS } from './words.js';

/** ROLE, TEAM, CMPY with RATE, SCHED with NONWKD, HOURT, TSPRO, EXPTYP, RSKTYP, RSPL. */
export function* generateOrganization(s: SampleContext): Generator<FerryObject> {
  const { plan, n, rng, id, some, date, form, make } = s;
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
    if (rng.chance(0.6)) setDefined(f, 'categoryID', form(3));
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
}
