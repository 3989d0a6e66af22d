import { randomBytes } from 'node:crypto';
import type { Environment, Tier, TypeCode } from '../core/types.js';
import { ConflictError, LockedError, NotFoundError, ValidationError } from '../core/errors.js';
import { parseTier } from '../core/rules.js';
import { normaliseTrustedKey } from '../core/bundle-signature.js';
import { didYouMean } from '../core/suggest.js';
import { SERVER_SCOPE, type Store, type StoredEnvironment } from '../store/store.js';
import { audit, lockForWrite, now, type Actor, type EngineContext, type ProgressFn } from './context.js';
import { copyForClone } from './clone.js';
import { assertUnlocked } from './locks.js';
import { ENV_ID } from './validate-input.js';

export interface EnvironmentInput {
  id: string;
  name: string;
  tier: string;
  hosts?: string[];
  cloneFrom?: string | null;
  parameters?: Record<string, string>;
  targetOwned?: Record<string, string[]>;
  /** Keys (fingerprints, raw base64 or PEM) whose signed bundles an import here accepts; stored as fingerprints. */
  trustedSigningKeys?: string[];
}

export interface EnvironmentPatch {
  name?: string;
  tier?: string;
  hosts?: string[];
  parameters?: Record<string, string>;
  targetOwned?: Record<string, string[]>;
  /** Replaces the list; [] accepts any intact bundle again. */
  trustedSigningKeys?: string[];
}

/** Create an environment, optionally as a clone of another (same ids, 002 "start from a clone"). */
export async function createEnvironment(ctx: EngineContext, input: EnvironmentInput, actor?: Actor, onProgress?: ProgressFn): Promise<Environment> {
  if (!ENV_ID.test(input.id)) throw new ValidationError(`bad environment id "${input.id}": letters, digits, _ . - (up to 64), starting with a letter or digit`);
  if (input.id === SERVER_SCOPE) throw new ValidationError('environment id * is reserved');
  if (!input.name?.trim()) throw new ValidationError('an environment needs a name');
  const tier = parseTier(input.tier);
  const ts = now();
  const env: Environment = {
    id: input.id,
    uid: randomBytes(16).toString('hex'),
    name: input.name.trim(),
    tier,
    hosts: (input.hosts ?? []).map((h) => h.toLowerCase()),
    version: 1,
    parameters: input.parameters ?? {},
    targetOwned: input.targetOwned ?? {},
    trustedSigningKeys: trustedKeys(input.trustedSigningKeys),
    clonedFrom: input.cloneFrom ?? null,
    createdAt: ts,
    updatedAt: ts,
  };
  await ctx.store.transaction(async (tx) => {
    if (await tx.environments.get(env.id)) throw new ConflictError('ENVIRONMENT_EXISTS', `environment ${env.id} already exists`);
    const all = await tx.environments.list();
    for (const h of env.hosts) {
      const other = all.find((e) => e.hosts.includes(h));
      if (other) throw new ConflictError('HOST_TAKEN', `host ${h} already selects environment ${other.id}`);
    }
    if (input.cloneFrom) {
      const src = await tx.environments.get(input.cloneFrom);
      if (!src) throw unknownEnvironment('cloneFrom', input.cloneFrom, all);
      await tx.environments.create(env);
      await copyForClone(tx, src.id, env.id, onProgress);
      // Parameters and target-owned fields belong to each environment; a
      // clone starts with the source's as a convenience.
      if (!input.parameters) env.parameters = src.parameters;
      if (!input.targetOwned) env.targetOwned = src.targetOwned;
      await tx.environments.update(env.id, { parameters: env.parameters, targetOwned: env.targetOwned });
    } else {
      await tx.environments.create(env);
    }
    await audit(tx, actor, 'environment.create', env.id, env.id, 'ok', { tier, cloneFrom: input.cloneFrom ?? null });
  });
  return await getEnvironment(ctx, env.id);
}

export async function getEnvironment(ctx: EngineContext, id: string): Promise<StoredEnvironment> {
  const env = await ctx.store.environments.get(id);
  if (!env) throw new NotFoundError('environment', id);
  return env;
}

