/** Sample workflow building blocks: milestone paths, approval processes, request queues. */
import type { FerryObject } from '../../core/types.js';
import type { SampleContext } from './context.js';
import { uniqueName } from './names.js';
import { approverCount, pathCount, ROUTES_PER_QUEUE, stepCount, topicCount, topicGroupCount } from './plan.js';
import { APPROVALS, COLORS, MILESTONE_PATHS, MILESTONES, MILESTONES_PER_PATH, QUEUE_TOPICS, ROLES, TEAMS } from './words.js';

/** MPATH with MILE, ARVPRC with ARVPTH, ARVSTP and SPAPVR, QUED with QUETGP, RRUL and QUET. */
export function* generateWorkflow(s: SampleContext): Generator<FerryObject> {
  const { plan, n, ids, rng, id, some, make } = s;
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
}
