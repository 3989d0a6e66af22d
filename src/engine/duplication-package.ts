/**
 * A whole project (an environment) as a portable package, and back (004
 * "project duplication"): export every object of the environment plus the
 * configuration objects the rules choose; import it as a new environment
 * whose objects keep their ids, resolving configuration objects against the
 * target server's by the conflict rules. Within one server the project is
 * cloned instead (its configuration objects are already there).
 *
 * The package is a `.ferry` bundle (bundle-io.ts: gzip NDJSON, header,
 * entities, trailer with SHA-256), configuration objects first. Every write
 * of an import or a clone happens in ONE transaction, which `finish` joins
 * (the record's COMPLETED is written in it): a cancelled or failed import
 * leaves no half-made project behind.
 *
 * Export, import and clone run in the offload thread on a server
 * (offload-verbs.ts): their options are plain data, the duplication's
 * record named by its id.
 */
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleEntity, type BundleHeader } from '../core/bundle.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import {
  resolveConfigurationObjects,
  selectConfigurationObjects,
  serverRefsOf,
  type ConfigDecision,
  type ExportRules,
  type ImportRules,
} from '../core/duplication-rules.js';
import { rewriteRefs } from '../core/refs.js';
import type { Environment, FerryObject, Tier, TypeCode } from '../core/types.js';
import { DuplicationStore, type ProjectProperties } from '../store/duplication-store.js';
import { SERVER_SCOPE, type Store } from '../store/store.js';
import { readBundleEntityBatches, readBundleHeader, writeBundle } from './bundle-io.js';
import type { Engine } from './engine.js';
import { toRow, type Actor, type ProgressFn } from './context.js';

const PAGE = 2000;

/** The project a duplication creates. */
export interface ProjectTarget {
  /** The environment's uid, also its id (a project's id is its environment's uid). */
  uid: string;
  name: string;
  tier: Tier;
  properties: ProjectProperties;
}

/** What an import did, for the record's message and the audit log. */
export interface ImportSummary {
  projectObjects: number;
  configuration: Record<ConfigDecision['outcome'], number>;
  renamed: { type: TypeCode; id: string; from: string }[];
}

/** A duplication cancelled while it ran (its record is no longer in the status the work expects). */
export const duplicationCancelled = () => new ConflictError('CANCELLED', 'the duplication was cancelled');

/**
 * Mark the duplication's record COMPLETED inside the transaction that made
 * its project, only if it is still IMPORTING: a cancel that landed meanwhile
 * wins, and the whole transaction rolls back.
 */
async function complete(tx: Store, duplicationId: string, env: Environment, message: string): Promise<void> {
  const done = { status: 'COMPLETED' as const, progress: 100, message, targetEnvId: env.id };
  if (!(await new DuplicationStore(tx).update(duplicationId, done, ['IMPORTING']))) throw duplicationCancelled();
}

function summaryMessage(name: string, s: ImportSummary): string {
  const c = s.configuration;
  const parts = [`duplicated ${s.projectObjects} objects into project ${name}`];
  const total = c.created + c.replaced + c.merged + c.kept + c.unchanged;
  if (total > 0)
    parts.push(
      `configuration objects: ${c.created} created, ${c.replaced} replaced, ${c.merged} merged, ${c.kept} kept as they were, ${c.unchanged} already equal`,
    );
  if (s.renamed.length > 0) parts.push(`renamed to stay unique: ${s.renamed.map((x) => `${x.type} ${x.id} (was ${x.from})`).join(', ')}`);
  return parts.join('; ');
}

/** Every object of one scope, optionally of some types, read a page at a time. */
async function* objectsOf(ds: DuplicationStore, envId: string, types?: readonly TypeCode[]): AsyncGenerator<FerryObject[]> {
  let after: { type: TypeCode; id: string } | null = null;
  for (;;) {
    const page = await ds.pageObjects(envId, after, PAGE, types);
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1]!;
    after = { type: last.type, id: last.id };
  }
}

