/** Sample reporting: filters, groupings, views, reports, calendars, external pages, dashboards, layouts. */
import type { FerryObject } from '../../core/types.js';
import type { SampleContext } from './context.js';
import { dashboardName, plainName, reportName } from './names.js';
import { calendarSectionCount } from './plan.js';
import { CALENDARS, COLORS, EXTERNAL_PAGES, FILTER_NAMES, GROUPING_NAMES, LAYOUTS, STATUSES, VIEW_NAMES } from './words.js';

/** UIFT, UIGB, UIVW, PTLSEC, CALEND with CALSEC, EXTSEC, PTLTAB, UITMPL. */
export function* generateReporting(s: SampleContext): Generator<FerryObject> {
  const { plan, n, salt, rng, id, some, make } = s;
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
}
