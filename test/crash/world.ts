/**
 * The world the crash suite kills servers in: a data directory built once
 * over the native API (a development source of generated objects, a
 * package of all of it, its bundle, and production targets, one of which
 * already holds a completed install to roll back), copied afresh for every
 * kill; and what can be read of a data directory to judge a crash: the
 * objects of an environment, the ids of everything that must survive, the
 * SQLite integrity check.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateSample } from '../../src/engine/sample-data.js';
import { request, type HttpOptions, type HttpRes } from '../support/http.js';
import { BUILT_BIN, startTestServer, stopServer, type Proc } from '../support/process.js';

export const ADMIN_KEY = 'crash-admin-key-0123456789';
export const SOURCE = 'dev';
/** Empty production target: installs and imports go here. */
export const TARGET = 'prod';
/** Production target already holding the package: rollbacks happen here. */
export const INSTALLED = 'prod2';

export interface Fixture {
  dir: string;
  packageId: string;
  /** The bundle of the package in the file store. */
  fileId: string;
  /** The completed installation into INSTALLED. */
  installedId: string;
  objects: number;
}

/** A running server on a data directory, with a client that speaks as the admin. */
export class Server {
  private constructor(
    readonly dataDir: string,
    readonly proc: Proc,
    readonly base: string,
  ) {}

  static async start(dataDir: string): Promise<Server> {
    const { proc, base } = await startTestServer(dataDir, ADMIN_KEY, { FERRY_BODY_LIMIT: String(256 * 1024 * 1024) }, BUILT_BIN);
    return new Server(dataDir, proc, base);
  }

  http(method: string, path: string, opts: HttpOptions = {}): Promise<HttpRes> {
    return this.root(method, `/api/v1${path}`, opts);
  }

