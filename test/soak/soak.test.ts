/**
 * Load on loopback, bounded in count and time: many concurrent clients of a
 * real `ferry serve` process create packages, prepare and install them into
 * the same and different environments, and write objects meanwhile. At the
 * end every accepted request's effect is present exactly once: each created
 * package once, each accepted install COMPLETED once (and audited once), each
 * accepted object write with its value; nothing locked, nothing stuck.
 *
 * `npm test` runs FERRY_SOAK_CLIENTS (6) clients x FERRY_SOAK_ROUNDS (3);
 * `npm run test:soak` runs 16 x 25. FERRY_SOAK_SECONDS caps the run (120).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDialectServer, type DialectServer } from '../dialects/harness.js';

const CLIENTS = Number(process.env.FERRY_SOAK_CLIENTS ?? 6);
const ROUNDS = Number(process.env.FERRY_SOAK_ROUNDS ?? 3);
const SECONDS = Number(process.env.FERRY_SOAK_SECONDS ?? 120);
const TARGETS = ['t1', 't2', 't3'];
const TEMPLATES = 12;

interface Accepted {
  packages: string[];
  installs: { installationId: string; target: string }[];
  writes: Map<string, string>;
  refusals: Record<string, number>;
}

describe(`soak: ${CLIENTS} concurrent clients x ${ROUNDS} rounds against a real server process`, () => {
  let s: DialectServer;
  let stop: () => Promise<void>;
  let key: string;
  const accepted: Accepted = { packages: [], installs: [], writes: new Map(), refusals: {} };

  before(async () => {
    const running = await startDialectServer({ kind: 'process' }, { env: { FERRY_WORKERS: '2' } });
    s = running.server;
    stop = () => running.stop();
    await s.environment({ id: 'src', name: 'Source', tier: 'development' });
    for (const t of TARGETS) await s.environment({ id: t, name: `Target ${t}`, tier: 'testing' });
    const objects: unknown[] = [{ type: 'GROUP', id: 'g0', name: 'Everyone', fields: {} }];
    for (let i = 0; i < TEMPLATES; i++) {
      objects.push({ type: 'TMPL', id: `tmpl${i}`, name: `Template ${i}`, fields: { groupID: 'g0' } });
      for (let k = 0; k < 5; k++) objects.push({ type: 'TTSK', id: `tmpl${i}-task${k}`, name: `Task ${k}`, fields: { templateID: `tmpl${i}` } });
    }
    await s.objects('src', objects);
    key = await s.user('loader', Object.fromEntries(['src', ...TARGETS].map((e) => [e, 'admin'])));
  });
  after(async () => {
    await stop?.();
  });

  const call = async (method: string, path: string, json?: unknown) => {
    const r = await s.http(method, `/api/v1${path}`, { headers: { authorization: `Bearer ${key}` }, ...(json !== undefined ? { json } : {}) });
    assert.ok(r.status < 500, `${method} ${path}: ${r.status} ${r.text}`);
    return r;
  };
  const waitOp = async (id: string) => {
    for (;;) {
      const op = (await call('GET', `/operations/${id}`)).json;
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(op.status)) return op;
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const refused = (why: string) => (accepted.refusals[why] = (accepted.refusals[why] ?? 0) + 1);

  async function client(c: number, deadline: number): Promise<void> {
    for (let round = 0; round < ROUNDS && Date.now() < deadline; round++) {
      // A write to the source while others package it.
      const id = `note-${c}-${round}`;
      const w = await call('PUT', `/environments/src/objects/ROLE/${id}`, { type: 'ROLE', id, name: `Role ${c}.${round}`, fields: { n: round } });
      if (w.status < 300) accepted.writes.set(id, `Role ${c}.${round}`);
      else refused(`write ${w.status} ${w.json?.code}`);

      const name = `pkg-${c}-${round}`;
      const picked = [(c + round) % TEMPLATES, (c * 7 + round * 3) % TEMPLATES].map((i) => ({ ID: `tmpl${i}` }));
      const created = await call('POST', '/packages', { sourceEnvId: 'src', name, objectCollections: [{ objCode: 'TMPL', entities: picked }] });
      assert.equal(created.status, 202, created.text);
      accepted.packages.push(name);
      const assembled = await waitOp(created.json.operation.id);
      assert.equal(assembled.status, 'COMPLETED', JSON.stringify(assembled));
      await call('PATCH', `/packages/${created.json.package.id}`, { status: 'TESTING' });

      // Same target for some clients, different for others; retry when another install got there first.
      const target = TARGETS[(c + round) % TARGETS.length]!;
      for (let attempt = 0; attempt < 20; attempt++) {
        const plan = await call('POST', `/packages/${created.json.package.id}/plans`, { targetEnvId: target });
        if (plan.status !== 201) {
          refused(`plan ${plan.status} ${plan.json?.code}`);
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
          continue;
        }
        const inst = await call('POST', `/installations/${plan.json.installation.id}/install`);
        if (inst.status !== 202) {
          refused(`install ${inst.status} ${inst.json?.code}`);
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
          continue;
        }
        const op = await waitOp(inst.json.operation.id);
        if (op.status === 'COMPLETED') {
          accepted.installs.push({ installationId: plan.json.installation.id, target });
          break;
        }
        refused(`install op ${op.status} ${op.error?.code}`);
      }
    }
  }

  it('keeps every accepted effect exactly once', async () => {
    const deadline = Date.now() + SECONDS * 1000;
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c, deadline)));
    assert.ok(accepted.installs.length >= CLIENTS, `only ${accepted.installs.length} installs got through: ${JSON.stringify(accepted.refusals)}`);

    const admin = (path: string) => s.native('GET', path);
    // Each created package exactly once.
    const pkgs = (await admin('/packages')).items as { name: string }[];
    for (const name of accepted.packages) assert.equal(pkgs.filter((p) => p.name === name).length, 1, `package ${name}`);
    // Each accepted install COMPLETED, and audited exactly once.
    const audit = (await admin('/audit?limit=10000')).items as { action: string; subject: string | null; result: string }[];
    for (const { installationId, target } of accepted.installs) {
      const inst = (await admin(`/installations/${installationId}`)).installation;
      assert.equal(inst.status, 'COMPLETED');
      assert.equal(inst.targetEnvId, target);
      assert.equal(audit.filter((a) => a.action === 'install' && a.subject === installationId && a.result === 'ok').length, 1, `audit of ${installationId}`);
    }
    // No install went through that a client was not told about.
    let completed = 0;
    for (const t of TARGETS) completed += ((await admin(`/installations?environmentId=${t}&status=COMPLETED&limit=1000`)).items as unknown[]).length;
    assert.equal(completed, accepted.installs.length);
    // Each accepted write present with its value.
    const roles = (await admin('/environments/src/objects?type=ROLE&limit=1000')).items as { id: string; name: string }[];
    for (const [id, name] of accepted.writes) assert.equal(roles.find((r) => r.id === id)?.name, name, `object ${id}`);
    // Nothing locked, nothing left running.
    for (const e of (await admin('/environments')).items as { id: string; lockedBy: string | null }[]) assert.equal(e.lockedBy, null, `${e.id} locked`);
    const busy = [...(await admin('/operations?status=RUNNING')).items, ...(await admin('/operations?status=QUEUED')).items];
    assert.deepEqual(busy, []);
  });
});
