/**
 * The use cases a server runs in its offload thread (offload.ts says why),
 * by name: one table that both sides read. The main thread's Engine sends a
 * verb and its arguments (plain data); the thread looks the verb up here and
 * runs it on its own Engine; without an offload thread (the CLI, tests in
 * process) the Engine runs the same entry here. So a use case is wired to
 * the thread once, whichever face calls it.
 *
 * Arguments and results cross as structured clones: no functions. Progress
 * and cancelling cross as `io` (bridged by offload.ts); what a caller would
 * have passed as a callback is passed as data (a duplication's record id,
 * not a `finish` closure).
 */
import type { ObjectRef, Package } from '../core/types.js';
import type { Override } from '../core/plan.js';
import type { Actor, ProgressFn } from './context.js';
import type { Engine } from './engine.js';
import { verifyBundle, type SigningTrust } from './bundle-io.js';
import { exportPackage, loadBundle } from './bundles.js';
import { cloneProject, exportProject, importProject } from './duplication-package.js';
import { createEnvironment, type EnvironmentInput } from './environments.js';
import { entryStatusCounts } from './history.js';
import { install } from './installs.js';
import { assemble } from './packages.js';
import { prepare, revalidate, type PrepareOptions } from './plans.js';
import { rollback } from './rollback.js';
import { exportPack, importObjects, syncEnvironments } from './sync.js';

/** What crosses besides the arguments: progress (thread -> caller) and a cancel (caller -> thread). */
export interface OffloadIo {
  onProgress?: ProgressFn | undefined;
  signal?: AbortSignal | undefined;
}

type Rest<F> = F extends (engine: Engine, io: OffloadIo, ...args: infer A) => unknown ? A : never;

export const VERBS = {
  assemble: (engine: Engine, io: OffloadIo, pkg: Package, selection: ObjectRef[]) => assemble(engine, pkg, selection, io.onProgress),
  prepare: (engine: Engine, io: OffloadIo, packageId: string, targetEnvId: string, opts: Omit<PrepareOptions, 'onProgress'> | undefined, actor?: Actor) =>
    prepare(engine, packageId, targetEnvId, { ...opts, onProgress: io.onProgress }, actor),
  revalidate: (engine: Engine, _io: OffloadIo, installationId: string, overrides: Override[], opts?: { remember?: boolean }, actor?: Actor) =>
    revalidate(engine, installationId, overrides, opts, actor),
  install: (engine: Engine, io: OffloadIo, installationId: string, actor?: Actor) => install(engine, installationId, io, actor),
  rollback: (engine: Engine, _io: OffloadIo, installationId: string, actor?: Actor) => rollback(engine, installationId, actor),
  entryStatusCounts: (engine: Engine, _io: OffloadIo, installationId: string) => entryStatusCounts(engine, installationId),
  /** A clone copies every object of its source in one transaction. */
  createEnvironment: (engine: Engine, io: OffloadIo, input: EnvironmentInput, actor?: Actor) => createEnvironment(engine, input, actor, io.onProgress),
  /** Decompress, hash and parse a whole bundle (an upload, before it is kept). */
  verifyBundle: (_engine: Engine, _io: OffloadIo, path: string, trust?: SigningTrust) => verifyBundle(path, undefined, trust),
  /** The first half of an import: the bundle read into a package (bundles.ts). */
  loadBundle: (engine: Engine, io: OffloadIo, path: string, actor?: Actor, trust?: SigningTrust) => loadBundle(engine, path, actor, io.onProgress, trust),
  exportPackage: (engine: Engine, io: OffloadIo, packageId: string, out: { file?: string; dir?: string }, actor?: Actor) =>
    exportPackage(engine, packageId, out, actor, io.onProgress),
  exportPack: (engine: Engine, _io: OffloadIo, ...args: Rest1<typeof exportPack>) => exportPack(engine, ...args),
  importObjects: (engine: Engine, io: OffloadIo, ...[target, objects, origin, opts, actor]: Rest1<typeof importObjects>) =>
    importObjects(engine, target, objects, origin, { ...opts, onProgress: io.onProgress }, actor),
  syncEnvironments: (engine: Engine, io: OffloadIo, ...[source, target, selection, opts, actor]: Rest1<typeof syncEnvironments>) =>
    syncEnvironments(engine, source, target, selection, { ...opts, onProgress: io.onProgress }, actor),
  exportProject: (engine: Engine, io: OffloadIo, opts: Omit<Parameters<typeof exportProject>[1], 'onProgress'>) =>
    exportProject(engine, { ...opts, onProgress: io.onProgress }),
  importProject: (engine: Engine, io: OffloadIo, opts: Omit<Parameters<typeof importProject>[1], 'onProgress' | 'signal'>) =>
    importProject(engine, { ...opts, onProgress: io.onProgress, signal: io.signal }),
  cloneProject: (engine: Engine, io: OffloadIo, opts: Omit<Parameters<typeof cloneProject>[1], 'signal'>) =>
    cloneProject(engine, { ...opts, signal: io.signal }),
} satisfies Record<string, (engine: Engine, io: OffloadIo, ...args: never[]) => Promise<unknown>>;

/** A use case's arguments after its engine. */
type Rest1<F> = F extends (engine: Engine, ...args: infer A) => unknown ? A : never;

export type OffloadVerb = keyof typeof VERBS;
export type VerbArgs<V extends OffloadVerb> = Rest<(typeof VERBS)[V]>;
export type VerbResult<V extends OffloadVerb> = Awaited<ReturnType<(typeof VERBS)[V]>>;

/** Run a verb here, on this engine (the thread, or a process without one). */
export function runVerb<V extends OffloadVerb>(engine: Engine, verb: V, io: OffloadIo, args: VerbArgs<V>): Promise<VerbResult<V>> {
  const fn = VERBS[verb] as (engine: Engine, io: OffloadIo, ...args: unknown[]) => Promise<VerbResult<V>>;
  return fn(engine, io, ...(args as unknown[]));
}
