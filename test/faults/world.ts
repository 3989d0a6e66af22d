/**
 * What the fault tests share: a real `ferry serve` process, a promotion
 * ready to install (a template with many tasks in a development
 * environment, a package of it, a plan into production), and reading a
 * target's objects through the API to compare before and after.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { callJson } from '../support/http.js';
import { BUILT_BIN, freePort, startServer, stopServer, type Proc } from '../support/process.js';

export const KEY = 'faults-admin-key-0123456789abcdef0123';

export interface Ferry {
  proc: Proc;
  base: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  api(method: string, path: string, body?: unknown): Promise<any>;
  waitOp(id: string, timeoutMs?: number): Promise<any>;
  stop(): Promise<number | null>;
}

export async function startFerry(env: Record<string, string>): Promise<Ferry> {
  const port = await freePort();
  // The built server (npm run build) starts faster than through tsx.
  const proc = await startServer({ FERRY_PORT: String(port), FERRY_HOST: '127.0.0.1', FERRY_ADMIN_API_KEY: KEY, FERRY_DEMO: '0', ...env }, BUILT_BIN);
  const base = `http://127.0.0.1:${port}/api/v1`;
  const call: Ferry['call'] = (method, path, body) => callJson(base, method, path, body, KEY, { signal: AbortSignal.timeout(60_000) });
  const api: Ferry['api'] = async (method, path, body) => {
    const r = await call(method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text.slice(0, 500)}`);
    return r.body;
  };
  return {
    proc,
    base,
    call,
    api,
    async waitOp(id, timeoutMs = 120_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await call('GET', `/operations/${id}`);
        if (r.status === 200 && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.body.status)) return r.body;
        if (Date.now() > until) throw new Error(`operation ${id} not settled after ${timeoutMs} ms: ${r.status} ${r.text.slice(0, 300)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
    stop: () => stopServer(proc),
  };
}

/** A template with `tasks` tasks in `dev`, a package of it (ACTIVE), and a plan into `prod`; returns the installation id. */
export async function promotion(f: Ferry, tasks: number): Promise<{ packageId: string; installationId: string }> {
  await f.api('POST', '/environments', { id: 'dev', name: 'Development', tier: 'development' });
  await f.api('POST', '/environments', { id: 'prod', name: 'Production', tier: 'production' });
  await f.api('POST', '/environments/prod/objects', [{ type: 'GROUP', id: 'pg1', name: 'Already in production', fields: {} }]);
  const objs: unknown[] = [
    { type: 'GROUP', id: 'g1', name: 'Group', fields: {} },
    { type: 'TMPL', id: 't1', name: 'Big template', fields: { groupID: 'g1' } },
  ];
  for (let i = 0; i < tasks; i++) objs.push({ type: 'TTSK', id: `k${i}`, name: `Task ${i}`, fields: { templateID: 't1', description: 'x'.repeat(100) } });
  for (let i = 0; i < objs.length; i += 5000) await f.api('POST', '/environments/dev/objects', objs.slice(i, i + 5000));
  const created = await f.api('POST', '/packages', { sourceEnvId: 'dev', name: 'Big', objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 't1' }] }] });
  assert.equal((await f.waitOp(created.operation.id)).status, 'COMPLETED');
  await f.api('PATCH', `/packages/${created.package.id}`, { status: 'ACTIVE' });
  const plan = await f.api('POST', `/packages/${created.package.id}/plans`, { targetEnvId: 'prod' });
  return { packageId: created.package.id, installationId: plan.installation.id };
}

/** type:id:name of every object of an environment, sorted. */
export async function objectsOf(f: Ferry, envId: string): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; ; offset += 10_000) {
    const page = await f.api('GET', `/environments/${envId}/objects?limit=10000&offset=${offset}`);
    for (const o of page.items as { type: string; id: string; name: string }[]) out.push(`${o.type}:${o.id}:${o.name}`);
    if (offset + 10_000 >= page.total) break;
  }
  return out.sort();
}

/** Mount a small tmpfs at `dir`; false where the machine does not allow it (not root, or a container without the right). */
export function mountTmpfs(dir: string, size: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' }).status === 0;
}
export const remount = (dir: string, opts: string) => {
  const r = spawnSync('mount', ['-o', `remount,${opts}`, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `remount ${opts}: ${r.stderr}`);
};
export const umount = (dir: string) => spawnSync('umount', ['-l', dir]);
