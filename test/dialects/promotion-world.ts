/**
 * The world the promotion face's contract tests run in, set up through the
 * native API: the demo data (development with every promotable type of 003,
 * production holding a few of its objects under other ids), plus a preview
 * environment holding the same few, and the users who drive the face.
 */
import assert from 'node:assert/strict';
import type { FerryObject } from '../../src/core/types.js';
import { demoSample } from '../../src/engine/demo-seed.js';
import type { DialectServer, HttpRes } from './harness.js';

export const P = '/environment-promotion/api/v1';
export const DEV = '100000001';
export const PREVIEW = '100000004';
export const PROD = '100000003';
export const HOSTS = { [DEV]: 'dev.example.test', [PREVIEW]: 'preview.example.test', [PROD]: 'prod.example.test' } as const;

export interface PromotionWorld {
  dev: FerryObject[];
  /** The objects production (and preview, under other ids) already has: a group, three roles, an hour type. */
  existing: FerryObject[];
  /** Promoter on development, preview and production (API key). */
  pat: string;
  /** Viewer everywhere. */
  vic: string;
  /** Promoter on production only: production is her home environment. */
  olga: string;
}

export async function setUpWorld(s: DialectServer): Promise<PromotionWorld> {
  const { dev, prodExisting } = demoSample();
  await s.environment({ id: DEV, name: 'Development', tier: 'development', hosts: [HOSTS[DEV]] });
  await s.objects(DEV, dev);
  await s.environment({ id: PREVIEW, name: 'Preview', tier: 'preview', hosts: [HOSTS[PREVIEW]] });
  await s.objects(
    PREVIEW,
    prodExisting.map((o) => ({ ...o, id: `e${o.id.slice(1)}` })),
  );
  await s.environment({ id: PROD, name: 'Production', tier: 'production', hosts: [HOSTS[PROD]] });
  await s.objects(PROD, prodExisting);
  const all = { [DEV]: 'promoter', [PREVIEW]: 'promoter', [PROD]: 'promoter' };
  const pat = await s.user('pat', all, { password: 'a long password' });
  const vic = await s.user('vic', { [DEV]: 'viewer', [PREVIEW]: 'viewer', [PROD]: 'viewer' });
  const olga = await s.user('olga', { [PROD]: 'promoter' });
  return { dev, existing: prodExisting, pat, vic, olga };
}

export interface CallOptions {
  json?: unknown;
  /** X-Ferry-Environment */
  env?: string;
  /** The Host header, e.g. `preview.example.test` */
  host?: string;
  headers?: Record<string, string>;
}

export type Call = (method: string, path: string, opts?: CallOptions) => Promise<HttpRes>;

/** A client of the face sending `credentials` (e.g. `{ apikey }`) with every request; paths are under /environment-promotion/api/v1. */
export function client(s: DialectServer, credentials: Record<string, string>): Call {
  return (method, path, opts = {}) =>
    s.http(method, P + path, {
      headers: { ...credentials, ...(opts.env ? { 'x-ferry-environment': opts.env } : {}), ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
      ...(opts.json !== undefined ? { json: opts.json } : {}),
    });
}

/** Poll GET /packages/{id} until the package has left ASSEMBLING; its `data`. */
export async function untilAssembled(call: Call, id: string, timeoutMs = 30_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await call('GET', `/packages/${id}`);
    assert.equal(r.status, 200, r.text);
    if (r.json.data.status !== 'ASSEMBLING') return r.json.data;
    if (Date.now() > until) throw new Error(`package ${id} still ASSEMBLING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The first object of a type in a list of objects. */
export function first(objects: readonly FerryObject[], type: string, where: (o: FerryObject) => boolean = () => true): FerryObject {
  const o = objects.find((x) => x.type === type && where(x));
  if (!o) throw new Error(`no ${type} in the demo data`);
  return o;
}
