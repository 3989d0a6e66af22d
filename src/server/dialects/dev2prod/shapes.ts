/**
 * The response bodies of 001 (`/export/{id}`, `/import/{id}`), built from
 * Ferry's operations, packages and plans. Field names, order and casing are
 * the document's; the README next to this file lists every decision.
 */
import type { Catalog, TypeCode } from '../../../core/types.js';
import { countByPart, orderedParts, type OutcomeCount, type PartOutcome } from '../../../core/part-outcomes.js';
import type { Operation } from '../../../ops/types.js';

/**
 * The package parts of 000/001 in the order the document lists them (the
 * export example of 000 names all seventeen). A catalog's parts are reported
 * in this order, and parts the document does not name (Ferry's
 * `securityConfiguration`) after them.
 */
export const DOCUMENT_PARTS = [
  'metadata',
  'workflow',
  'formLayouts',
  'customAction',
  'indexConfiguration',
  'featureInstances',
  'uiComponentConfig',
  'notificationTemplateDefinitions',
  'notificationTemplateBodies',
  'SLTTenantSetting',
  'data',
  'userOptionMetadata',
  'rulesInEntity',
  'many2manyRelations',
  'attachments',
  'customAppSltSettings',
  'resourceBundles',
] as const;

/** The parts every statistics list names, in order. */
export const partsOf = (catalog: Catalog): string[] => orderedParts(catalog, DOCUMENT_PARTS);

/** Epoch milliseconds of an ISO time (the document's `StartTime`, `LastUpdateTime`). */
export const epochMs = (iso: string): number => Date.parse(iso);

/** `StartTime`: when a worker took the operation, or when it was asked for while it waits. */
export const startOf = (op: Operation): string => op.startedAt ?? op.createdAt;

/**
 * `Package-<package>-<tenant>-<yyyy-MM-dd HH-mm>` (000 step 2), the time
 * being the export's `StartTime` in UTC: the document shows 09-44 for a
 * StartTime of 2025-01-27T09:44:11Z.
 */
export function bundleName(packageId: string, tenantId: string, startIso: string): string {
  const t = new Date(startIso).toISOString();
  return `Package-${packageId}-${tenantId}-${t.slice(0, 10)} ${t.slice(11, 13)}-${t.slice(14, 16)}`;
}

/** What GET `/export/{id}` answers. */
export interface ExportStatus {
  id: string;
  PackageBundleName: string;
  Status: string;
  FileId: string | null;
  StartTime: number;
  LastUpdateTime: number;
  ItemCount: number;
  Statistics: { PackageName: string; ItemCount: number }[];
  OperationType: 'Export';
  /** Ferry's addition: the operation's progress, 0-100. */
  Progress: number;
}

/** An export operation as 001 shows it; `countsByType` are the package's entities by type. */
export function exportStatus(
  op: Operation,
  tenantId: string,
  catalog: Catalog,
  countsByType: Readonly<Record<TypeCode, number>>,
  fileId: string | null,
): ExportStatus {
  const byPart = countByPart(catalog, countsByType);
  const packageId = String(op.params.packageId);
  return {
    id: op.id,
    PackageBundleName: bundleName(packageId, tenantId, startOf(op)),
    Status: op.status,
    FileId: fileId,
    StartTime: epochMs(startOf(op)),
    LastUpdateTime: epochMs(op.updatedAt),
    ItemCount: [...byPart.values()].reduce((a, b) => a + b, 0),
    Statistics: partsOf(catalog).map((p) => ({ PackageName: p, ItemCount: byPart.get(p) ?? 0 })),
    OperationType: 'Export',
    Progress: op.progress,
  };
}

/** One `Results` entry of GET `/import/{id}`. */
export interface PartResult {
  PackageName: string;
  /** The document's four counts, and `Added` (Ferry's addition: `Totals` has it, a part's creations are counted there). */
  Statistics: { Added: number; Modified: number; Removed: number; Failed: number; Skipped: number };
  Errors: string[];
  Warnings: string[];
}

export type Totals = { Added: number; Modified: number; Removed: number; Failed: number; Skipped: number };

const DOCUMENT_COUNT: Record<OutcomeCount, keyof Totals> = { added: 'Added', modified: 'Modified', removed: 'Removed', failed: 'Failed', skipped: 'Skipped' };

/** `Results` in part order (every part of the catalog, zeros where nothing happened) and their `Totals`. */
export function importResults(catalog: Catalog, outcomes: ReadonlyMap<string, PartOutcome>): { Results: PartResult[]; Totals: Totals } {
  const totals: Totals = { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 0 };
  const parts = partsOf(catalog);
  // Objects of a type the catalog no longer knows are still reported, last.
  for (const p of outcomes.keys()) if (!parts.includes(p)) parts.push(p);
  const Results = parts.map((p): PartResult => {
    const o = outcomes.get(p);
    const Statistics = { Added: 0, Modified: 0, Removed: 0, Failed: 0, Skipped: 0 };
    if (o) for (const [k, name] of Object.entries(DOCUMENT_COUNT) as [OutcomeCount, keyof Totals][]) Statistics[name] = o[k];
    for (const k of Object.keys(totals) as (keyof Totals)[]) totals[k] += Statistics[k];
    return { PackageName: p, Statistics, Errors: o?.errors ?? [], Warnings: o?.warnings ?? [] };
  });
  return { Results, Totals: totals };
}

/** What GET `/import/{id}` answers. */
export interface ImportStatus {
  TimeToLive: number;
  StudioLocked: boolean;
  SystemLocked: boolean;
  id: string;
  FileId: string;
  Status: string;
  DryRun: boolean;
  PackageManagerId: string | null;
  StartTime: number;
  LastUpdateTime: number;
  ProcessingServerName: string | null;
  Results: PartResult[];
  Totals: Totals;
  OperationType: 'Import';
  /** Ferry's addition: the operation's progress, 0-100. */
  Progress: number;
}
