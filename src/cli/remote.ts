import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { printable } from '../core/printable.js';
import type { Catalog, Environment, Installation, ObjectRef, Package, PackageEntity, PackageStatus, PlanEntry, StoredObject } from '../core/types.js';
import { FerryError } from '../core/errors.js';
import type { Override } from '../core/plan.js';
import type { InstallStep } from '../core/install-plan.js';
import type { Engine, LockView, PrepareOptions, PreparedPlan, ProgressFn } from '../engine/engine.js';
import type { ImportResult } from '../engine/bundles.js';
import { readBundleEntities, verifyBundle, writeBundleDir } from '../engine/bundle-io.js';
import type { Operation } from '../store/operations-store.js';
import type { StoredFile } from '../store/file-store.js';

/** The part of the engine the CLI uses: a local Engine, or a server over HTTP (RemoteEngine). */
export type EngineApi = Pick<
  Engine,
  | 'catalog'
  | 'createEnvironment'
  | 'listEnvironments'
  | 'getEnvironment'
  | 'updateEnvironment'
  | 'getLock'
  | 'breakLock'
  | 'loadObjects'
  | 'listObjects'
  | 'getObject'
  | 'createPackage'
  | 'listPackages'
  | 'getPackage'
  | 'explain'
  | 'getPackageEntities'
  | 'setPackageStatus'
  | 'deletePackage'
  | 'prepare'
  | 'installSteps'
  | 'install'
  | 'getEntries'
  | 'history'
  | 'rollback'
  | 'listInstallations'
>;

type EnvWithLock = Environment & { lockedBy: string | null; trustedSigningKeys: string[] };
type Query = Record<string, string | number | boolean | undefined>;

const MAX_PAGE = 10_000;

/**
 * The CLI's view of a Ferry server (`ferry --server <url> --api-key <key>`):
 * the same methods as the local engine, each one HTTP call to the native
 * API, so every command runs unchanged against either. Long actions
 * (assembly, install, export, import) are operations on the server; their
 * progress is polled and reported through the same progress callback as a
 * local run, and Ctrl-C asks the server to cancel the one in flight.
 */