async function allOf(ds: DuplicationStore, envId: string, types?: readonly TypeCode[]): Promise<FerryObject[]> {
  const out: FerryObject[] = [];
  for await (const page of objectsOf(ds, envId, types)) for (const o of page) out.push(o);
  return out;
}

/** Types of the catalog whose objects can refer to configuration (server-scope) objects. */
function typesReferringToServer(engine: Engine, scope: 'environment' | 'server'): TypeCode[] {
  return Object.values(engine.catalog.types)
    .filter((t) => t.scope === scope && Object.values(t.refs).some((r) => engine.catalog.types[r.type]?.scope === 'server'))
    .map((t) => t.code);
}

/**
 * Write a project as a package: the configuration objects the export rules
 * choose, then every object of the environment, streamed (a page at a time)
 * into `path` (written to a temp file and renamed, so `path` never holds half
 * a package). `info` goes into the header for a restoration to show.
 */
export async function exportProject(
  engine: Engine,
  opts: { envId: string; packageId: string; rules: ExportRules; info: Record<string, unknown>; path: string; onProgress?: ProgressFn | undefined },
): Promise<{ count: number; sha256: string; bytes: number; configurationObjects: number }> {
  const env = await engine.getEnvironment(opts.envId);
  const ds = new DuplicationStore(engine.store);
  opts.onProgress?.({ phase: 'select', done: 0, total: 1 });
  const projectRefs: { type: TypeCode; id: string }[] = [];
  const referring = typesReferringToServer(engine, 'environment');
  if (referring.length > 0) {
    for await (const page of objectsOf(ds, env.id, referring)) for (const o of page) for (const r of serverRefsOf(engine.catalog, o)) projectRefs.push(r);
  }
  const config = selectConfigurationObjects(engine.catalog, await allOf(ds, SERVER_SCOPE), projectRefs, opts.rules);
  const counts = await ds.countObjectsByType(env.id);
  for (const o of config) counts[o.type] = (counts[o.type] ?? 0) + 1;
  const entityCount = Object.values(counts).reduce((a, b) => a + b, 0);
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    catalogVersion: engine.catalog.version,
    source: { envId: env.id, uid: env.uid, name: env.name, tier: env.tier, url: engine.publicUrl },
    package: {
      id: opts.packageId,
      name: env.name,
      description: `project duplication of ${env.name}`,
      version: 1,
      status: 'DRAFT',
      objectCollections: [],
      removals: [],
      metadata: { installOrder: [], displayOrder: [], deferredRefs: 0 },
    },
    counts,
    entityCount,
    duplication: opts.info,
  };
  let written = 0;
  const progress = () => opts.onProgress?.({ phase: 'export', done: written, total: entityCount });
  async function* entities(): AsyncGenerator<BundleEntity> {
    for (const o of config) {
      written++;
      yield o;
    }
    for await (const page of objectsOf(ds, env.id)) {
      progress();
      for (const o of page) {
        written++;
        yield o;
      }
    }
    progress();
  }
  try {
    const r = await writeBundle(opts.path, header, entities(), undefined, await engine.signingKey());
    return { ...r, configurationObjects: config.length };
  } catch (e) {
    // The counts were taken before the pages were read: an object written meanwhile shows as a count mismatch.
    if (e instanceof ValidationError && /not counted in the header|header says|header counts/.test(e.message)) {
      throw new ValidationError('the project changed while it was exported; run the duplication again', { cause: e });
    }
    throw e;
  }
}

/** Refuse a project name or id already used on this server (names compare trimmed and case-insensitively). */
export async function checkProjectFree(store: Store, name: string, uid: string): Promise<void> {
  const wanted = name.trim().toLowerCase();
  for (const env of await store.environments.list()) {
    if (env.name.trim().toLowerCase() === wanted)
      throw new ConflictError('PROJECT_NAME_EXISTS', `a project named "${env.name}" already exists on this server; choose another name`);
    if (env.uid.toLowerCase() === uid.toLowerCase() || env.id.toLowerCase() === uid.toLowerCase()) {
      throw new ConflictError('PROJECT_ID_EXISTS', `a project with id ${uid} already exists on this server`);
    }
  }
}

