import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Installation, ObjectRef } from '../core/types.js';
import { FerryError, NotFoundError } from '../core/errors.js';
import type { Override } from '../core/plan.js';
import type { Actor, Engine, ProgressFn } from '../engine/engine.js';
import { importBundle } from '../engine/bundles.js';
import { withFileName } from '../engine/bundle-files.js';
import { abandonAssembly, releaseAbandonedLock } from '../engine/preflight.js';
import { CLONE_OPERATION, committedClone, type NewEnvironment } from '../engine/clone.js';
import type { FileStore } from '../store/file-store.js';
import { fileStoreWriteError } from '../store/fs-errors.js';
import type { Operation, OperationContext, OperationHandlers, RecoveredOutcome } from './types.js';
import { CancelledError } from './embedded-worker.js';
import { duplicationHandlers } from './duplication-handlers.js';

/** The kinds of operation the server runs. */
export const OP = {
  assemble: 'package.assemble',
  export: 'package.export',
  import: 'bundle.import',
  install: 'install',
  clone: CLONE_OPERATION,
} as const;

export interface AssembleParams {
  packageId: string;
  selection: ObjectRef[];
}
export interface ExportParams {
  packageId: string;
}
export interface ImportParams {
  fileId: string;
  targetEnvId: string;
  dryRun: boolean;
  overrides: Override[];
  force: boolean;
}
export interface InstallParams {
  installationId: string;
}
/** `POST /api/v1/environments` with `cloneFrom`, for a big source (engine/clone.ts createOrClone). */
export interface CloneParams {
  input: NewEnvironment;
}

const actorOf = (op: Operation): Actor => ({ actor: op.createdBy, address: op.address });

/**
 * Map the engine's phase progress (`{phase, done, total}`) onto 0-100, each
 * phase owning a slice, so a multi-phase import moves forward steadily.
 */
function phased(ctx: OperationContext, slices: Record<string, [number, number]>): ProgressFn {
  return (p) => {
    const [lo, hi] = slices[p.phase] ?? [0, 100];
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    ctx.progress(lo + (hi - lo) * frac, `${p.phase}: ${p.done} of ${p.total}`);
  };
}

export { withFileName };

/**
 * How an install whose server died really ended, from its installation: the
 * install writes COMPLETED in the same transaction as the objects, so a
 * COMPLETED installation committed (even if the server died before the
 * operation could say so), a FAILED one recorded its failure, and one still
 * PREPARED never committed: nothing was written. `result` builds the
 * operation's result as its run would have.
 */
async function recoverInstall(
  engine: Engine,
  op: Operation,
  installationId: string | null,
  result: (inst: Installation, counts: Record<string, number>) => unknown,
): Promise<RecoveredOutcome | null> {
  if (!installationId) return null;
  const inst = await engine.getInstallation(installationId).catch((e: unknown) => {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  });
  const who = op.server ?? 'unknown';
  switch (inst?.status) {
    case 'COMPLETED':
    case 'ROLLED_BACK': {
      const since = inst.status === 'ROLLED_BACK' ? ', and it was rolled back since' : '';
      return {
        status: 'COMPLETED',
        message: `completed: the install committed before the server (${who}) stopped${since}; this result is read from installation ${inst.id}`,
        result: result(inst, await engine.entryStatusCounts(inst.id)),
      };
    }
    case 'FAILED': {
      const message = `the server (${who}) stopped while this ran; the install had failed, so nothing was written: ${inst.error ?? 'no reason recorded'}`;
      return { status: 'FAILED', message, error: { code: 'INSTALL_FAILED', message } };
    }
    default:
      return null;
  }
}

function safeName(name: string): string {
  return (
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'package'
  );
}