  /** A request outside the native API (a dialect's routes), as the admin. */
  root(method: string, path: string, opts: HttpOptions = {}): Promise<HttpRes> {
    return request(this.base, method, path, { ...opts, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...opts.headers } });
  }

  /** A call that must succeed. */
  async api(method: string, path: string, json?: unknown): Promise<any> {
    const r = await this.http(method, path, json === undefined ? {} : { json });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  }

  async waitOp(id: string, timeoutMs = 120_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const op = await this.api('GET', `/operations/${id}`);
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(op.status)) return op;
      if (Date.now() > until) throw new Error(`operation ${id} still ${op.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Wait until no operation is queued or running: a recovered server must settle every one of them. */
  async settle(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const busy = [
        ...(await this.api('GET', '/operations?status=QUEUED&limit=100')).items,
        ...(await this.api('GET', '/operations?status=RUNNING&limit=100')).items,
      ];
      if (busy.length === 0) return;
      if (Date.now() > until) throw new Error(`operations never settled: ${busy.map((o: any) => `${o.id} ${o.kind} ${o.status}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): Promise<number | null> {
    this.proc.child.kill('SIGKILL');
    return this.proc.exited;
  }

  stop(): Promise<number | null> {
    return stopServer(this.proc);
  }
}

/** Build the world once: about `objects` generated objects in the source, the package, its bundle, one install. */
export async function buildFixture(objects: number): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-crash-fixture-'));
  const s = await Server.start(dir);
  try {
    await s.api('POST', '/environments', { id: SOURCE, name: 'Development', tier: 'development' });
    await s.api('POST', '/environments', { id: TARGET, name: 'Production', tier: 'production' });
    await s.api('POST', '/environments', { id: INSTALLED, name: 'Production 2', tier: 'production' });
    const all = [...generateSample({ objects, seed: 'crash' })];
    for (let i = 0; i < all.length; i += 5000) {
      const ndjson = all
        .slice(i, i + 5000)
        .map((o) => JSON.stringify(o))
        .join('\n');
      const r = await s.http('POST', `/environments/${SOURCE}/objects`, { headers: { 'content-type': 'application/x-ndjson' }, body: ndjson });
      if (r.status >= 300) throw new Error(`load: ${r.status} ${r.text}`);
    }
    const created = await s.api('POST', '/packages', selection(all));
    await s.waitOp(created.operation.id);
    const packageId = created.package.id as string;
    await s.api('PATCH', `/packages/${packageId}`, { status: 'ACTIVE' });
    const exported = await s.waitOp((await s.api('POST', `/packages/${packageId}/export`)).operation.id);
    const plan = await s.api('POST', `/packages/${packageId}/plans`, { targetEnvId: INSTALLED });
    const installed = await s.waitOp((await s.api('POST', `/installations/${plan.installation.id}/install`)).operation.id);
    if (installed.status !== 'COMPLETED') throw new Error(`fixture install: ${JSON.stringify(installed)}`);
    return { dir, packageId, fileId: exported.result.file.id as string, installedId: plan.installation.id as string, objects: all.length };
  } finally {
    await s.stop();
  }
}

/** Every generated object selected by id: the package holds the whole source. */
export function selection(all: readonly { type: string; id: string }[]): unknown {
  const byType = new Map<string, { ID: string }[]>();
  for (const o of all) {
    if (!byType.has(o.type)) byType.set(o.type, []);
    byType.get(o.type)!.push({ ID: o.id });
  }
  return { sourceEnvId: SOURCE, name: 'Everything', objectCollections: [...byType].map(([objCode, entities]) => ({ objCode, entities })) };
}

/** A private copy of the fixture's data directory. */
export function copyOf(fixture: Fixture): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-crash-'));
  cpSync(fixture.dir, dir, { recursive: true });
  return dir;
}

export function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const sqliteFile = (dataDir: string) => join(dataDir, 'ferry.sqlite');

/** Read the data directory's database directly (read-only; safe beside a running server in WAL mode). */
export function withDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(sqliteFile(dataDir), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** `type/id hash` of every object of an environment, sorted: two states are equal when these are. */
export function objectsOf(dataDir: string, envId: string): string[] {
  return withDb(dataDir, (db) =>
    (db.prepare('SELECT type, id, hash FROM objects WHERE env_id = ? ORDER BY type, id').all(envId) as { type: string; id: string; hash: string }[]).map(
      (r) => `${r.type}/${r.id} ${r.hash}`,
    ),
  );
}

/** The ids of everything a crash must not lose, per table. */
export function durableIds(dataDir: string): Record<string, string[]> {
  return withDb(dataDir, (db) => {
    const ids = (sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map((r) => r.map(String).join('/'));
    return {
      packages: ids('SELECT id FROM packages'),
      installations: ids('SELECT id FROM installations'),
      idMap: ids('SELECT env_id, source_uid, type, source_id FROM id_map'),
      files: ids('SELECT id FROM files'),
      audit: ids('SELECT seq FROM audit'),
      environments: ids('SELECT id FROM environments'),
    };
  });
}

/**
 * Watch a running server's data directory for a moment (a row committed, a
 * file renamed into place): poll `moment` every millisecond until it holds,
 * or until `done` settles (the step ended first). Read-only, beside the server.
 */
export async function waitForMoment(dataDir: string, moment: (db: Database.Database, dataDir: string) => boolean, done: Promise<unknown>): Promise<boolean> {
  let ended = false;
  const end = () => (ended = true);
  void done.then(end, end);
  let db: Database.Database | undefined;
  try {
    for (;;) {
      // The database file exists once the server has started; open it once.
      db ??= new Database(sqliteFile(dataDir), { readonly: true, fileMustExist: true });
      if (moment(db, dataDir)) return true;
      if (ended) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    db?.close();
  }
}

/** Whether a query returns a row. */
export const hasRow = (db: Database.Database, sql: string, ...params: unknown[]): boolean => db.prepare(sql).get(...params) !== undefined;

/**
 * The file store against its index: bundle files no index row names (left
 * for good: nothing lists or expires them), and indexed files whose bytes
 * are missing (listed, but gone).
 */
export function fileStoreGaps(dataDir: string): { unindexed: string[]; missing: string[] } {
  const dir = join(dataDir, 'files');
  const onDisk = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.ferry')) : [];
  const indexed = withDb(dataDir, (db) => (db.prepare('SELECT id FROM files').raw().all() as string[][]).map((r) => `${r[0]}.ferry`));
  const known = new Set(indexed);
  const present = new Set(onDisk);
  return { unindexed: onDisk.filter((n) => !known.has(n)), missing: indexed.filter((n) => !present.has(n)) };
}

export function integrityCheck(dataDir: string): string {
  return withDb(dataDir, (db) => (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; '));
}