function newEnvironment(target: ProjectTarget, clonedFrom: string | null, base?: Pick<Environment, 'parameters' | 'targetOwned'>): Environment {
  const ts = new Date().toISOString();
  return {
    id: target.uid,
    uid: target.uid,
    name: target.name.trim(),
    tier: target.tier,
    hosts: [],
    version: 1,
    parameters: base?.parameters ?? {},
    targetOwned: base?.targetOwned ?? {},
    clonedFrom,
    createdAt: ts,
    updatedAt: ts,
  };
}

/**
 * The header of a package, refused unless it is a project duplication
 * package this server's catalog can hold. Refusals name the file `name`
 * (an upload's own name) rather than its path in the file store.
 */
export async function readProjectPackageHeader(
  engine: Engine,
  path: string,
  name = 'the package',
): Promise<BundleHeader & { duplication: Record<string, unknown> }> {
  let header: BundleHeader;
  try {
    header = await readBundleHeader(path);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(e.message.split(path).join(name), { cause: e });
    throw e;
  }
  if (!header.duplication) throw new ValidationError('the file is a Ferry bundle but not a project duplication package (.projdup)');
  const unknown = Object.keys(header.counts).filter((t) => !engine.catalog.types[t]);
  if (unknown.length > 0) throw new ValidationError(`the package holds types this server's catalog does not know: ${unknown.join(', ')}`);
  return header as BundleHeader & { duplication: Record<string, unknown> };
}

/**
 * Import a package as a new project. The whole file is read (and verified:
 * digest, counts, trailer) before anything is written; then one transaction
 * creates the environment, resolves and writes the configuration objects,
 * inserts every project object under its own id (refs to configuration
 * objects follow the ids those got), and marks duplication `duplicationId`
 * COMPLETED in it.
 */
export async function importProject(
  engine: Engine,
  opts: {
    path: string;
    target: ProjectTarget;
    rules: ImportRules;
    actor?: Actor;
    signal?: AbortSignal | undefined;
    onProgress?: ProgressFn | undefined;
    duplicationId: string;
  },
): Promise<ImportSummary> {
  const header = await readProjectPackageHeader(engine, opts.path);
  const isServer = (type: TypeCode) => engine.catalog.types[type]?.scope === 'server';
  const incoming: FerryObject[] = [];
  let read = 0;
  for await (const batch of readBundleEntityBatches(opts.path)) {
    opts.signal?.throwIfAborted();
    for (const e of batch) {
      // Ferry never writes a NUL (PostgreSQL cannot store one): a package holding one was made elsewhere, and is refused here, before anything is written.
      if (holdsNul(e)) throw new ValidationError(`the package holds a NUL character (\\u0000) in ${e.type} ${JSON.stringify(e.id)}`);
      if (isServer(e.type)) incoming.push(e);
    }
    read += batch.length;
    opts.onProgress?.({ phase: 'verify', done: read, total: header.entityCount });
  }
  const referring = new Set(typesReferringToServer(engine, 'environment'));
  return engine.store.transaction(async (tx) => {
    await checkProjectFree(tx, opts.target.name, opts.target.uid);
    const env = newEnvironment(opts.target, null);
    await tx.environments.create(env);
    const ds = new DuplicationStore(tx);
    const types = [...new Set(incoming.map((o) => o.type))];
    const current = types.length > 0 ? await allOf(ds, SERVER_SCOPE, types) : [];
    const { decisions, translate } = resolveConfigurationObjects(engine.catalog, incoming, current, opts.rules);
    const writes = decisions.filter((d) => d.object).map((d) => toRow(engine, env.id, d.object!));
    if (writes.length > 0) {
      // Server-scoped rows: in the order every writer of them takes (lockForWrite), so this never deadlocks with one.
      await tx.environments.lockAllRows();
      await tx.objects.upsert(writes);
    }

    let done = 0;
    const total = header.entityCount - incoming.length;
    for await (const batch of readBundleEntityBatches(opts.path)) {
      opts.signal?.throwIfAborted();
      const rows = [];
      for (const e of batch) {
        if (isServer(e.type)) continue;
        const spec = engine.catalog.types[e.type]!;
        const fields = referring.has(e.type) ? rewriteRefs(spec, e.fields, (type, id) => (isServer(type) ? translate(type, id) : id)) : e.fields;
        rows.push(toRow(engine, env.id, { type: e.type, id: e.id, name: e.name, fields }));
      }
      await tx.objects.insert(rows);
      done += rows.length;
      opts.onProgress?.({ phase: 'import', done, total });
    }
    opts.signal?.throwIfAborted();
    // Configuration objects are shared by every environment of the server: plans prepared against any of them are stale now.
    if (writes.length > 0) await tx.environments.bumpOtherVersions(env.id);
    await ds.putProjectProperties(env.uid, opts.target.properties);
    const summary = summarize(done, decisions);
    await tx.audit.append({
      actor: opts.actor?.actor ?? null,
      address: opts.actor?.address ?? null,
      action: 'project.duplicate',
      envId: env.id,
      subject: header.package.id,
      result: 'ok',
      detail: { from: header.source.url, sourceProject: header.source.uid, ...summary },
    });
    // The record keeps the package's id until the package is removed (duplication-work's dropPackage): a run stopped in between removes it when run again.
    await complete(tx, opts.duplicationId, env, summaryMessage(env.name, summary));
    return summary;
  });
}