/** A file id of its own for what an operation writes (`what`), the same at every run of it; shaped like the store's UUIDs. */
function fileIdOf(operationId: string, what: string): string {
  const h = createHash('sha256').update(`${what}\u0000${operationId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * What each operation kind does, in terms of engine use cases. Handlers
 * check the cancel signal through `ctx.progress` (every report is a
 * checkpoint); an install also passes the signal to the engine, which
 * rolls its one transaction back, so a cancelled install changes nothing.
 */
export function engineHandlers(engine: Engine, files: FileStore): OperationHandlers {
  return {
    ...duplicationHandlers(engine, files),
    [OP.assemble]: {
      resumable: () => true,
      async run(ctx) {
        const { packageId, selection } = ctx.op.params as unknown as AssembleParams;
        const pkg = await engine.getPackage(packageId);
        ctx.progress(1, `assembling ${selection.length} selected objects`);
        const done = await engine.assemble(pkg, selection, phased(ctx, { assemble: [1, 99] }));
        if (ctx.signal.aborted) throw new CancelledError(`assembly cancelled; package ${packageId} is ${done.status}`);
        if (done.status === 'ASSEMBLING_FAILED') throw new FerryError('ASSEMBLING_FAILED', 409, `assembly failed: ${done.assemblyError ?? 'no reason given'}`);
        return { packageId, status: done.status, version: done.version, entityCount: done.entityCount, countsByType: done.countsByType };
      },
      async abandon(op, reason) {
        await abandonAssembly(engine, (op.params as unknown as AssembleParams).packageId, reason, actorOf(op));
      },
    },

    [OP.export]: {
      resumable: () => true,
      async run(ctx) {
        const { packageId } = ctx.op.params as unknown as ExportParams;
        const pkg = await engine.getPackage(packageId);
        // The same file id when the operation runs again (its server died after keeping the bundle, before the
        // operation ended): the rerun replaces that bundle rather than leaving it beside a second one. Removed
        // whatever it is (an expired one not swept yet included; removing nothing is fine), and again just before
        // the commit, in case a run taken over elsewhere kept one meanwhile.
        const id = fileIdOf(ctx.op.id, 'export');
        const { tmp } = files.reserve(id);
        const name = `${safeName(pkg.name)}-v${pkg.version}.ferry`;
        try {
          await files.remove(id);
          // Errors name the file, never its place on the server.
          const r = await withFileName(tmp, name, () =>
            engine.run('exportPackage', { onProgress: phased(ctx, { export: [0, 95] }) }, pkg.id, { file: tmp }, actorOf(ctx.op)),
          );
          await files.remove(id);
          const file = await files.commit(tmp, {
            id,
            name,
            kind: 'bundle',
            environmentId: pkg.sourceEnvId,
            packageId: pkg.id,
            createdBy: ctx.op.createdBy,
          });
          return {
            file,
            entityCount: r.file?.count ?? 0,
            countsByType: pkg.countsByType,
            entitiesSha256: r.file?.sha256 ?? null,
            signedBy: r.file?.signedBy ?? null,
            downloadUrl: `/api/v1/files/${file.id}/content`,
          };
        } catch (e) {
          await rm(tmp, { force: true }).catch(() => {});
          // Full or unwritable file store: 507 or 503, in words, no path.
          throw fileStoreWriteError(e);
        }
      },
    },

    [OP.import]: {
      // A dry run writes a package and a plan, nothing in the target: safe to run again.
      resumable: (op) => !!(op.params as unknown as ImportParams).dryRun,
      async run(ctx) {
        const p = ctx.op.params as unknown as ImportParams;
        const file = await files.get(p.fileId);
        if (!file) throw new NotFoundError('file', p.fileId);
        const slices: Record<string, [number, number]> = p.dryRun
          ? { import: [0, 60], load: [60, 70], match: [70, 90], prepare: [90, 100] }
          : { import: [0, 30], load: [30, 35], match: [35, 45], prepare: [45, 50], install: [50, 100] };
        const progress = phased(ctx, slices);
        const r = await files.withLocalFile(file.id, (path) =>
          withFileName(path, file.name, () =>
            importBundle(engine, path, p.targetEnvId, { dryRun: true, overrides: p.overrides, force: p.force, onProgress: progress }, actorOf(ctx.op)),
          ),
        );
        await ctx.setSubject(r.plan.installation.id);
        const base = {
          dryRun: p.dryRun,
          packageId: r.package.id,
          installationId: r.plan.installation.id,
          summary: r.plan.installation.summary,
          installBlocker: r.plan.installBlocker,
        };
        if (p.dryRun) return { ...base, status: r.plan.installation.status };
        const inst = await engine.install(r.plan.installation.id, { signal: ctx.signal, onProgress: progress }, actorOf(ctx.op));
        return { ...base, status: inst.status, counts: await engine.entryStatusCounts(inst.id) };
      },
      async recover(op) {
        const p = op.params as unknown as ImportParams;
        if (p.dryRun) return null;
        // The subject is the installation, recorded once the plan was prepared.
        return recoverInstall(engine, op, op.subject, (inst, counts) => ({
          dryRun: false,
          packageId: inst.packageId,
          installationId: inst.id,
          summary: inst.summary,
          installBlocker: null,
          status: inst.status,
          counts,
        }));
      },
      async abandon(op) {
        const p = op.params as unknown as ImportParams;
        if (!p.dryRun && op.subject) await releaseAbandonedLock(engine, p.targetEnvId, op.subject);
      },
    },

    [OP.clone]: {
      // One transaction: a clone whose server died wrote nothing and can simply run again,
      // or committed before the server could say so: the run again finds its copy.
      resumable: () => true,
      async run(ctx) {
        const { input } = ctx.op.params as unknown as CloneParams;
        const made = ctx.op.attempts > 1 ? await committedClone(engine, input, ctx.op.createdAt) : null;
        if (made) return { environment: made };
        ctx.progress(0, `cloning ${input.cloneFrom ?? ''} into ${input.id}`);
        const env = await engine.createEnvironment(input, actorOf(ctx.op), phased(ctx, { clone: [0, 99] }));
        return { environment: env };
      },
    },

    [OP.install]: {
      resumable: () => false,
      async run(ctx) {
        const { installationId } = ctx.op.params as unknown as InstallParams;
        ctx.progress(0, 'installing');
        const inst = await engine.install(installationId, { signal: ctx.signal, onProgress: phased(ctx, { install: [0, 99] }) }, actorOf(ctx.op));
        return { installationId, status: inst.status, summary: inst.summary, counts: await engine.entryStatusCounts(inst.id) };
      },
      async recover(op) {
        const { installationId } = op.params as unknown as InstallParams;
        return recoverInstall(engine, op, installationId, (inst, counts) => ({ installationId: inst.id, status: inst.status, summary: inst.summary, counts }));
      },
      async abandon(op) {
        const { installationId } = op.params as unknown as InstallParams;
        if (op.environmentId) await releaseAbandonedLock(engine, op.environmentId, installationId);
      },
    },
  };
}
