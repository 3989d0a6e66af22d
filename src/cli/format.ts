import picocolors from 'picocolors';
import type { Environment, Installation, Package, PackageEntity, PlanEntry, PlanSummary, StoredObject } from '../core/types.js';
import { printable as show, printableJson } from '../core/printable.js';
import type { LockView } from '../engine/engine.js';

/**
 * Human output of the CLI. `ferry plan` reads like `terraform plan`: one line
 * per object with a sign, the changed fields, invalid entries and drift
 * called out, and a summary line.
 *
 * Every value that comes from users (names, ids, reasons, hosts) goes
 * through `show` (src/core/printable.ts): stored verbatim, printed with its
 * control characters escaped, so a name cannot recolour, hide or reorder
 * what the terminal shows.
 */
// Colour only on a terminal: picocolors alone also colours whenever CI is
// set, which would put escape codes into logs and piped output.
let pc = picocolors.createColors(false);

/** A user's string in double quotes, escaped like JSON and safe to print. */
const quoted = (s: string) => printableJson(JSON.stringify(s));

/** Turn colours on or off for everything this module prints. */
export function useColors(enabled: boolean): void {
  pc = picocolors.createColors(enabled);
}

/** The colour functions currently in force. */
export const colors = () => pc;

const SIGN: Record<PlanEntry['action'], string> = {
  CREATE: '+',
  UPDATE: '~',
  MERGE: '~',
  USEEXISTING: '=',
  IGNORE: '-',
  REMOVE: 'x',
};

const WORD: Record<PlanEntry['action'], string> = {
  CREATE: 'create',
  UPDATE: 'update',
  MERGE: 'merge',
  USEEXISTING: 'use existing',
  IGNORE: 'ignore',
  REMOVE: 'remove',
};

function colorFor(action: PlanEntry['action']): (s: string) => string {
  switch (action) {
    case 'CREATE':
      return pc.green;
    case 'UPDATE':
    case 'MERGE':
      return pc.yellow;
    case 'REMOVE':
      return pc.red;
    case 'IGNORE':
      return pc.dim;
    default:
      return (s) => s;
  }
}

export function formatPlanLine(e: PlanEntry): string {
  const color = colorFor(e.action);
  let line = `  ${color(SIGN[e.action])} ${show(e.type).padEnd(7)} ${show(e.sourceId)}  ${quoted(e.name)}  ${color(WORD[e.action])}`;
  if (e.targetId && e.targetId !== e.sourceId && e.action !== 'CREATE') line += pc.dim(` -> ${show(e.targetId)}`);
  if (e.match === 'naturalKey' || e.match === 'idmap' || e.match === 'user')
    line += pc.dim(` (matched by ${e.match === 'naturalKey' ? 'natural key' : e.match === 'idmap' ? 'ID map' : 'your choice'})`);
  if (e.changes.length > 0 && (e.action === 'UPDATE' || e.action === 'MERGE')) line += `  [${e.changes.map(show).join(', ')}]`;
  if (e.action !== e.autoAction) line += pc.cyan(` (set by you; was ${e.autoAction})`);
  if (e.drift) line += '\n' + pc.magenta(`      drift: edited in the target since Ferry last installed it`);
  if (!e.isValid) line += '\n' + pc.red(`      invalid: ${show(e.reason ?? '')}`);
  else if (e.reason) line += '\n' + pc.dim(`      note: ${show(e.reason)}`);
  return line;
}

export function formatSummary(s: PlanSummary): string {
  const parts = [
    `${s.create} to create`,
    `${s.update} to update`,
    `${s.merge} to merge`,
    `${s.useExisting} to use existing`,
    `${s.ignore} to ignore`,
    `${s.remove} to remove`,
  ];
  let out = `Plan: ${parts.join(', ')}.`;
  const warnings: string[] = [];
  if (s.invalid > 0) warnings.push(pc.red(`${s.invalid} invalid`));
  if (s.drift > 0) warnings.push(pc.magenta(`${s.drift} drifted`));
  if (warnings.length) out += ' ' + warnings.join(', ') + '.';
  return out;
}

