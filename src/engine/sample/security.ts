/** Sample server-scoped security configuration (004): security roles, user groups, users. */
import { createHash } from 'node:crypto';
import type { FerryObject } from '../../core/types.js';
import type { SampleContext } from './context.js';
import { uniqueName } from './names.js';
import { FIRST_NAMES, LAST_NAMES, PRIVILEGES, SECURITY_ROLES, USER_GROUPS } from './words.js';

/** SECROLE, USRGRP (Everyone and its sub-groups), USER. */
export function* generateSecurity(s: SampleContext): Generator<FerryObject> {
  const { n, salt, rng, id, make } = s;
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
}
