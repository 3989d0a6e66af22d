/**
 * One piece of work, done through any server (multi-process.test.ts does it
 * through three processes on PostgreSQL, round-robin, then through one
 * embedded SQLite process), and what the environments hold afterwards in a
 * form that does not depend on the ids a server generated: the issue's
 * "final state compared with the same work done on one embedded process".
 */
import assert from 'node:assert/strict';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';

export interface Res {
  status: number;
  body: any;
  text: string;
}
/** A request through some server process (the next one, round-robin, for a fleet). */
export type Api = (method: string, path: string, body?: unknown) => Promise<Res>;

export const WORK_ENVS = ['w-dev', 'w-test', 'w-prod', 'w-imp'];
const SAMPLE = { objects: 400, seed: 'same-work' };
const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

async function ok(r: Promise<Res>, status = 200): Promise<any> {
  const res = await r;
  assert.equal(res.status, status, res.text);
  return res.body;
}

async function done(api: Api, opId: string): Promise<any> {
  for (const until = Date.now() + 300_000; ;) {
    const op = await ok(api('GET', `/api/v1/operations/${opId}`));
    if (FINAL.includes(op.status)) {
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      return op;
    }
    if (Date.now() > until) throw new Error(`operation ${opId} did not finish: ${JSON.stringify(op)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function promote(api: Api, pkg: string, target: string): Promise<void> {
  const plan = await ok(api('POST', `/api/v1/packages/${pkg}/plans`, { targetEnvId: target }), 201);
  const started = await ok(api('POST', `/api/v1/installations/${plan.installation.id}/install`), 202);
  await done(api, started.operation.id);
}

/**
 * Environments, a sample loaded, packages assembled at once, installs into
 * two environments at once, an edit promoted again (updates), a bundle
 * exported and imported, and server-scoped writes through two environments
 * at once. Every step must succeed.
 */
export async function doWork(api: Api): Promise<void> {
  for (const [id, tier] of [
    ['w-dev', 'development'],
    ['w-test', 'testing'],
    ['w-prod', 'production'],
    ['w-imp', 'testing'],
  ])
    await ok(api('POST', '/api/v1/environments', { id, name: id, tier }), 201);
  const objects = [...generateSample(SAMPLE)];
  await ok(api('POST', '/api/v1/environments/w-dev/objects', objects));
  const byType = new Map<string, { ID: string }[]>();
  for (const x of sampleSelection(SAMPLE)) byType.set(x.type, [...(byType.get(x.type) ?? []), { ID: x.id }]);
  const all = [...byType].map(([objCode, entities]) => ({ objCode, entities }));
  const firsts = [...byType].map(([objCode, entities]) => ({ objCode, entities: entities.slice(0, 1) }));
  const [p1, p2] = await Promise.all([
    ok(api('POST', '/api/v1/packages', { sourceEnvId: 'w-dev', name: 'All', objectCollections: all }), 202),
    ok(api('POST', '/api/v1/packages', { sourceEnvId: 'w-dev', name: 'Firsts', objectCollections: firsts }), 202),
  ]);
  await Promise.all([done(api, p1.operation.id), done(api, p2.operation.id)]);
  await ok(api('PATCH', `/api/v1/packages/${p1.package.id}`, { status: 'ACTIVE' }));
  await ok(api('PATCH', `/api/v1/packages/${p2.package.id}`, { status: 'TESTING' }));
  await Promise.all([promote(api, p1.package.id, 'w-prod'), promote(api, p2.package.id, 'w-test')]);

  // An edit in development, promoted again: updates in production.
  const tmpl = objects.find((o) => o.type === 'TMPL')!;
  await ok(api('PUT', `/api/v1/environments/w-dev/objects/TMPL/${tmpl.id}`, { name: `${tmpl.name} (edited)`, fields: tmpl.fields }));
  const p3 = await ok(
    api('POST', '/api/v1/packages', { sourceEnvId: 'w-dev', name: 'Edit', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: tmpl.id }] }] }),
    202,
  );
  await done(api, p3.operation.id);
  await ok(api('PATCH', `/api/v1/packages/${p3.package.id}`, { status: 'ACTIVE' }));
  await promote(api, p3.package.id, 'w-prod');

  // A bundle exported through one process, imported through another.
  const exp = await ok(api('POST', `/api/v1/packages/${p1.package.id}/export`), 202);
  const file = (await done(api, exp.operation.id)).result.file.id as string;
  const imp = await ok(api('POST', '/api/v1/imports', { fileId: file, targetEnvId: 'w-imp' }), 202);
  await done(api, imp.operation.id);

  // Server-scoped writes through two environments at once.
  await Promise.all([
    ok(api('PUT', '/api/v1/environments/w-test/objects/SECROLE/sr-same-work', { name: 'Same work role', fields: { privileges: ['read'] } })),
    ok(api('PUT', '/api/v1/environments/w-prod/objects/USRGRP/ug-same-work', { name: 'Same work group', fields: {} })),
  ]);
}

/**
 * Each work environment's objects, as sorted lines: type, name, and fields
 * with every ref (the catalog's `refs`) replaced by the referenced object's
 * type and name, so ids a server generated (targets of CREATEs) drop out.
 */
export async function snapshot(api: Api): Promise<Record<string, string[]>> {
  const catalog = (await ok(api('GET', '/api/v1/catalog'))).types as Record<string, { refs?: Record<string, { type: string }> }>;
  const out: Record<string, string[]> = {};
  for (const env of WORK_ENVS) {
    const items: { type: string; id: string; name: string; fields: Record<string, unknown> }[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await ok(api('GET', `/api/v1/environments/${env}/objects?limit=500&offset=${offset}`));
      items.push(...page.items);
      if (items.length >= page.total || page.items.length === 0) break;
    }
    const names = new Map(items.map((o) => [`${o.type}\u0000${o.id}`, o.name]));
    const named = (type: string, id: unknown) => (typeof id === 'string' ? `${type}:${names.get(`${type}\u0000${id}`) ?? `(not here) ${id}`}` : id);
    out[env] = items
      .map((o) => {
        const fields: Record<string, unknown> = { ...o.fields };
        for (const [field, ref] of Object.entries(catalog[o.type]?.refs ?? {})) {
          const v = fields[field];
          if (v === undefined || v === null) continue;
          fields[field] = Array.isArray(v) ? v.map((x) => named(ref.type, x)) : named(ref.type, v);
        }
        return `${o.type} ${o.name} ${JSON.stringify(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1))))}`;
      })
      .sort();
  }
  return out;
}