export class RemoteEngine implements EngineApi {
  private constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
    readonly catalog: Catalog,
  ) {}

  /** Check the server answers and the key is accepted, and load its catalog. */
  static async connect(server: string, apiKey: string | undefined): Promise<RemoteEngine> {
    if (!apiKey) throw new FerryError('UNAUTHORIZED', 401, 'give the API key with --api-key <key> (or FERRY_API_KEY) when using --server');
    const base = server.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(base)) throw new FerryError('INVALID_REQUEST', 400, `--server must be an http(s) URL, got ${server}`);
    const probe = new RemoteEngine(base, apiKey, { version: '', types: {} });
    const catalog = await probe.call<Catalog>('GET', '/api/v1/catalog');
    return new RemoteEngine(base, apiKey, catalog);
  }

  /** One request; a `{code, message}` answer becomes the same FerryError a local run would throw. */
  async call<T>(method: string, path: string, opts: { query?: Query; body?: unknown; raw?: { stream: Readable; type: string } } = {}): Promise<T> {
    const res = await this.fetch(method, path, opts);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private async fetch(method: string, path: string, opts: { query?: Query; body?: unknown; raw?: { stream: Readable; type: string } } = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    let body: RequestInit['body'];
    if (opts.raw) {
      headers['content-type'] = opts.raw.type;
      body = Readable.toWeb(opts.raw.stream);
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, ...(opts.raw ? { duplex: 'half' } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new FerryError(
        'SERVER_UNREACHABLE',
        503,
        `cannot reach the Ferry server at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      );
    }
    if (!res.ok) {
      let code = 'HTTP_' + res.status;
      let message = `${method} ${url.pathname} answered ${res.status}`;
      try {
        const b = (await res.json()) as { code?: string; message?: string };
        if (b.code) code = b.code;
        if (b.message) message = b.message;
      } catch {
        // Not our JSON (a proxy page): keep the status line.
      }
      throw new FerryError(code, res.status, message);
    }
    return res;
  }

  /**
   * Poll an operation until it ends, reporting its progress; Ctrl-C asks the
   * server to cancel it (an install then rolls back) and keeps polling so the
   * user sees how it ended.
   */
  async waitFor(op: Operation, onProgress?: ProgressFn): Promise<Operation> {
    let cancelling = false;
    const onSigint = () => {
      if (cancelling) process.exit(130);
      cancelling = true;
      process.stderr.write(`\nferry: cancelling operation ${printable(op.id)} on the server (Ctrl-C again to stop waiting)\n`);
      this.call('POST', `/api/v1/operations/${op.id}/cancel`).catch(() => {});
    };
    process.on('SIGINT', onSigint);
    try {
      let delay = 100;
      for (;;) {
        onProgress?.({ phase: op.message || op.status.toLowerCase(), done: op.progress, total: 100 });
        if (op.status === 'COMPLETED') return op;
        if (op.status === 'FAILED' || op.status === 'CANCELLED') {
          const err = op.error ?? { code: op.status, message: op.message };
          // The HTTP call itself succeeded; what failed is the work: a refusal (409) as the CLI reports it.
          throw new FerryError(err.code, 409, `${op.kind} ${op.status.toLowerCase()}: ${err.message}`);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(1000, delay * 2);
        op = await this.call<Operation>('GET', `/api/v1/operations/${op.id}`);
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  }

  // ------------------------------------------------------------ environments

  /** A clone of a big environment answers 202 with an operation: its progress is reported, then the environment read. */
  async createEnvironment(input: Parameters<Engine['createEnvironment']>[0], _actor?: unknown, onProgress?: ProgressFn): Promise<Environment> {
    const r = await this.call<EnvWithLock | { operation: Operation }>('POST', '/api/v1/environments', { body: dropUndefined(input) });
    if (!('operation' in r)) return r;
    await this.waitFor(r.operation, onProgress);
    return this.getEnvironment(input.id);
  }

  async listEnvironments(): Promise<EnvWithLock[]> {
    return (await this.call<{ items: EnvWithLock[] }>('GET', '/api/v1/environments')).items;
  }

  async getEnvironment(id: string): Promise<EnvWithLock> {
    return this.call<EnvWithLock>('GET', `/api/v1/environments/${enc(id)}`);
  }

  async updateEnvironment(id: string, patch: Parameters<Engine['updateEnvironment']>[1]): Promise<Environment> {
    return this.call<Environment>('PATCH', `/api/v1/environments/${enc(id)}`, { body: dropUndefined(patch) });
  }

  async getLock(envId: string): Promise<LockView> {
    return this.call<LockView>('GET', `/api/v1/environments/${enc(envId)}/lock`);
  }

  async breakLock(envId: string, opts: { force?: boolean } = {}): Promise<LockView> {
    return this.call<LockView>('DELETE', `/api/v1/environments/${enc(envId)}/lock`, { query: { force: opts.force || undefined } });
  }

  /** The server's bundle signing key (GET /api/v1/signing-key). */
  async signingKey(): Promise<{ algorithm: string; fingerprint: string; publicKey: string; publicKeyPem: string; createdAt: string }> {
    return this.call('GET', '/api/v1/signing-key');
  }

  async history(envId: string): Promise<Installation[]> {
    return (await this.call<{ items: Installation[] }>('GET', `/api/v1/environments/${enc(envId)}/history`)).items;
  }

  // ------------------------------------------------------------ objects

  async loadObjects(envId: string, input: unknown): Promise<{ written: number; version: number }> {
    return this.call('POST', `/api/v1/environments/${enc(envId)}/objects`, { body: input });
  }

  async listObjects(envId: string, opts: { type?: string; limit?: number; offset?: number } = {}): Promise<{ items: StoredObject[]; total: number }> {
    return this.call('GET', `/api/v1/environments/${enc(envId)}/objects`, { query: { type: opts.type, limit: opts.limit, offset: opts.offset } });
  }

  async getObject(envId: string, type: string, id: string): Promise<StoredObject> {
    return this.call('GET', `/api/v1/environments/${enc(envId)}/objects/${enc(type)}/${enc(id)}`);
  }

  // ------------------------------------------------------------ packages

  async createPackage(
    input: { sourceEnvId: string; name: string; description?: string; selection: ObjectRef[]; removals?: ObjectRef[] },
    _actor?: unknown,
    onProgress?: ProgressFn,
  ): Promise<Package> {
    const byType = new Map<string, { ID: string; name?: string }[]>();
    for (const s of input.selection) byType.set(s.type, [...(byType.get(s.type) ?? []), s.name ? { ID: s.id, name: s.name } : { ID: s.id }]);
    const r = await this.call<{ package: Package; operation: Operation }>('POST', '/api/v1/packages', {
      body: {
        sourceEnvId: input.sourceEnvId,
        name: input.name,
        description: input.description ?? '',
        objectCollections: [...byType].map(([objCode, entities]) => ({ objCode, entities })),
        removals: input.removals ?? [],
      },
    });
    try {
      await this.waitFor(r.operation, onProgress);
    } catch (e) {
      // A failed assembly is a package in ASSEMBLING_FAILED, which the caller reports.
      if (!(e instanceof FerryError && e.code === 'ASSEMBLING_FAILED')) throw e;
    }
    return this.getPackage(r.package.id);
  }

  async listPackages(): Promise<Package[]> {
    return (await this.call<{ items: Package[] }>('GET', '/api/v1/packages')).items;
  }

  async getPackage(id: string): Promise<Package> {
    return this.call('GET', `/api/v1/packages/${enc(id)}`);
  }

  async explain(packageId: string, type: string, id: string): Promise<string[]> {
    return (await this.call<{ path: string[] }>('GET', `/api/v1/packages/${enc(packageId)}/entities/${enc(type)}/${enc(id)}/explain`)).path;
  }

  async getPackageEntities(id: string, opts: { type?: string } = {}): Promise<PackageEntity[]> {
    const out: PackageEntity[] = [];
    for (let offset = 0; ; offset += MAX_PAGE) {
      const page = await this.call<{ items: PackageEntity[]; total: number }>('GET', `/api/v1/packages/${enc(id)}/entities`, {
        query: { type: opts.type, limit: MAX_PAGE, offset },
      });
      out.push(...page.items);
      if (out.length >= page.total || page.items.length === 0) return out;
    }
  }

  async setPackageStatus(id: string, status: PackageStatus): Promise<Package> {
    return this.call('PATCH', `/api/v1/packages/${enc(id)}`, { body: { status } });
  }

  async deletePackage(id: string): Promise<void> {
    await this.call('DELETE', `/api/v1/packages/${enc(id)}`);
  }

  // ------------------------------------------------------------ plans, installs

  async prepare(packageId: string, targetEnvId: string, opts: PrepareOptions = {}): Promise<PreparedPlan> {
    return this.call('POST', `/api/v1/packages/${enc(packageId)}/plans`, {
      body: dropUndefined({ targetEnvId, overrides: opts.overrides, force: opts.force, remember: opts.remember, policy: opts.policy }),
    });
  }

  async installSteps(installationId: string): Promise<InstallStep[]> {
    return (await this.call<{ steps: InstallStep[] }>('GET', `/api/v1/installations/${enc(installationId)}/steps`)).steps;
  }

  async install(installationId: string, opts: { onProgress?: ProgressFn } = {}): Promise<Installation> {
    const r = await this.call<{ operation: Operation }>('POST', `/api/v1/installations/${enc(installationId)}/install`);
    await this.waitFor(r.operation, opts.onProgress);
    return this.getInstallation(installationId);
  }

  async getInstallation(id: string): Promise<Installation> {
    return (await this.call<{ installation: Installation }>('GET', `/api/v1/installations/${enc(id)}`, { query: { entries: false } })).installation;
  }

  async getEntries(installationId: string): Promise<PlanEntry[]> {
    return (await this.call<{ entries: PlanEntry[] }>('GET', `/api/v1/installations/${enc(installationId)}`)).entries;
  }

  async listInstallations(opts: { packageId?: string; targetEnvIds?: string[] } = {}): Promise<Installation[]> {
    const one = opts.targetEnvIds?.length === 1 ? opts.targetEnvIds[0] : undefined;
    const out: Installation[] = [];
    for (let offset = 0; ; offset += MAX_PAGE) {
      const page = await this.call<{ items: Installation[]; total: number }>('GET', '/api/v1/installations', {
        query: { packageId: opts.packageId, environmentId: one, limit: MAX_PAGE, offset },
      });
      out.push(...page.items);
      if (out.length >= page.total || page.items.length === 0) break;
    }
    // The server answers newest first; the engine lists oldest first.
    const list = out.reverse();
    return opts.targetEnvIds && !one ? list.filter((i) => opts.targetEnvIds!.includes(i.targetEnvId)) : list;
  }

  async rollback(installationId: string): Promise<Installation> {
    return this.call('POST', `/api/v1/installations/${enc(installationId)}/rollback`);
  }

  // ------------------------------------------------------------ bundles

  /** `ferry export` against a server: the server writes the bundle (an operation), the CLI downloads it. */
  async exportPackage(
    packageId: string,
    out: { file?: string; dir?: string },
    onProgress?: ProgressFn,
  ): Promise<{ file?: { path: string; count: number; sha256: string; bytes: number; signedBy: string | null }; dir?: { path: string; count: number } }> {
    const r = await this.call<{ operation: Operation }>('POST', `/api/v1/packages/${enc(packageId)}/export`);
    const done = await this.waitFor(r.operation, onProgress);
    const result = done.result as { file: StoredFile; entityCount: number; entitiesSha256: string | null; signedBy?: string | null };
    const scratch = out.file ? null : await mkdtemp(join(tmpdir(), 'ferry-export-'));
    const path = out.file ? resolve(out.file) : join(scratch!, result.file.name);
    try {
      await this.download(result.file.id, path);
      const answer: Awaited<ReturnType<RemoteEngine['exportPackage']>> = {};
      if (out.file)
        answer.file = {
          path: out.file,
          count: result.entityCount,
          sha256: result.entitiesSha256 ?? result.file.sha256,
          bytes: (await stat(path)).size,
          signedBy: result.signedBy ?? null,
        };
      if (out.dir) {
        const { header, signedBy } = await verifyBundle(path);
        // The tree carries the server's signature over the same header and entities (the CLI holds no key).
        const signer = signedBy === null ? undefined : { fingerprint: signedBy.fingerprint, sign: () => signedBy.signature };
        const w = await writeBundleDir(out.dir, header, readBundleEntities(path), signer);
        answer.dir = { path: out.dir, count: w.count };
      }
      return answer;
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Download a stored file to `path` (written beside it, then renamed: never a partial file). */
  async download(fileId: string, path: string): Promise<void> {
    const res = await this.fetch('GET', `/api/v1/files/${enc(fileId)}/content`);
    if (!res.body) throw new FerryError('EMPTY_RESPONSE', 502, `the server sent no content for file ${fileId}`);
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.part`);
    try {
      await pipeline(Readable.fromWeb(res.body), createWriteStream(tmp));
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** `ferry import` against a server: upload the bundle, import it there (an operation), show the plan and outcome. */
  async importBundle(
    file: string,
    targetEnvId: string,
    opts: { dryRun?: boolean; overrides?: Override[]; force?: boolean; onProgress?: ProgressFn } = {},
  ): Promise<ImportResult> {
    await stat(file).catch(() => {
      throw new FerryError('INVALID_REQUEST', 400, `cannot read ${file}`);
    });
    const uploaded = await this.call<StoredFile>('POST', '/api/v1/files', {
      query: { name: basename(file) },
      raw: { stream: createReadStream(file), type: 'application/octet-stream' },
    });
    const r = await this.call<{ operation: Operation }>('POST', '/api/v1/imports', {
      body: { fileId: uploaded.id, targetEnvId, dryRun: !!opts.dryRun, overrides: opts.overrides ?? [], force: !!opts.force },
    });
    const done = await this.waitFor(r.operation, opts.onProgress);
    const result = done.result as { packageId: string; installationId: string; installBlocker: string | null };
    const pkg = await this.getPackage(result.packageId);
    const { installation, entries } = await this.call<{ installation: Installation; entries: PlanEntry[] }>(
      'GET',
      `/api/v1/installations/${enc(result.installationId)}`,
    );
    return {
      package: pkg,
      plan: { installation, entries, installBlocker: result.installBlocker },
      installation: opts.dryRun ? null : installation,
      entries,
    };
  }
}

const enc = encodeURIComponent;

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
