import type { Installation, PlanEntry } from '../core/types.js';
import { NotFoundError } from '../core/errors.js';
import type { EngineContext } from './context.js';
import { getEnvironment } from './environments.js';

/** An installation: a prepared plan, or what became of it (installed, failed, rolled back). */
export async function getInstallation(ctx: EngineContext, id: string): Promise<Installation> {
  const i = await ctx.store.installations.get(id);
  if (!i) throw new NotFoundError('installation', id);
  return i;
}

/** An installation's entries in plan order, with their install outcomes. */
export async function getEntries(ctx: EngineContext, installationId: string): Promise<PlanEntry[]> {
  await getInstallation(ctx, installationId);
  return ctx.store.installations.getEntries(installationId);
}

/** How many entries of an installation have each per-object status (INSTALLED, UPDATED, ...): an install operation's result. */
export async function entryStatusCounts(ctx: EngineContext, installationId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of await getEntries(ctx, installationId)) out[e.installationStatus] = (out[e.installationStatus] ?? 0) + 1;
  return out;
}

export async function listInstallations(ctx: EngineContext, opts: { packageId?: string; targetEnvIds?: string[] } = {}): Promise<Installation[]> {
  return ctx.store.installations.list(opts);
}

/** Installations into an environment, newest first. */
export async function history(ctx: EngineContext, envId: string): Promise<Installation[]> {
  await getEnvironment(ctx, envId);
  return (await ctx.store.installations.list({ targetEnvIds: [envId] })).reverse();
}
