import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.js';
import { printable as show } from '../../core/printable.js';
import type { Cli } from '../context.js';

/** What `ferry verify --json` prints. */
export interface VerifyReport {
  path: string;
  intact: boolean;
  /** Why it is not intact (absent when it is). */
  problem?: string;
  count?: number;
  sha256?: string;
  package?: { id: string; name: string; version: number };
  /** Fingerprint of the key that signed it; null when unsigned. */
  signedBy?: string | null;
  /** Fingerprint of this server's key (the data directory's, or --server's). */
  serverKey?: string;
  /** Environments here whose trustedSigningKeys hold the signer. */
  trustedBy?: string[];
}

/**
 * `ferry verify <bundle>`: is the file intact (format, digest, counts, and
 * its signature if it has one), and who signed it: the key's fingerprint,
 * whether it is this server's key (the local data directory's, or the
 * server's with --server), and which environments here trust it. Exit 1
 * when the bundle is not intact; an intact unsigned bundle exits 0 (an
 * environment that requires signatures refuses it at import).
 */
export function registerVerifyCommand(program: Command, cli: Cli): void {
  program
    .command('verify <bundle>')
    .description(
      "check that a .ferry bundle is intact and say who signed it (key fingerprint, this server's key or one an environment trusts); exit 1 when not intact",
    )
    .action(async (path: string) => {
      const { verifyBundle } = await import('../../engine/bundle-io.js');
      let report: VerifyReport;
      try {
        const v = await verifyBundle(path);
        report = {
          path,
          intact: true,
          count: v.count,
          sha256: v.sha256,
          package: { id: v.header.package.id, name: v.header.package.name, version: v.header.package.version },
          signedBy: v.signedBy?.fingerprint ?? null,
        };
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        cli.exitCode = 1;
        cli.print(`${show(path)}: NOT intact: ${show(e.message)}`, { path, intact: false, problem: e.message } satisfies VerifyReport);
        return;
      }
      const eng = await cli.engineApi();
      const remote = await cli.remote();
      const key = remote ? await remote.signingKey() : await (await cli.local()).signingKey();
      report.serverKey = key.fingerprint;
      const signer = report.signedBy;
      report.trustedBy = signer ? (await eng.listEnvironments()).filter((e) => e.trustedSigningKeys.includes(signer)).map((e) => e.id) : [];
      cli.print(describe(report), report);
    });
}

function describe(r: VerifyReport): string {
  const pkg = r.package!;
  const lines = [`${show(r.path)}: intact: package ${show(pkg.name)} v${pkg.version}, ${r.count} objects, sha256 ${r.sha256}`];
  if (!r.signedBy) {
    lines.push('not signed (an environment with trusted signing keys refuses it)');
    return lines.join('\n');
  }
  const whose = r.signedBy === r.serverKey ? "this server's key" : `not this server's key (${r.serverKey})`;
  const trust = r.trustedBy!.length > 0 ? `trusted by ${r.trustedBy!.map(show).join(', ')}` : 'trusted by no environment here';
  lines.push(`signed by ${r.signedBy}: ${whose}; ${trust}`);
  return lines.join('\n');
}