export function formatPlan(
  pkg: Package,
  target: Environment,
  installation: Installation,
  entries: readonly PlanEntry[],
  blocker: string | null,
  opts: {
    all?: boolean;
    /** List at most this many entries, then count the rest by type (the demo's long plans). */
    limit?: number;
    /** End with how to apply the plan (false where the caller applies it itself). */
    applyHint?: boolean;
  } = {},
): string {
  const lines: string[] = [];
  lines.push(
    `Package ${quoted(pkg.name)} (${show(pkg.id)}, version ${pkg.version}, ${pkg.status}) -> ${show(target.id)} ${quoted(target.name)} (${target.tier})`,
  );
  lines.push('');
  // Unchanged objects found by id or by the ID map are noise in a big plan;
  // a natural-key or hand-picked match is a decision the approver should see.
  const interesting = entries.filter(
    (e) => opts.all || e.action !== 'USEEXISTING' || !e.isValid || e.drift || e.reason || e.match === 'naturalKey' || e.match === 'user',
  );
  const listed = opts.limit !== undefined ? interesting.slice(0, opts.limit) : interesting;
  for (const e of listed) lines.push(formatPlanLine(e));
  const rest = interesting.slice(listed.length);
  if (rest.length > 0) {
    const byType = new Map<string, number>();
    for (const e of rest) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    const sorted = [...byType].sort((a, b) => b[1] - a[1]);
    const counts = sorted.slice(0, 8).map(([t, n]) => `${show(t)} ${n}`);
    if (sorted.length > 8) counts.push(`${sorted.slice(8).reduce((k, [, n]) => k + n, 0)} of ${sorted.length - 8} other types`);
    lines.push(pc.dim(`  ... ${rest.length} more: ${counts.join(', ')}`));
  }
  const hidden = entries.length - interesting.length;
  if (hidden > 0) lines.push(pc.dim(`  = ${hidden} unchanged object${hidden > 1 ? 's' : ''} to use as they are (--all lists them)`));
  lines.push('');
  lines.push(formatSummary(installation.summary));
  if (installation.summary.invalid > 0) {
    lines.push(pc.red(`The plan cannot be installed until the invalid entries are fixed (ferry plan ... --set TYPE:id=ACTION).`));
  } else if (blocker) {
    lines.push(pc.yellow(`Install would be refused now: ${show(blocker)}.`));
  } else if (opts.applyHint !== false) {
    lines.push(`Installation ${show(installation.id)} is prepared. Apply it with: ferry install ${show(installation.id)}`);
  }
  return lines.join('\n');
}

export function formatEnvironments(envs: readonly (Environment & { lockedBy?: string | null })[]): string {
  if (envs.length === 0) return 'No environments yet. Create one with: ferry env create <id> --name <name> --tier <tier>';
  const rows = envs.map((e) => [
    show(e.id),
    show(e.name),
    e.tier,
    String(e.version),
    show(e.hosts.join(',')) || '-',
    e.clonedFrom ? `clone of ${show(e.clonedFrom)}` : '',
    e.lockedBy ? 'LOCKED' : '',
  ]);
  return table(['ID', 'NAME', 'TIER', 'VERSION', 'HOSTS', '', ''], rows);
}

/** An environment's install lock, as `ferry env lock` and `ferry env unlock` show it. */
export function formatLock(l: LockView, broken = false): string {
  if (!l.locked) return `Environment ${show(l.environmentId)} is not locked.`;
  const o = l.owner!;
  return [
    `${broken ? 'Broke the install lock of' : 'Install lock of'} environment ${show(l.environmentId)}`,
    `  held by:     installation ${show(l.holder ?? '')} (${l.purpose ?? 'install'})`,
    `  process:     ${show(o.host)} pid ${o.pid} (instance ${show(o.instance)})`,
    `  taken:       ${l.acquiredAt ?? '-'}, last heartbeat ${l.heartbeatAt ?? '-'}`,
    `  ${l.stale ? 'stale:       ' : 'live:        '}${show(l.reason ?? '')}`,
    ...(broken
      ? []
      : [l.stale ? '  The next write releases it; `ferry env unlock` does it now.' : '  Break it only if that process is hung: ferry env unlock --force']),
  ].join('\n');
}

