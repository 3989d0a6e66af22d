import type { Action, EntryStatus, Package, PackageStatus, Tier } from './types.js';
import { PACKAGE_STATUSES, TIERS } from './types.js';
import { ConflictError, ValidationError } from './errors.js';

/**
 * Where a package in a given status may be installed (003 status table):
 * DRAFT and DISABLED nowhere, TESTING anywhere but production, ACTIVE anywhere.
 * Returns the reason it may not, or null.
 */
export function installRefusal(status: PackageStatus, tier: Tier): string | null {
  switch (status) {
    case 'ACTIVE':
      return null;
    case 'TESTING':
      return tier === 'production' ? 'package is TESTING: it cannot be installed into a production environment (set it ACTIVE)' : null;
    case 'DRAFT':
      // Name the status this target needs: TESTING would be refused again by a production target.
      return `package is DRAFT: it cannot be installed anywhere (set it ${tier === 'production' ? 'ACTIVE, the status a production environment needs' : 'TESTING or ACTIVE'})`;
    case 'DISABLED':
      return 'package is DISABLED: it cannot be installed anywhere';
    case 'ASSEMBLING':
      return 'package is still ASSEMBLING';
    case 'ASSEMBLING_FAILED':
      return 'package assembly failed: assemble it again';
  }
}

/**
 * The least status a package needs to be installed into an environment of
 * this tier: ACTIVE for production, TESTING elsewhere (ACTIVE works there too).
 */
export function statusNeededFor(tier: Tier): 'TESTING' | 'ACTIVE' {
  return tier === 'production' ? 'ACTIVE' : 'TESTING';
}

/**
 * What a completed install did to an entry, by its action. The install
 * records these for all entries at once and writes only the exceptions one
 * by one (a removal whose target was already gone is SKIPPED).
 */
export const OUTCOMES: Readonly<Record<Action, { status: EntryStatus; reason: string | null }>> = {
  CREATE: { status: 'INSTALLED', reason: null },
  UPDATE: { status: 'UPDATED', reason: null },
  MERGE: { status: 'UPDATED', reason: 'merged' },
  USEEXISTING: { status: 'REGISTERED', reason: null },
  IGNORE: { status: 'SKIPPED', reason: 'IGNORE' },
  REMOVE: { status: 'REMOVED', reason: null },
};

const RANK: Record<Tier, number> = { development: 0, testing: 1, preview: 2, production: 3 };

/**
 * One-way push (002): promotion from a higher tier to a lower one is refused
 * unless forced, so a lower environment is never silently overwritten with
 * what a higher one holds.
 */
export function pushRefusal(sourceTier: Tier, targetTier: Tier, force: boolean): string | null {
  if (force || RANK[sourceTier] <= RANK[targetTier]) return null;
  return `push one-way: the source is ${sourceTier} and the target is ${targetTier}, a lower tier; use --force to promote downwards`;
}

export function parseTier(value: string): Tier {
  if ((TIERS as readonly string[]).includes(value)) return value as Tier;
  throw new ValidationError(`unknown tier "${value}" (one of ${TIERS.join(', ')})`);
}

export function parseStatus(value: string): PackageStatus {
  const v = value.toUpperCase();
  if ((PACKAGE_STATUSES as readonly string[]).includes(v)) return v as PackageStatus;
  throw new ValidationError(`unknown package status "${value}" (one of ${PACKAGE_STATUSES.join(', ')})`);
}

/**
 * A user's status change (003 PUT/PATCH `status`): ASSEMBLING and
 * ASSEMBLING_FAILED are set by the system only; ACTIVE stamps `publishedAt`,
 * DISABLED stamps `retiredAt`. Returns the changed package.
 */
export function changeStatus(pkg: Package, next: PackageStatus, at: string): Package {
  if (next === pkg.status) return pkg;
  if (next === 'ASSEMBLING' || next === 'ASSEMBLING_FAILED') {
    throw new ValidationError(`status ${next} is set by assembly and cannot be set directly`);
  }
  if (pkg.status === 'ASSEMBLING') throw new ConflictError('PACKAGE_ASSEMBLING', `package ${pkg.id} is still ASSEMBLING`);
  if (pkg.status === 'ASSEMBLING_FAILED') {
    throw new ConflictError('PACKAGE_ASSEMBLING_FAILED', `package ${pkg.id} failed to assemble (${pkg.assemblyError ?? 'no reason'}); assemble it again`);
  }
  return {
    ...pkg,
    status: next,
    publishedAt: next === 'ACTIVE' ? at : pkg.publishedAt,
    retiredAt: next === 'DISABLED' ? at : pkg.retiredAt,
    updatedAt: at,
  };
}
