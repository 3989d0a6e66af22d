/**
 * The catalog a server uses when it loads no catalog file: the promotable
 * objects of 003 ("Supported objects for environment promotion") plus the
 * server-scoped configuration types of 004 (users, user groups, security
 * roles, database instances).
 *
 * Ref conventions (assembly and the reachability test rely on them):
 * - A ref field names the id field as Workfront spells it (`groupID`,
 *   `templateTaskID`); a field holding several ids ends in `IDs` and has
 *   `many: true`.
 * - A child points at its owner (`TTSK.templateID`, `owner: true`); owners
 *   never list their children. Assembly walks refs forward and owner refs
 *   backward, so from every promotable type each type of its `includes` is
 *   reachable through types of that same `includes` set (test/unit asserts
 *   this). A type owning itself (`GROUP.parentID`) models a hierarchy: sub-
 *   groups come with their parent.
 * - `required: true` only where the object cannot exist without the target:
 *   owner refs (except hierarchy roots), a predecessor's other end, a category
 *   field's parameter, an override rate's role.
 * - Refs to types outside a row's `includes` are deliberate external refs
 *   (an override rate's role when promoting a company): they must resolve in
 *   the target.
 * - `includes` of a promotable type is exactly its 003 row, listed in the
 *   document's order; a sub-object's `includes` is itself plus the types it
 *   owns, so selecting it directly still brings its children.
 */
import { typeTable } from './type-table.js';
import type { Catalog, ConflictRule, NaturalKey, RefSpec, TypeCode, TypeSpec } from './types.js';

type Part = 'workflow' | 'formLayouts' | 'uiComponentConfig' | 'metadata' | 'securityConfiguration';

interface TypeDef {
  label: string;
  part: Part;
  /** Left column of a 003 table (or a 004 configuration type). */
  promotable: boolean;
  includes: TypeCode[];
  refs?: Record<string, RefSpec>;
  fields?: string[];
  naturalKey?: NaturalKey;
  typeNumber?: number;
  scope?: TypeSpec['scope'];
  conflictRule?: ConflictRule;
  targetOwned?: string[];
  mergeFields?: string[];
  pack?: TypeSpec['pack'];
}

const ref = (type: TypeCode): RefSpec => ({ type });
const requiredRef = (type: TypeCode): RefSpec => ({ type, required: true });
const manyRef = (type: TypeCode): RefSpec => ({ type, many: true });
const ownerRef = (type: TypeCode): RefSpec => ({ type, owner: true, required: true });

/** Workfront rejects a second object with the same name (003: "Group names must be unique"). */
const UNIQUE_NAME: NaturalKey = { fields: ['name'], unique: true };
/** Names users may repeat (templates, reports, dashboards): a match is only a hint. */
const NAME: NaturalKey = { fields: ['name'], unique: false };

/**
 * Builds the spec in the exact shape `validateCatalog` produces from a file,
 * so that `validateCatalog(catalogToJson(DEFAULT_CATALOG))` equals it.
 */
function spec(code: TypeCode, d: TypeDef): TypeSpec {
  const s: TypeSpec = {
    code,
    label: d.label,
    part: d.part,
    fields: d.fields ?? [],
    refs: d.refs ?? {},
    includes: d.includes,
    scope: d.scope ?? 'environment',
    conflictRule: d.conflictRule ?? 'replace',
    promotable: d.promotable,
  };
  if (d.naturalKey) s.naturalKey = { fields: [...d.naturalKey.fields], unique: d.naturalKey.unique };
  if (d.typeNumber !== undefined) s.typeNumber = d.typeNumber;
  if (d.targetOwned) s.targetOwned = d.targetOwned;
  if (d.mergeFields) s.mergeFields = d.mergeFields;
  if (d.pack) s.pack = { ...d.pack };
  return s;
}