/** Whether any string (value or key) in a value holds a NUL. Iterative: fields may nest deep. */
function holdsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) {
      for (const x of v as unknown[]) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

function summarize(projectObjects: number, decisions: readonly ConfigDecision[]): ImportSummary {
  const configuration: ImportSummary['configuration'] = { created: 0, replaced: 0, merged: 0, kept: 0, unchanged: 0 };
  for (const d of decisions) configuration[d.outcome]++;
  const renamed = decisions.filter((d) => d.renamedFrom !== undefined).map((d) => ({ type: d.type, id: d.targetId, from: d.renamedFrom! }));
  return { projectObjects, configuration, renamed };
}

/**
 * Duplicate a project within this server: a new environment holding a copy
 * of every object under the same ids (configuration objects are shared by
 * the server's environments, so nothing else is copied), parameters and
 * target-owned fields included, as a clone does. One transaction, which
 * marks duplication `duplicationId` COMPLETED.
 */
export async function cloneProject(
  engine: Engine,
  opts: {
    sourceEnvId: string;
    target: ProjectTarget;
    actor?: Actor;
    signal?: AbortSignal | undefined;
    duplicationId: string;
  },
): Promise<{ env: Environment; copied: number }> {
  return engine.store.transaction(async (tx) => {
    const source = await tx.environments.get(opts.sourceEnvId);
    if (!source) throw new ValidationError(`project ${opts.sourceEnvId} no longer exists`);
    await checkProjectFree(tx, opts.target.name, opts.target.uid);
    const env = newEnvironment(opts.target, source.id, source);
    await tx.environments.create(env);
    const copied = await tx.objects.copy(source.id, env.id);
    opts.signal?.throwIfAborted();
    await new DuplicationStore(tx).putProjectProperties(env.uid, opts.target.properties);
    await tx.audit.append({
      actor: opts.actor?.actor ?? null,
      address: opts.actor?.address ?? null,
      action: 'project.duplicate',
      envId: env.id,
      subject: source.id,
      result: 'ok',
      detail: { from: source.id, copied },
    });
    await complete(tx, opts.duplicationId, env, `duplicated ${copied} objects into project ${env.name}`);
    return { env, copied };
  });
}
