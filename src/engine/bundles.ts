import { randomUUID } from 'node:crypto';
import type { Installation, Package, PackageEntity, PackageStatus, PlanEntry, Tier } from '../core/types.js';
import { PACKAGE_STATUSES, TIERS } from '../core/types.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleEntity, type BundleHeader } from '../core/bundle.js';
import { contentHashAndFields } from '../core/hash.js';
import { ValidationError } from '../core/errors.js';
import type { Override } from '../core/plan.js';
import { readBundleEntityBatches, readBundleHeader, verifyBundle, writeBundle, writeBundleDir } from './bundle-io.js';
import type { SigningTrust } from './bundle-read.js';
import type { Actor, Engine, PreparedPlan, ProgressFn } from './engine.js';
import { audit } from './context.js';
import { assertAssembled } from './packages.js';

const BATCH = 2000;

/** The bundle header for a package: what a reader needs before it reads one entity. */
export async function bundleHeader(engine: Engine, pkg: Package): Promise<BundleHeader> {
  const env = await engine.store.environments.get(pkg.sourceEnvId);
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    catalogVersion: engine.catalog.version,
    source: {
      envId: pkg.sourceEnvId,
      uid: pkg.sourceEnvUid,
      name: env?.name ?? pkg.sourceEnvId,
      tier: pkg.sourceTier,
      url: pkg.sourceUrl,
    },
    package: {
      id: pkg.id,
      name: pkg.name,
      description: pkg.description,
      version: pkg.version,
      status: pkg.status,
      objectCollections: pkg.objectCollections,
      removals: pkg.removals,
      metadata: pkg.metadata,
    },
    counts: pkg.countsByType,
    entityCount: pkg.entityCount,
  };
}

async function* entitiesOf(engine: Engine, pkg: Package, onProgress?: ProgressFn): AsyncGenerator<BundleEntity> {
  let n = 0;
  // Lean pages: a bundle carries no `via`, so it is not read.
  for await (const e of engine.store.packages.iterateEntities(pkg.id, 5000, { lean: true })) {
    yield { type: e.type, id: e.id, name: e.name, fields: e.fields };
    if (++n % BATCH === 0) onProgress?.({ phase: 'export', done: n, total: pkg.entityCount });
  }
  onProgress?.({ phase: 'export', done: n, total: pkg.entityCount });
}

/**
 * Write a package as a `.ferry` bundle (streamed: memory does not grow with
 * the package), and optionally as a reviewable directory tree; both signed
 * with the server's key. Run through `engine.run('exportPackage', ...)` to
 * keep a server's event loop free (offload-verbs.ts).
 */
export async function exportPackage(
  engine: Engine,
  packageId: string,
  out: { file?: string; dir?: string },
  actor?: Actor,
  onProgress?: ProgressFn,
): Promise<{ file?: { path: string; count: number; sha256: string; bytes: number; signedBy: string | null }; dir?: { path: string; count: number } }> {
  const pkg = await engine.getPackage(packageId);
  assertAssembled(pkg, 'nothing to export');
  if (!out.file && !out.dir) throw new ValidationError('export needs an output file (-o) or a directory (--dir)');
  const header = await bundleHeader(engine, pkg);
  const signer = await engine.signingKey();
  const result: Awaited<ReturnType<typeof exportPackage>> = {};
  if (out.file) {
    const r = await writeBundle(out.file, header, entitiesOf(engine, pkg, onProgress), undefined, signer);
    result.file = { path: out.file, ...r };
  }
  if (out.dir) {
    const r = await writeBundleDir(out.dir, header, entitiesOf(engine, pkg), signer);
    result.dir = { path: out.dir, count: r.count };
  }
  await audit(engine.store, actor, 'package.export', pkg.sourceEnvId, pkg.id, 'ok', { file: out.file ?? null, dir: out.dir ?? null, count: pkg.entityCount });
  return result;
}

export interface ImportResult {
  package: Package;
  plan: PreparedPlan;
  /** Set when the import installed (not a dry run). */
  installation: Installation | null;
  entries: PlanEntry[];
}

/**
 * Import a bundle into a target: verify the whole file first (nothing is
 * touched if it is truncated, tampered or of another format), store it as a
 * package, prepare against the target, and install unless `dryRun`.
 *
 * A target with `trustedSigningKeys` takes only bundles signed by one of
 * them: the whole file is verified against them before anything is read
 * into the store, and checked again as it is stored (the file could change
 * between the two reads).
 */
export async function importBundle(
  engine: Engine,
  path: string,
  targetEnvId: string,
  opts: { dryRun?: boolean; overrides?: Override[]; force?: boolean; onProgress?: ProgressFn } = {},
  actor?: Actor,
): Promise<ImportResult> {
  const trust = signingTrustOf(await engine.getEnvironment(targetEnvId));
  // Reading the file is the long part (decompress, hash, parse): in the offload thread on a server.
  const pkg = await engine.run('loadBundle', { onProgress: opts.onProgress }, path, actor, trust);
  const plan = await engine.prepare(pkg.id, targetEnvId, { overrides: opts.overrides, force: opts.force, onProgress: opts.onProgress }, actor);
  if (opts.dryRun) return { package: pkg, plan, installation: null, entries: plan.entries };
  const installation = await engine.install(plan.installation.id, { onProgress: opts.onProgress }, actor);
  return { package: pkg, plan, installation, entries: await engine.getEntries(installation.id) };
}

