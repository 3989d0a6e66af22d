import { SYNC_SOURCE_UID } from '../core/sync-pack.js';
import { ConflictError } from '../core/errors.js';
import { unknownEnvironment } from './environments.js';
import type { Environment } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { NewOperation, Operation } from './operations-port.js';
import type { Actor, Engine, ProgressFn } from './engine.js';

/** The operation kind of a clone run in the background (src/ops/handlers.ts runs it). */
export const CLONE_OPERATION = 'environment.clone';

/**
 * Above this many objects a clone runs as an operation (202 + progress)
 * rather than inside the request: copying is one statement per type, fast,
 * but a million rows still take longer than a client should wait on a socket.
 */
export const CLONE_IN_REQUEST_MAX = 10_000;

/**
 * The copy half of "start from a clone" (002), inside the transaction that
 * creates the clone: every object of `from`, ids unchanged, type by type (so
 * a big clone reports progress), each recorded in the clone's ID map as
 * written there by sync with its content as copied. That record is what
 * makes an edit made in the clone before its first sync show as drift.
 */
export async function copyForClone(tx: Store, from: string, to: string, onProgress?: ProgressFn): Promise<number> {
  const counts = await tx.objects.countByType(from);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  let done = 0;
  onProgress?.({ phase: 'clone', done, total });
  for (const [type, n] of counts) {
    await tx.objects.copy(from, to, type);
    await tx.idMap.recordBaseline(to, SYNC_SOURCE_UID, `clone:${to}`, type);
    done += n;
    onProgress?.({ phase: 'clone', done, total });
  }
  return total;
}

/**
 * How a clone request should run: in the request, or as an operation (a big
 * source). The refusals a clone would meet at once (the id taken, a host
 * taken, no such source) are checked here, so a request bound to fail is
 * refused at once instead of queueing an operation that fails.
 */
export async function planClone(engine: Engine, input: { id: string; cloneFrom: string; hosts?: string[] }): Promise<{ objects: number; operation: boolean }> {
  const all = await engine.listEnvironments();
  const source = all.find((e) => e.id === input.cloneFrom);
  if (!source) throw unknownEnvironment('cloneFrom', input.cloneFrom, all);
  if (all.some((e) => e.id === input.id)) throw new ConflictError('ENVIRONMENT_EXISTS', `environment ${input.id} already exists`);
  for (const h of input.hosts ?? []) {
    const other = all.find((e) => e.hosts.includes(h.toLowerCase()));
    if (other) throw new ConflictError('HOST_TAKEN', `host ${h} already selects environment ${other.id}`);
  }
  const objects = await engine.store.objects.count(source.id);
  return { objects, operation: objects > CLONE_IN_REQUEST_MAX };
}

export type NewEnvironment = Parameters<Engine['createEnvironment']>[0];

/**
 * The clone a run of a clone operation finds already made: its server died
 * after the clone's one transaction committed and before the operation
 * could say so, and the run is the operation's retry. The operation was
 * submitted only while no environment had its id (planClone), so one with
 * that id, cloned from the same source and created since `submittedAt`, is
 * its own work: the retry ends COMPLETED with it instead of failing
 * "already exists". Null when there is nothing of the kind: clone then.
 */
export async function committedClone(engine: Engine, input: NewEnvironment, submittedAt: string): Promise<Environment | null> {
  if (!input.cloneFrom) return null;
  const env = (await engine.listEnvironments()).find((e) => e.id === input.id);
  return env && env.clonedFrom === input.cloneFrom && env.createdAt >= submittedAt ? env : null;
}

/**
 * Create an environment, as a clone when `cloneFrom` is set: in the request
 * for a small source, as an operation (`submit`) for a big one or when the
 * caller prefers it (`Prefer: respond-async`). The caller checks rights.
 */
export async function createOrClone(
  engine: Engine,
  submit: (op: NewOperation) => Promise<Operation>,
  input: NewEnvironment,
  opts: { preferAsync?: boolean; actor: Actor },
): Promise<{ environment: Environment; operation?: undefined } | { operation: Operation; environment?: undefined }> {
  if (input.cloneFrom) {
    const plan = await planClone(engine, { id: input.id, cloneFrom: input.cloneFrom, hosts: input.hosts });
    if (plan.operation || opts.preferAsync) {
      const operation = await submit({
        kind: CLONE_OPERATION,
        environmentId: input.id,
        params: { input },
        createdBy: opts.actor.actor,
        address: opts.actor.address ?? null,
        message: `clone of ${input.cloneFrom} (${plan.objects} objects) into ${input.id} queued`,
      });
      return { operation };
    }
  }
  const env = await engine.createEnvironment(input, opts.actor);
  return { environment: await engine.getEnvironment(env.id) };
}