const DEFS: Record<TypeCode, TypeDef> = {
  // ---- Work objects (003) -------------------------------------------------
  PROJ: {
    label: 'Project',
    part: 'workflow',
    promotable: true,
    includes: [
      'PROJ',
      'TASK',
      'ASSGN',
      'PRED',
      'CMPY',
      'RATE',
      'GROUP',
      'ROLE',
      'TEAM',
      'ARVPRC',
      'ARVPTH',
      'ARVSTP',
      'SPAPVR',
      'SCHED',
      'NONWKD',
      'QUED',
      'QUETGP',
      'QUET',
      'RRUL',
      'MPATH',
      'MILE',
      'HOURT',
      'RSPL',
      'CTGY',
      'CTGYPA',
      'PARAM',
      'PGRP',
      'POPT',
      'CTCSD',
    ],
    refs: {
      companyID: ref('CMPY'),
      groupID: ref('GROUP'),
      categoryID: ref('CTGY'),
      scheduleID: ref('SCHED'),
      milestonePathID: ref('MPATH'),
      approvalProcessID: ref('ARVPRC'),
      // Workfront links a queue both ways (PROJ.queueDefID and QUED.projectID);
      // only the forward link is a ref, see QUED.
      queueDefID: ref('QUED'),
      resourcePoolID: ref('RSPL'),
      hourTypeIDs: manyRef('HOURT'),
    },
    fields: ['description', 'status', 'priority', 'plannedStartDate', 'currency'],
    naturalKey: NAME,
    // 002's sync pack carries projects in `projects`; every other type in an array named after its code.
    pack: { array: 'projects' },
  },
  TASK: {
    label: 'Task',
    part: 'workflow',
    promotable: false,
    includes: ['TASK', 'ASSGN', 'PRED'],
    refs: {
      projectID: ownerRef('PROJ'),
      // Summary-task hierarchy; the project, not the parent task, owns a task.
      parentID: ref('TASK'),
      roleID: ref('ROLE'),
      teamID: ref('TEAM'),
      milestoneID: ref('MILE'),
      categoryID: ref('CTGY'),
      approvalProcessID: ref('ARVPRC'),
    },
    fields: ['description', 'taskNumber', 'duration', 'durationUnit', 'status'],
  },
  ASSGN: {
    label: 'Assignment',
    part: 'workflow',
    promotable: false,
    includes: ['ASSGN'],
    refs: { taskID: ownerRef('TASK'), roleID: ref('ROLE'), teamID: ref('TEAM') },
    fields: ['assignmentPercent', 'isPrimary'],
  },
  PRED: {
    label: 'Predecessor',
    part: 'workflow',
    promotable: false,
    includes: ['PRED'],
    refs: { successorID: ownerRef('TASK'), predecessorID: requiredRef('TASK') },
    fields: ['predecessorType', 'lagDays', 'isEnforced'],
  },
  TMPL: {
    label: 'Template',
    part: 'workflow',
    promotable: true,
    includes: [
      'TMPL',
      'TTSK',
      'TASSGN',
      'TPRED',
      'CMPY',
      'RATE',
      'GROUP',
      'ROLE',
      'TEAM',
      'ARVPRC',
      'ARVPTH',
      'ARVSTP',
      'SPAPVR',
      'SCHED',
      'NONWKD',
      'QUED',
      'QUETGP',
      'QUET',
      'RRUL',
      'MPATH',
      'MILE',
      'HOURT',
      'RSPL',
      'CTGY',
      'CTGYPA',
      'PARAM',
      'PGRP',
      'POPT',
      'CTCSD',
    ],
    refs: {
      companyID: ref('CMPY'),
      groupID: ref('GROUP'),
      categoryID: ref('CTGY'),
      scheduleID: ref('SCHED'),
      milestonePathID: ref('MPATH'),
      approvalProcessID: ref('ARVPRC'),
      queueDefID: ref('QUED'),
      resourcePoolID: ref('RSPL'),
      hourTypeIDs: manyRef('HOURT'),
    },
    fields: ['description', 'isActive', 'priority', 'currency'],
    naturalKey: NAME,
  },
  TTSK: {
    label: 'Template Task',
    part: 'workflow',
    promotable: false,
    includes: ['TTSK', 'TASSGN', 'TPRED'],
    refs: {
      templateID: ownerRef('TMPL'),
      parentID: ref('TTSK'),
      roleID: ref('ROLE'),
      teamID: ref('TEAM'),
      milestoneID: ref('MILE'),
      categoryID: ref('CTGY'),
      approvalProcessID: ref('ARVPRC'),
    },
    fields: ['description', 'taskNumber', 'duration', 'durationUnit'],
  },
  TASSGN: {
    label: 'Template Task Assignment',
    part: 'workflow',
    promotable: false,
    includes: ['TASSGN'],
    refs: { templateTaskID: ownerRef('TTSK'), roleID: ref('ROLE'), teamID: ref('TEAM') },
    fields: ['assignmentPercent', 'isPrimary'],
  },
  TPRED: {
    label: 'Template Task Predecessor',
    part: 'workflow',
    promotable: false,
    includes: ['TPRED'],
    refs: { successorID: ownerRef('TTSK'), predecessorID: requiredRef('TTSK') },
    fields: ['predecessorType', 'lagDays', 'isEnforced'],
  },

  // ---- Reporting objects (003) --------------------------------------------
  UITMPL: {
    label: 'Layout Template',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['UITMPL', 'PTLTAB', 'CALEND', 'CALSEC', 'EXTSEC', 'PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM'],
    refs: { portalTabIDs: manyRef('PTLTAB') },
    fields: ['description', 'navBar', 'layoutType'],
    naturalKey: NAME,
  },
  PTLTAB: {
    label: 'Dashboard',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['PTLTAB', 'CALEND', 'CALSEC', 'EXTSEC', 'PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM'],
    refs: {
      portalSectionIDs: manyRef('PTLSEC'),
      calendarIDs: manyRef('CALEND'),
      externalSectionIDs: manyRef('EXTSEC'),
    },
    fields: ['description', 'layoutType', 'isPublic'],
    naturalKey: NAME,
  },
  CALEND: {
    label: 'Calendar',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['CALEND', 'CALSEC'],
    fields: ['description', 'isPublic'],
    naturalKey: NAME,
  },
  CALSEC: {
    label: 'Calendar Section',
    part: 'uiComponentConfig',
    promotable: false,
    includes: ['CALSEC'],
    refs: { calendarID: ownerRef('CALEND') },
    fields: ['color', 'filterCriteria'],
  },
  EXTSEC: {
    label: 'External Page',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['EXTSEC'],
    fields: ['description', 'url', 'height'],
    naturalKey: NAME,
  },
  PTLSEC: {
    label: 'Report',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['PTLSEC', 'UIFT', 'UIGB', 'UIVW', 'PARAM'],
    refs: {
      filterID: ref('UIFT'),
      groupingID: ref('UIGB'),
      viewID: ref('UIVW'),
      // Custom fields used as report prompts.
      parameterIDs: manyRef('PARAM'),
    },
    fields: ['description', 'reportObjCode', 'chartSettings', 'isPublic'],
    naturalKey: NAME,
  },
  UIFT: {
    label: 'Filter',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['UIFT', 'PARAM'],
    refs: { parameterIDs: manyRef('PARAM') },
    fields: ['filterObjCode', 'definition', 'isPublic'],
    naturalKey: NAME,
  },
  UIGB: {
    label: 'Grouping',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['UIGB', 'PARAM'],
    refs: { parameterIDs: manyRef('PARAM') },
    fields: ['groupingObjCode', 'definition', 'isPublic'],
    naturalKey: NAME,
  },
  UIVW: {
    label: 'View',
    part: 'uiComponentConfig',
    promotable: true,
    includes: ['UIVW', 'PARAM'],
    refs: { parameterIDs: manyRef('PARAM') },
    fields: ['viewObjCode', 'definition', 'isPublic'],
    naturalKey: NAME,
  },

  // ---- Custom data objects (003) ------------------------------------------
  CTGY: {
    label: 'Category',
    part: 'formLayouts',
    promotable: true,
    includes: ['CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD', 'GROUP'],
    refs: { groupID: ref('GROUP') },
    fields: ['description', 'catObjCode', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },
  CTGYPA: {
    label: 'Category Parameter',
    part: 'formLayouts',
    promotable: false,
    includes: ['CTGYPA'],
    refs: {
      categoryID: ownerRef('CTGY'),
      parameterID: requiredRef('PARAM'),
      parameterGroupID: ref('PGRP'),
    },
    fields: ['displayOrder', 'isRequired', 'rowShared'],
  },
  PARAM: {
    label: 'Parameter',
    part: 'formLayouts',
    promotable: true,
    includes: ['PARAM', 'POPT'],
    fields: ['description', 'dataType', 'displayType', 'formatConstraint'],
    naturalKey: UNIQUE_NAME,
  },
  PGRP: {
    label: 'Parameter Group',
    part: 'formLayouts',
    promotable: true,
    includes: ['PGRP'],
    fields: ['description', 'displayOrder'],
    naturalKey: UNIQUE_NAME,
  },
  POPT: {
    label: 'Parameter Option',
    part: 'formLayouts',
    promotable: false,
    includes: ['POPT'],
    refs: { parameterID: ownerRef('PARAM') },
    fields: ['label', 'value', 'displayOrder', 'isDefault', 'isHidden'],
  },
  // 003 names "Category Display Logic" without an objCode; CTCSD is Workfront's
  // code for category cascade (display logic) rules.
  CTCSD: {
    label: 'Category Display Logic',
    part: 'formLayouts',
    promotable: false,
    includes: ['CTCSD'],
    refs: {
      categoryID: ownerRef('CTGY'),
      // The field whose value drives the rule.
      otherCategoryParameterID: ref('CTGYPA'),
    },
    fields: ['ruleType', 'customExpression'],
  },

  // ---- Organization objects (003) -----------------------------------------
  GROUP: {
    label: 'Group',
    part: 'metadata',
    promotable: true,
    // 003 also lists "Sub-groups (up to 5 levels)": they are GROUPs owned
    // through parentID, so GROUP covers them.
    includes: ['GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD'],
    refs: {
      // Not required: top-level groups have no parent.
      parentID: { type: 'GROUP', owner: true },
      categoryID: ref('CTGY'),
    },
    fields: ['description', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },
  ROLE: {
    label: 'Role',
    part: 'metadata',
    promotable: true,
    includes: ['ROLE'],
    fields: ['description', 'billingPerHour', 'costPerHour', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },
  TEAM: {
    label: 'Team',
    part: 'metadata',
    promotable: true,
    includes: ['TEAM', 'GROUP'],
    refs: { groupID: ref('GROUP') },
    fields: ['description', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },
  CMPY: {
    label: 'Company',
    part: 'metadata',
    promotable: true,
    // 003 prints this row's sixth entry as a second "Parameter"; every other
    // row with the category block lists Parameter Option there, so we read it
    // as POPT (a company's custom-form fields without their options would
    // install broken).
    includes: ['CMPY', 'RATE', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD', 'GROUP'],
    refs: { categoryID: ref('CTGY') },
    fields: ['description', 'isPrimary'],
    naturalKey: UNIQUE_NAME,
  },
  RATE: {
    label: 'Override Rate',
    part: 'metadata',
    promotable: false,
    includes: ['RATE'],
    refs: {
      companyID: ownerRef('CMPY'),
      // ROLE is outside the CMPY row: an external ref that must resolve in the target.
      roleID: requiredRef('ROLE'),
    },
    fields: ['rateValue', 'startDate', 'endDate'],
  },
  PORT: {
    label: 'Portfolio',
    part: 'metadata',
    promotable: true,
    includes: ['PORT', 'PRGM', 'GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD'],
    refs: { groupID: ref('GROUP'), categoryID: ref('CTGY') },
    fields: ['description', 'isActive', 'currency'],
    naturalKey: UNIQUE_NAME,
  },
  PRGM: {
    label: 'Program',
    part: 'metadata',
    promotable: true,
    includes: ['PRGM', 'PORT', 'GROUP', 'CTGY', 'CTGYPA', 'PARAM', 'PGRP', 'POPT', 'CTCSD'],
    refs: {
      // A Workfront program cannot exist outside a portfolio; owning it is also
      // how a PORT package reaches its programs.
      portfolioID: ownerRef('PORT'),
      groupID: ref('GROUP'),
      categoryID: ref('CTGY'),
    },
    fields: ['description', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },

  // ---- Other configuration objects (003) ----------------------------------
  ARVPRC: {
    label: 'Approval Process',
    part: 'workflow',
    promotable: true,
    includes: ['ARVPRC', 'ARVPTH', 'ARVSTP', 'SPAPVR', 'ROLE', 'TEAM', 'GROUP'],
    // Groups the process is available to.
    refs: { groupIDs: manyRef('GROUP') },
    fields: ['description', 'approvalObjCode', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },
  ARVPTH: {
    label: 'Approval Path',
    part: 'workflow',
    promotable: false,
    includes: ['ARVPTH', 'ARVSTP', 'SPAPVR'],
    refs: { approvalProcessID: ownerRef('ARVPRC') },
    fields: ['triggerStatus', 'rejectedStatus', 'shouldCreateIssue'],
  },
  ARVSTP: {
    label: 'Approval Step',
    part: 'workflow',
    promotable: false,
    includes: ['ARVSTP', 'SPAPVR'],
    refs: { approvalPathID: ownerRef('ARVPTH') },
    fields: ['sequenceNumber', 'approvalType'],
  },
  SPAPVR: {
    label: 'Step Approver',
    part: 'workflow',
    promotable: false,
    includes: ['SPAPVR'],
    refs: { approvalStepID: ownerRef('ARVSTP'), roleID: ref('ROLE'), teamID: ref('TEAM') },
    fields: ['wildCard'],
  },
  SCHED: {
    label: 'Schedule',
    part: 'metadata',
    promotable: true,
    includes: ['SCHED', 'NONWKD', 'GROUP'],
    refs: { groupID: ref('GROUP') },
    fields: ['timeZone', 'isDefault', 'mondayHours', 'fridayHours'],
    naturalKey: UNIQUE_NAME,
  },
  NONWKD: {
    label: 'Non Work Day',
    part: 'metadata',
    promotable: false,
    includes: ['NONWKD'],
    refs: { scheduleID: ownerRef('SCHED') },
    fields: ['nonWorkDate'],
  },
  // Not owned by its project or template: Workfront keeps the link on both
  // sides and a queue belongs to either a project or a template, so an owner
  // ref would be null on half of them. PROJ/TMPL.queueDefID point here instead.
  QUED: {
    label: 'Queue Definition',
    part: 'workflow',
    promotable: false,
    includes: ['QUED', 'QUETGP', 'QUET', 'RRUL'],
    fields: ['requestTypes', 'isPublic', 'shareMode'],
  },
  QUETGP: {
    label: 'Queue Topic Group',
    part: 'workflow',
    promotable: false,
    includes: ['QUETGP'],
    refs: { queueDefID: ownerRef('QUED') },
    fields: ['description'],
  },
  QUET: {
    label: 'Queue Topic',
    part: 'workflow',
    promotable: false,
    includes: ['QUET'],
    refs: {
      queueDefID: ownerRef('QUED'),
      queueTopicGroupID: ref('QUETGP'),
      defaultRouteID: ref('RRUL'),
      defaultApprovalProcessID: ref('ARVPRC'),
    },
    fields: ['description', 'allowedRequestTypes', 'defaultDuration'],
  },
  RRUL: {
    label: 'Routing Rule',
    part: 'workflow',
    promotable: false,
    includes: ['RRUL'],
    refs: { queueDefID: ownerRef('QUED'), defaultRoleID: ref('ROLE'), defaultTeamID: ref('TEAM') },
    fields: ['description'],
  },
  MPATH: {
    label: 'Milestone Path',
    part: 'workflow',
    promotable: true,
    includes: ['MPATH', 'MILE'],
    fields: ['description'],
    naturalKey: UNIQUE_NAME,
  },
  MILE: {
    label: 'Milestone',
    part: 'workflow',
    promotable: false,
    includes: ['MILE'],
    refs: { milestonePathID: ownerRef('MPATH') },
    fields: ['description', 'sequence', 'color'],
  },
  TSPRO: {
    label: 'Timesheet Profile',
    part: 'metadata',
    promotable: true,
    includes: ['TSPRO', 'HOURT'],
    refs: { hourTypeIDs: manyRef('HOURT') },
    fields: ['description', 'periodType', 'isRecurring'],
    naturalKey: UNIQUE_NAME,
  },
  HOURT: {
    label: 'Hour Type',
    part: 'metadata',
    promotable: true,
    includes: ['HOURT'],
    fields: ['description', 'scope', 'isActive'],
    naturalKey: UNIQUE_NAME,
  },
  EXPTYP: {
    label: 'Expense Type',
    part: 'metadata',
    promotable: true,
    includes: ['EXPTYP'],
    fields: ['description', 'rateUnit', 'rate', 'appGlobalID'],
    naturalKey: UNIQUE_NAME,
  },
  RSKTYP: {
    label: 'Risk Type',
    part: 'metadata',
    promotable: true,
    includes: ['RSKTYP'],
    fields: ['description'],
    naturalKey: UNIQUE_NAME,
  },
  RSPL: {
    label: 'Resource Pool',
    part: 'metadata',
    promotable: true,
    includes: ['RSPL'],
    fields: ['description'],
    naturalKey: UNIQUE_NAME,
  },

  // ---- Configuration objects of 004 (shared by all environments of a server)
  USER: {
    label: 'User',
    part: 'securityConfiguration',
    promotable: true,
    includes: ['USER', 'USRGRP'],
    refs: { userGroupIDs: manyRef('USRGRP'), securityRoleIDs: manyRef('SECROLE') },
    fields: ['login', 'fullName', 'email', 'enabled', 'passwordHash'],
    naturalKey: { fields: ['login'], unique: true },
    typeNumber: 34,
    scope: 'server',
    // 004 rule 6: memberships are unioned, never dropped in the target.
    conflictRule: 'merge',
    mergeFields: ['userGroupIDs', 'securityRoleIDs'],
    targetOwned: ['passwordHash'],
  },
  // MicroStrategy user groups are a subtype of user, hence the same type number.
  USRGRP: {
    label: 'User group',
    part: 'securityConfiguration',
    promotable: true,
    includes: ['USRGRP'],
    // A plain ref: promoting a group must not drag in its parent's other members.
    refs: { parentGroupID: ref('USRGRP') },
    fields: ['description'],
    naturalKey: UNIQUE_NAME,
    typeNumber: 34,
    scope: 'server',
  },
  SECROLE: {
    label: 'Security role',
    part: 'securityConfiguration',
    promotable: true,
    includes: ['SECROLE'],
    fields: ['description', 'privileges'],
    naturalKey: UNIQUE_NAME,
    typeNumber: 44,
    scope: 'server',
    // 004: merge (rule 6) applies to users and security roles; privileges are unioned.
    conflictRule: 'merge',
    mergeFields: ['privileges'],
  },
  DBROLE: {
    label: 'Database instance',
    part: 'securityConfiguration',
    promotable: true,
    includes: ['DBROLE'],
    fields: ['description', 'dbType', 'connectionString', 'password'],
    naturalKey: UNIQUE_NAME,
    typeNumber: 29,
    scope: 'server',
    // Each environment points at its own database.
    targetOwned: ['connectionString', 'password'],
  },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The built-in catalog. Frozen: it is shared by every caller, and a catalog
 * file extends a copy of it (`mergeCatalogs`), never the original.
 */
export const DEFAULT_CATALOG: Catalog = deepFreeze({
  version: '2026.1',
  types: typeTable(Object.entries(DEFS).map(([code, d]) => [code, spec(code, d)] as const)),
});