export function formatObjects(res: { items: StoredObject[]; total: number }, offset: number): string {
  const rows = res.items.map((o) => [show(o.type), show(o.id), show(o.name)]);
  const shown = res.items.length ? `${offset + 1}-${offset + res.items.length}` : '0';
  return table(['TYPE', 'ID', 'NAME'], rows) + `\n(${shown} of ${res.total})`;
}

export function formatPackage(p: Package): string {
  const lines = [
    `Package ${show(p.id)}`,
    `  name:        ${show(p.name)}`,
    `  status:      ${p.status}${p.assemblyError ? ` (${show(p.assemblyError)})` : ''}`,
    `  version:     ${p.version}`,
    `  source:      ${show(p.sourceEnvId)} (${show(p.sourceTier)}) ${show(p.sourceUrl)}`,
    `  entities:    ${p.entityCount}  ${Object.entries(p.countsByType)
      .map(([t, n]) => `${show(t)} ${n}`)
      .join(', ')}`,
    `  selected:    ${p.objectCollections.map((c) => `${show(c.objCode)}:${c.entities.map((e) => show(e.ID)).join(',')}`).join(' ')}`,
    `  removals:    ${p.removals.length ? p.removals.map((r) => `${show(r.type)}:${show(r.id)}`).join(' ') : '-'}`,
    `  installOrder ${p.metadata.installOrder.map(show).join(' ')}`,
    `  created:     ${p.createdAt}${p.publishedAt ? `  published: ${p.publishedAt}` : ''}${p.retiredAt ? `  retired: ${p.retiredAt}` : ''}`,
  ];
  if (p.metadata.deferredRefs > 0) lines.push(`  cycles:      ${p.metadata.deferredRefs} ref(s) close reference cycles; installed in two phases`);
  return lines.join('\n');
}

export function formatPackages(list: readonly Package[]): string {
  if (list.length === 0) return 'No packages yet. Create one with: ferry package create --source <env> --name <name> --select TYPE:id';
  const rows = list.map((p) => [show(p.id), p.status, `v${p.version}`, String(p.entityCount), show(p.name)]);
  const out = [table(['ID', 'STATUS', 'VER', 'OBJECTS', 'NAME'], rows)];
  const failed = list.filter((p) => p.status === 'ASSEMBLING_FAILED');
  if (failed.length > 0) {
    out.push(
      pc.red(
        `${failed.length} package${failed.length > 1 ? 's' : ''} failed to assemble: ferry package show <id> says why, ferry package delete <id> removes ${failed.length > 1 ? 'one' : 'it'}.`,
      ),
    );
  }
  return out.join('\n');
}

export function formatEntities(list: readonly PackageEntity[]): string {
  return table(
    ['ORDER', 'TYPE', 'ID', 'NAME'],
    list.map((e) => [String(e.ord), show(e.type), show(e.id), show(e.name)]),
  );
}

export function formatHistory(list: readonly Installation[], packages: Map<string, Package>): string {
  if (list.length === 0) return 'No installations yet.';
  const rows = list.map((i) => {
    const s = i.summary;
    return [
      show(i.id),
      i.status,
      show(packages.get(i.packageId)?.name ?? i.packageId),
      `v${i.packageVersion}`,
      `+${s.create} ~${s.update + s.merge} =${s.useExisting} -${s.ignore} x${s.remove}`,
      i.installedAt ?? i.registeredAt,
      show(i.error ?? ''),
    ];
  });
  return table(['INSTALLATION', 'STATUS', 'PACKAGE', 'VER', 'CHANGES', 'WHEN', ''], rows);
}

export function formatInstallResult(inst: Installation, entries: readonly PlanEntry[]): string {
  const by = new Map<string, number>();
  for (const e of entries) by.set(e.installationStatus, (by.get(e.installationStatus) ?? 0) + 1);
  const counts = [...by.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
  return `Installation ${show(inst.id)} ${inst.status}: ${counts}.`;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [pc.bold(fmt(header)), ...rows.map(fmt)].join('\n');
}