/**
 * The first half of an import: verify the whole bundle and store it as a
 * package (streamed, in batches) without planning anything. `importBundle`
 * goes on to prepare and install; the benchmark measures this part alone.
 *
 * One pass, not two: entities are checked (shape, counts, trailer, SHA-256)
 * as they are read and stored inside ONE transaction, which a bad bundle
 * rolls back, so nothing is touched unless the whole file verifies (DESIGN
 * "Bundle format"). Reading, decompressing and parsing the file once instead
 * of twice is most of what an import costs. A failure is worded exactly as
 * verifyBundle words it (which is run then, on the failure path only).
 *
 * Given `trust`, the whole file is first verified against it, so a bundle
 * no trusted key signed is refused before anything is read into the store.
 * Run through `engine.run('loadBundle', ...)` to keep a server's event loop
 * free (offload-verbs.ts).
 */
export async function loadBundle(engine: Engine, path: string, actor?: Actor, onProgress?: ProgressFn, trust?: SigningTrust): Promise<Package> {
  if (trust !== undefined) await verifyBundle(path, undefined, trust);
  const header = await readBundleHeader(path);
  const existing = await engine.store.packages.get(header.package.id);
  // The package already here is taken for the file's only by its id, version
  // and source: an import that must be signed by a trusted key stores the
  // signed content itself, since an earlier unchecked import (into an
  // environment without trusted keys) may have stored other content under
  // that id.
  const reusable =
    existing && existing.version === header.package.version && existing.sourceEnvUid === header.source.uid && existing.entityCount === header.entityCount;
  if (reusable && trust === undefined) {
    await verifyBundle(path);
    refuseUnknownTypes(engine, path, header);
    return existing;
  }
  try {
    return await storeBundlePackage(engine, path, header, existing !== undefined, { actor, onProgress, trust });
  } catch (error) {
    // Word a refusal as verify words it, whatever found it first: a bad line,
    // or the store refusing an object the file holds twice (its primary key).
    // Verify passes only when the file is sound; then the error is the store's.
    await verifyBundle(path, undefined, trust);
    throw error;
  }
}

/**
 * The header of a bundle this server can import, read from its first line
 * only (cheap enough to answer a request with): refused (400) when the file is
 * not a Ferry bundle or holds types this server's catalog does not know. The
 * whole file is verified again by the import itself.
 */
export async function readImportableHeader(engine: Engine, path: string): Promise<BundleHeader> {
  const header = await readBundleHeader(path);
  refuseUnknownTypes(engine, path, header);
  return header;
}

/** The keys an environment's imports must be signed with; undefined when it takes any intact bundle. */
export function signingTrustOf(env: { id: string; trustedSigningKeys?: string[] }): SigningTrust | undefined {
  const fingerprints = env.trustedSigningKeys ?? [];
  return fingerprints.length > 0 ? { envId: env.id, fingerprints } : undefined;
}

function refuseUnknownTypes(engine: Engine, path: string, header: BundleHeader): void {
  const unknown = Object.keys(header.counts).filter((t) => !engine.catalog.types[t]);
  if (unknown.length > 0) {
    throw new ValidationError(`bundle ${path} holds types this server's catalog does not know: ${unknown.join(', ')}`);
  }
}

/**
 * Store a verified bundle as a package. The package keeps its id across
 * servers (003: a package is visible from every environment); if this server
 * already has that id at the same version it is reused, otherwise a copy
 * with a new id is made so nothing local is overwritten.
 */
async function storeBundlePackage(
  engine: Engine,
  path: string,
  header: BundleHeader,
  idTaken: boolean,
  opts: { actor?: Actor | undefined; onProgress?: ProgressFn | undefined; trust?: SigningTrust | undefined },
): Promise<Package> {
  const { actor, onProgress } = opts;
  const ts = new Date().toISOString();
  const status =
    (PACKAGE_STATUSES as readonly string[]).includes(header.package.status) && !header.package.status.startsWith('ASSEMBLING')
      ? (header.package.status as PackageStatus)
      : 'DRAFT';
  const pkg: Package = {
    id: idTaken ? randomUUID() : header.package.id,
    name: header.package.name,
    description: header.package.description,
    sourceEnvId: header.source.envId,
    sourceEnvUid: header.source.uid,
    sourceUrl: header.source.url,
    sourceTier: ((TIERS as readonly string[]).includes(header.source.tier) ? header.source.tier : 'development') as Tier,
    status,
    version: header.package.version,
    objectCollections: header.package.objectCollections,
    removals: header.package.removals,
    metadata: header.package.metadata,
    entityCount: header.entityCount,
    countsByType: header.counts,
    assemblyError: null,
    createdAt: ts,
    updatedAt: ts,
    publishedAt: status === 'ACTIVE' ? ts : null,
    retiredAt: null,
    createdBy: actor?.actor ?? null,
  };
  await engine.store.transaction(async (tx) => {
    await tx.packages.create(pkg);
    let batch: (PackageEntity & { fieldsJson: string })[] = [];
    let ord = 0;
    for await (const read of readBundleEntityBatches(path, opts.trust)) {
      for (const e of read) {
        // The fields are stored as their canonical text, serialized once for
        // the hash anyway: the same object once parsed back (and, bundle lines
        // being canonical, even the same key order).
        const { hash, fieldsJson } = contentHashAndFields(e.name, e.fields);
        batch.push({ type: e.type, id: e.id, name: e.name, fields: e.fields, hash, fieldsJson, ord: ord++, via: null });
      }
      if (batch.length >= BATCH) {
        await tx.packages.insertEntities(pkg.id, batch);
        batch = [];
        onProgress?.({ phase: 'import', done: ord, total: header.entityCount });
      }
    }
    if (batch.length) await tx.packages.insertEntities(pkg.id, batch);
    // The whole file has verified by now (readBundleEntities throws after the
    // last entity otherwise); what it holds must also be known here.
    refuseUnknownTypes(engine, path, header);
    await audit(tx, actor, 'package.import', null, pkg.id, 'ok', { path, count: ord, source: header.source.url });
  });
  return pkg;
}
