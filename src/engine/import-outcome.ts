/**
 * What a bundle import (the `bundle.import` operation, dry run or not) did,
 * or for a dry run will do, to each catalog part: the counts and messages a
 * face with per-part statistics reports (dev2prod `Results`, `Totals`).
 *
 * A dry run reports exactly what the real run then does: both are counted
 * from the same plan entries by the same rules (src/core/part-outcomes.ts),
 * a dry run whose plan the install would refuse counts as that refused run,
 * and a refused or failed run counts nothing as written.
 */
import { NotFoundError } from '../core/errors.js';
import { importRefusal, outcomeByPart, type PartOutcome } from '../core/part-outcomes.js';
import type { Installation, PlanEntry } from '../core/types.js';
import type { Engine } from './engine.js';

/** The parts of an import operation this needs (an `Operation` fits). */
export interface ImportRun {
  status: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  params: Record<string, unknown>;
  /** The installation (plan) it made, once it made one. */
  subject: string | null;
  result: unknown;
  error: { code: string; message: string } | null;
}

export interface ImportOutcome {
  /** The run's status; a dry run whose real run would be refused is FAILED, like that run. */
  status: ImportRun['status'];
  /** The package the bundle was stored as, once known. */
  packageId: string | null;
  /** Counts and messages by part; parts without entries are absent. */
  parts: Map<string, PartOutcome>;
  /** Why nothing is (or was) written, or null. */
  refusal: string | null;
}

const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Why a finished run wrote nothing (null: it wrote what it says), in words a dry run and its real run share. */
function refusalOf(run: ImportRun, dryRun: boolean, invalid: number): string | null {
  const result = (run.result ?? {}) as { installBlocker?: string | null };
  if (run.status === 'COMPLETED') return dryRun ? importRefusal(invalid, result.installBlocker ?? null) : null;
  if (run.status === 'CANCELLED') return 'the import was cancelled; nothing was written';
  if (invalid > 0) return importRefusal(invalid, null);
  // The install's status gate words its refusal exactly as the dry run's blocker.
  if (run.error?.code === 'PACKAGE_STATUS') return importRefusal(0, run.error.message);
  return `the import failed: ${run.error?.message ?? 'no reason given'}; nothing was written`;
}

/**
 * The outcome of an import operation. Unfinished: its status only. Finished:
 * read from the installation it prepared (its plan entries, or their install
 * outcomes); a run that failed before it had a plan has no parts, only the
 * refusal.
 */
export async function importOutcome(engine: Engine, run: ImportRun): Promise<ImportOutcome> {
  const result = (run.result ?? {}) as { installationId?: string; packageId?: string };
  const installationId = result.installationId ?? run.subject;
  if (!FINISHED.has(run.status)) return { status: run.status, packageId: result.packageId ?? null, parts: new Map(), refusal: null };
  let inst: Installation | null = null;
  let entries: PlanEntry[] = [];
  if (installationId) {
    try {
      inst = await engine.getInstallation(installationId);
      entries = await engine.getEntries(inst.id);
    } catch (e) {
      // Deleted with its package since: the run is reported without its entries.
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  const dryRun = run.params.dryRun === true;
  const refusal = refusalOf(run, dryRun, entries.filter((e) => !e.isValid).length);
  return {
    status: run.status === 'COMPLETED' && refusal ? 'FAILED' : run.status,
    packageId: inst?.packageId ?? result.packageId ?? null,
    parts: outcomeByPart(engine.catalog, entries, { refusal }),
    refusal,
  };
}
