import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Environment, Installation, Package, PlanEntry } from '../../../core/types.js';
import type { Engine } from '../../../engine/engine.js';
import { OP } from '../../../ops/handlers.js';
import type { DialectContext } from '../types.js';
import { environmentHost, environmentUrl } from './environments.js';
import { countInstallations, displayEntitiesOf, installationData, installationStatusWord, jsonWith, packageData, translationMap } from './shapes.js';

/**
 * Least recently used values up to a total weight. Status calls are what
 * clients poll hardest, and a package's displayed entities or an
 * installation's translation map only change with the row they belong to,
 * so they are kept keyed by that row's version stamp: every read still
 * fetches the row (one indexed query), and a change made by any server
 * process sharing the database shows at once.
 */
class Lru<T> {
  private readonly items = new Map<string, { value: T; weight: number }>();
  private total = 0;
  constructor(private readonly maxWeight: number) {}

  get(key: string): T | undefined {
    const hit = this.items.get(key);
    if (!hit) return undefined;
    this.items.delete(key);
    this.items.set(key, hit);
    return hit.value;
  }

  set(key: string, value: T, weight: number): void {
    if (weight > this.maxWeight) return;
    const old = this.items.get(key);
    if (old) this.total -= old.weight;
    this.items.delete(key);
    this.items.set(key, { value, weight });
    this.total += weight;
    for (const [k, v] of this.items) {
      if (this.total <= this.maxWeight) break;
      this.items.delete(k);
      this.total -= v.weight;
    }
  }
}

/** Entries kept per server (engine), across packages and installations. */
const MAX_CACHED_ENTRIES = 200_000;
/** Serialized displayed entities and translation maps, by the stamp of their row. */
const caches = new WeakMap<Engine, { display: Lru<string>; maps: Lru<string> }>();

function cachesOf(engine: Engine) {
  let c = caches.get(engine);
  if (!c) caches.set(engine, (c = { display: new Lru(MAX_CACHED_ENTRIES), maps: new Lru(MAX_CACHED_ENTRIES) }));
  return c;
}

/** Send JSON text (or its UTF-8 bytes) as it is (already serialized, see jsonWith). */
export function sendJson(reply: FastifyReply, json: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

/** The package and installation answers, as JSON text, loaded for one request. */
export class Views {
  private envs: Promise<Map<string, Readonly<Environment>>> | undefined;

  constructor(
    private readonly ctx: DialectContext,
    private readonly request: FastifyRequest,
  ) {}

  private get engine(): Engine {
    return this.ctx.ferry.engine;
  }

  private environments(): Promise<Map<string, Readonly<Environment>>> {
    // Read at most 250 ms ago (hosts and ids, for URLs): every status call asks.
    this.envs ??= this.engine.recentEnvironments().then((list) => new Map(list.map((e) => [e.id, e])));
    return this.envs;
  }

  private async url(envId: string): Promise<string> {
    const env = (await this.environments()).get(envId);
    return environmentUrl(env ?? { hosts: [] }, this.engine.publicUrl);
  }

  /** A package as 003 shows it (the members of `data`); `displayEntities` is left to packageJson. */
  async package(pkg: Package): Promise<Record<string, unknown>> {
    const visible = this.ctx.ferry.access(this.request).visibleEnvIds();
    const [source, installs] = await Promise.all([this.url(pkg.sourceEnvId), this.engine.listInstallations({ packageId: pkg.id, targetEnvIds: visible })]);
    return packageData(pkg, { source, installationCounts: countInstallations(installs) });
  }

  /** `{"data": package}` with its displayed entities: the answer of GET, PUT and PATCH. */
  async packageJson(pkg: Package): Promise<string> {
    const [data, display] = await Promise.all([this.package(pkg), this.displayEntities(pkg)]);
    return `{"data":${jsonWith(data, 'displayEntities', display)}}`;
  }

  /** Several packages (the list answer): one query for all their installation counts. */
  async packages(list: readonly Package[]): Promise<Record<string, unknown>[]> {
    const visible = this.ctx.ferry.access(this.request).visibleEnvIds();
    const installs = list.length === 0 ? [] : await this.engine.listInstallations({ targetEnvIds: visible });
    const byPackage = new Map<string, Installation[]>();
    for (const i of installs) byPackage.set(i.packageId, [...(byPackage.get(i.packageId) ?? []), i]);
    const out: Record<string, unknown>[] = [];
    for (const pkg of list) {
      out.push(packageData(pkg, { source: await this.url(pkg.sourceEnvId), installationCounts: countInstallations(byPackage.get(pkg.id) ?? []) }));
    }
    return out;
  }

  private async displayEntities(pkg: Package): Promise<string> {
    const cache = cachesOf(this.engine).display;
    const key = `${pkg.id}\u0000${pkg.version}\u0000${pkg.status}\u0000${pkg.updatedAt}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const json = JSON.stringify(displayEntitiesOf(this.engine.catalog, pkg, await this.engine.getPackageEntities(pkg.id)));
    cache.set(key, json, Math.max(1, pkg.entityCount));
    return json;
  }

  /**
   * An installation as 003 shows it, as JSON text: in the pre-run answer
   * (`environment` a host name) or as a record of the list and details
   * answers (a URL). `extra` members go before the translation map;
   * `entries`, the plan's, when the caller has them (a pre-run just made them).
   */
  async installationJson(
    inst: Installation,
    form: 'pre-run' | 'record',
    opts: { extra?: Record<string, unknown>; entries?: readonly PlanEntry[] } = {},
  ): Promise<string> {
    const env = (await this.environments()).get(inst.targetEnvId);
    const [installing, map] = await Promise.all([this.installing(inst), this.translationMap(inst, opts.entries)]);
    const where = env ?? { hosts: [] };
    const data = installationData(
      inst,
      {
        status: installationStatusWord(inst.status, installing),
        environment: form === 'pre-run' ? environmentHost(where, this.engine.publicUrl) : environmentUrl(where, this.engine.publicUrl),
        customerId: env?.uid ?? '',
      },
      form,
    );
    return jsonWith({ ...data, ...opts.extra }, 'translationMap', map);
  }

  /** Whether an install of a prepared plan is queued or running (on any server process). */
  private async installing(inst: Installation): Promise<boolean> {
    if (inst.status !== 'PREPARED') return false;
    const { items } = await this.ctx.ferry.operations.list({ kind: OP.install, subject: inst.id, limit: 1 });
    const latest = items[0];
    return latest !== undefined && (latest.status === 'QUEUED' || latest.status === 'RUNNING');
  }

  private async translationMap(inst: Installation, given?: readonly PlanEntry[]): Promise<string> {
    const cache = cachesOf(this.engine).maps;
    const key = `${inst.id}\u0000${inst.status}\u0000${inst.updatedAt}\u0000${inst.packageVersion}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const entries = given ?? (await this.engine.getEntries(inst.id));
    const json = JSON.stringify(translationMap(inst, entries));
    cache.set(key, json, Math.max(1, entries.length));
    return json;
  }
}