/**
 * A request names, in `field`, an environment the caller cannot see: a 400
 * naming the field, with the closest ids among those they can see. An
 * environment that exists but is not theirs reads exactly the same.
 */
export function unknownEnvironment(field: string, id: string, visible: readonly Environment[]): ValidationError {
  return new ValidationError(
    `${field}: no environment ${id}${didYouMean(
      id,
      visible.map((e) => e.id),
    )}; GET /api/v1/environments (\`ferry env list\`) lists the environments you can see`,
  );
}

/**
 * A request names, in `field` (`body.source https://...`), an environment by
 * one of its host names, and no environment the caller can see has that
 * host: a 400 with the closest hosts among the environments they can see.
 * An environment that has the host but is not theirs reads exactly the same.
 */
export function unknownHost(field: string, host: string | null, visible: readonly Environment[]): ValidationError {
  const near = host
    ? didYouMean(
        host,
        visible.flatMap((e) => e.hosts),
      )
    : '';
  return new ValidationError(
    `${field} names no environment: no environment of this server you can see has the host ${host ?? '(none)'}${near}; GET /api/v1/environments (\`ferry env list\`) lists the environments you can see and their hosts`,
  );
}

export async function listEnvironments(ctx: EngineContext): Promise<StoredEnvironment[]> {
  return ctx.store.environments.list();
}

export async function updateEnvironment(ctx: EngineContext, id: string, patch: EnvironmentPatch, actor?: Actor): Promise<Environment> {
  const env = await assertWritable(ctx, id);
  const tier: Tier | undefined = patch.tier !== undefined ? parseTier(patch.tier) : undefined;
  const trustedSigningKeys = patch.trustedSigningKeys === undefined ? undefined : trustedKeys(patch.trustedSigningKeys);
  await ctx.store.transaction(async (tx) => {
    await tx.environments.update(env.id, { ...patch, tier, trustedSigningKeys });
    await tx.environments.bumpVersion(env.id);
    await audit(tx, actor, 'environment.update', env.id, env.id, 'ok', { fields: Object.keys(patch) });
  });
  return getEnvironment(ctx, id);
}

/** Trusted keys as fingerprints, each once, in the order given (a key that is not one is refused, 400). */
function trustedKeys(keys: readonly string[] | undefined): string[] {
  return [...new Set((keys ?? []).map(normaliseTrustedKey))];
}

/** Delete an environment that holds no objects and no installation history. */
export async function deleteEnvironment(ctx: EngineContext, id: string, actor?: Actor): Promise<void> {
  const env = await getEnvironment(ctx, id);
  if ((await ctx.store.objects.count(env.id)) > 0) throw new ConflictError('ENVIRONMENT_NOT_EMPTY', `environment ${id} still holds objects`);
  await ctx.store.transaction(async (tx) => {
    await tx.environments.delete(id);
    await audit(tx, actor, 'environment.delete', id, id, 'ok', {});
  });
}

/**
 * Inside a write's transaction: hold the environment's row (PostgreSQL
 * `FOR UPDATE`, every environment's for server-scoped `types`: lockForWrite;
 * SQLite's one writer already serialises) and check its
 * install lock again. The check before the transaction answers early; this
 * one is the guard: a write from another server process never lands in the
 * middle of an install (it waits for the install's transaction, then sees
 * the lock, 423, or the install's result).
 */
export async function holdWritable(ctx: EngineContext, tx: Store, envId: string, types: Iterable<TypeCode>): Promise<void> {
  await lockForWrite(ctx, tx, envId, types);
  const env = await tx.environments.get(envId);
  if (env?.lockedBy) throw new LockedError(envId);
}

/** The environment, if no installation other than `holder` holds its install lock (423 otherwise). */
export async function assertWritable(ctx: EngineContext, envId: string, holder?: string): Promise<Environment> {
  const env = await getEnvironment(ctx, envId);
  await assertUnlocked(ctx, env, holder);
  return env;
}
