// Three real server processes (`ferry serve`) on one PostgreSQL schema, each
// with its own data directory (no shared disk), driven round-robin over HTTP
// as a load balancer would: packages, prepares and installs across them, a
// bundle exported through one and downloaded through the others, sessions
// and the login throttle shared, two installs into one environment at once,
// and one process SIGKILLed in the middle of an install. A piece of work done
// through the three is done again on one embedded (SQLite) process, and the
// environments compared (same-work.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import { AuthService } from '../../src/engine/auth.js';
import { DIALECTS, dropTestSchema, PG_URL } from '../support/engines.js';
import { callJson } from '../support/http.js';
import { BIN, freePort, startServer, stopServer, type Proc } from '../support/process.js';
import { doWork, snapshot, WORK_ENVS } from './same-work.js';

const KEY = `fry_multi_${randomBytes(12).toString('hex')}`;
const PASSWORD = 'multi-process-password-1';
const SAMPLE = { objects: Number(process.env.FERRY_MULTI_OBJECTS ?? 4000), seed: 'multi' };
const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

interface Server {
  name: string;
  base: string;
  proc: Proc;
  dataDir: string;
  /** Its worker id, as the operations it runs record it. */
  worker: string;
}

const call = (base: string, method: string, path: string, body?: unknown, auth: string | null = KEY) => callJson(base, method, path, body, auth);

describe('three server processes on one PostgreSQL database', { skip: !DIALECTS.includes('postgres') && 'PostgreSQL is not in FERRY_TEST_DIALECTS' }, () => {
  const schema = `ferry_test_multi_${randomBytes(5).toString('hex')}`;
  const servers: Server[] = [];
  const dirs: string[] = [];
  let turn = 0;
  /** The next process, round-robin, among those still running. */
  const next = () => {
    const live = servers.filter((s) => s.proc.child.exitCode === null && s.proc.child.signalCode === null);
    return live[turn++ % live.length]!;
  };
  const api = (method: string, path: string, body?: unknown) => call(next().base, method, path, body);
  /** Poll an operation, each poll through the next process, until it ends. */
  const waitOp = async (id: string, timeoutMs = 180_000): Promise<any> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await api('GET', `/api/v1/operations/${id}`);
      assert.equal(r.status, 200, r.text);
      if (FINAL.includes(r.body.status)) return r.body;
      if (Date.now() > until) throw new Error(`operation ${id} did not finish: ${r.text}\n${logs()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  /** What the processes printed (warnings and errors: FERRY_LOG_LEVEL=warn), for a failure's message. */
  const logs = () => servers.map((s) => `--- ${s.name}\n${s.proc.out().slice(-4000)}`).join('\n');
  const count = async (envId: string) => (await api('GET', `/api/v1/environments/${envId}/objects?limit=1`)).body.total as number;
  /** Templates in an environment: environment-scoped, so a count says what installs wrote there (server-scoped types are shared). */
  const templates = async (envId: string) => (await api('GET', `/api/v1/environments/${envId}/objects?type=TMPL&limit=1`)).body.total as number;
  const packageTemplates = async (id: string) => ((await api('GET', `/api/v1/packages/${id}`)).body.countsByType?.TMPL ?? 0) as number;
  let bigPkg = '';
  let bigTemplates = 0;

  before(async () => {
    const common = {
      FERRY_DATABASE_URL: PG_URL,
      FERRY_DATABASE_SCHEMA: schema,
      FERRY_ADMIN_API_KEY: KEY,
      FERRY_ADMIN_PASSWORD: PASSWORD,
      FERRY_DEMO: '0',
      FERRY_LOG_LEVEL: 'warn',
      FERRY_LOGIN_RATE: '5',
      FERRY_SHUTDOWN_GRACE: '5',
      // A silent process counts as dead after 10 s (default 30): the kill below is noticed sooner.
      FERRY_OPERATION_STALE: '10',
    };
    // All three at once, as an operator starting a fleet would: migrations, pg-boss and the first admin happen once.
    const started = await Promise.all(
      ['p1', 'p2', 'p3'].map(async (name) => {
        const dataDir = mkdtempSync(join(tmpdir(), `ferry-multi-${name}-`));
        dirs.push(dataDir);
        const port = await freePort();
        // Three processes compiling the sources (tsx) at once on a busy machine: more than the usual minute.
        const proc = await startServer({ ...common, FERRY_PORT: String(port), FERRY_DATA_DIR: dataDir, FERRY_SERVER_NAME: name }, BIN, 240_000);
        return { name, base: `http://127.0.0.1:${port}`, proc, dataDir, worker: '' };
      }),
    );
    servers.push(...started);
    for (const s of servers) {
      const r = await call(s.base, 'GET', '/api/v1/ready', undefined, null);
      assert.equal(r.status, 200, r.text);
      s.worker = r.body.worker;
    }
  });

  after(async () => {
    await Promise.all(servers.map((s) => stopServer(s.proc).catch(() => null)));
    await dropTestSchema(schema);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('every process is ready, on PostgreSQL, and exactly one admin was created', async () => {
    for (const s of servers) {
      const h = await call(s.base, 'GET', '/api/v1/health', undefined, null);
      assert.equal(h.body.database, 'postgres');
      assert.equal(h.body.server, s.name);
    }
    assert.equal(new Set(servers.map((s) => s.worker)).size, 3);
    assert.equal(servers.map((s) => s.proc.out()).filter((o) => /Created the server admin/.test(o)).length, 1);
    const users = await api('GET', '/api/v1/users');
    assert.deepEqual(
      users.body.items.map((u: { username: string }) => u.username),
      ['admin'],
    );
  });

  // Before the other tests: server-scoped objects (users, groups, roles) are seen by every environment, and theirs would differ.
  it('the same work through the three processes and through one embedded SQLite process leaves the same objects in every environment', async (t) => {
    await doWork(api);
    const fleet = await snapshot(api);
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-multi-embedded-'));
    dirs.push(dataDir);
    const port = await freePort();
    const env = {
      FERRY_ADMIN_API_KEY: KEY,
      FERRY_DEMO: '0',
      FERRY_LOG_LEVEL: 'warn',
      FERRY_PORT: String(port),
      FERRY_DATA_DIR: dataDir,
      FERRY_SERVER_NAME: 'embedded',
    };
    const single = await startServer({ ...env, FERRY_DATABASE_URL: '', FERRY_DATABASE_SCHEMA: '' }, BIN, 240_000);
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await call(base, 'GET', '/api/v1/health', undefined, null)).body.database, 'sqlite');
      const one = (method: string, path: string, body?: unknown) => call(base, method, path, body);
      await doWork(one);
      const embedded = await snapshot(one);
      t.diagnostic(`compared: ${WORK_ENVS.map((e) => `${e} ${embedded[e]!.length} objects`).join(', ')}`);
      for (const e of WORK_ENVS) {
        assert.ok(embedded[e]!.length > 0, e);
        assert.deepEqual(fleet[e], embedded[e], `environment ${e}`);
      }
    } finally {
      await stopServer(single);
    }
  });

  it('packages and prepares round-robin: each process sees what the others wrote', async () => {
    for (const [id, tier] of [
      ['dev', 'development'],
      ['test', 'testing'],
      ['test2', 'testing'],
      ['kill', 'testing'],
      ['imported', 'testing'],
    ] as const) {
      assert.equal((await api('POST', '/api/v1/environments', { id, name: id, tier })).status, 201);
    }
    const load = await api('POST', '/api/v1/environments/dev/objects', [...generateSample(SAMPLE)]);
    assert.equal(load.status, 200, load.text);
    const byType = new Map<string, { ID: string }[]>();
    for (const x of sampleSelection(SAMPLE)) byType.set(x.type, [...(byType.get(x.type) ?? []), { ID: x.id }]);
    const collections = [...byType].map(([objCode, entities]) => ({ objCode, entities }));
    const firstOfEach = [...byType].map(([objCode, entities]) => ({ objCode, entities: entities.slice(0, 1) }));

    // A burst: the big package and four small ones at once, through all three processes.
    const posts = await Promise.all([
      api('POST', '/api/v1/packages', { sourceEnvId: 'dev', name: 'Big', objectCollections: collections }),
      ...[1, 2, 3, 4].map((i) => api('POST', '/api/v1/packages', { sourceEnvId: 'dev', name: `Small ${i}`, objectCollections: firstOfEach })),
    ]);
    for (const p of posts) assert.equal(p.status, 202, p.text);
    const ops = await Promise.all(posts.map((p) => waitOp(p.body.operation.id)));
    for (const op of ops) {
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      assert.ok(
        servers.some((s) => s.worker === op.worker),
        `ran by one of the three: ${op.worker}`,
      );
    }
    bigPkg = posts[0].body.package.id;
    bigTemplates = await packageTemplates(bigPkg);
    assert.ok(bigTemplates > 10, `the big package has templates: ${bigTemplates}`);
    assert.equal((await api('PATCH', `/api/v1/packages/${bigPkg}`, { status: 'TESTING' })).status, 200);
    // Every process answers the same for every package.
    for (const s of servers) {
      const list = await call(s.base, 'GET', '/api/v1/packages?sourceEnvId=dev');
      assert.equal(list.body.total, 5);
    }
  });

  it('two installs into one environment at once, from two processes: one runs, the other waits its turn or is refused; never both', async (t) => {
    const smalls = (await api('GET', '/api/v1/packages?sourceEnvId=dev')).body.items.filter((p: { name: string }) => p.name.startsWith('Small'));
    const [a, b] = smalls as { id: string }[];
    for (const p of [a!, b!]) assert.equal((await api('PATCH', `/api/v1/packages/${p.id}`, { status: 'TESTING' })).status, 200);
    const planBig = await api('POST', `/api/v1/packages/${bigPkg}/plans`, { targetEnvId: 'test' });
    const planSmall = await api('POST', `/api/v1/packages/${a!.id}/plans`, { targetEnvId: 'test' });
    assert.equal(planBig.status, 201, planBig.text);
    assert.equal(planSmall.status, 201, planSmall.text);
    const ids = [planBig.body.installation.id, planSmall.body.installation.id] as string[];
    const [s1, s2] = [servers[0]!, servers[1]!];
    const answers = await Promise.all([
      call(s1.base, 'POST', `/api/v1/installations/${ids[0]}/install`),
      call(s2.base, 'POST', `/api/v1/installations/${ids[1]}/install`),
    ]);
    const outcomes: string[] = [];
    for (const r of answers) {
      if (r.status === 202) {
        const op = await waitOp(r.body.operation.id);
        outcomes.push(op.status === 'COMPLETED' ? 'COMPLETED' : `${op.status} ${op.error?.code}`);
      } else {
        assert.ok([409, 423].includes(r.status), r.text);
        outcomes.push(`refused ${r.status} ${r.body.code}`);
      }
    }
    t.diagnostic(`outcomes: ${outcomes.join(', ')}`);
    // Both plans were prepared against the same version of the target: once one is in, the other is stale or was locked out.
    assert.equal(outcomes.filter((o) => o === 'COMPLETED').length, 1, outcomes.join(', '));
    for (const o of outcomes.filter((x) => x !== 'COMPLETED')) assert.match(o, /LOCKED|STALE_PLAN|423|409/);
    const insts = await Promise.all(ids.map(async (id) => (await api('GET', `/api/v1/installations/${id}?entries=false`)).body.installation));
    const completed = insts.filter((i) => i.status === 'COMPLETED');
    assert.equal(completed.length, 1);
    // The target (empty before) holds exactly what the one completed install wrote.
    assert.equal(await templates('test'), await packageTemplates(completed[0].packageId));
    assert.equal((await api('GET', '/api/v1/environments/test')).body.lockedBy, null);
  });

  it('a write to the objects of an environment being installed into, through another process, is refused with 423', async () => {
    const plan = await api('POST', `/api/v1/packages/${bigPkg}/plans`, { targetEnvId: 'test2' });
    const [s1, s2] = [servers[0]!, servers[2]!];
    const started = await call(s1.base, 'POST', `/api/v1/installations/${plan.body.installation.id}/install`);
    assert.equal(started.status, 202, started.text);
    let refused = false;
    for (const until = Date.now() + 120_000; ;) {
      if (Date.now() > until)
        throw new Error(`the install did not start: ${(await call(s2.base, 'GET', `/api/v1/operations/${started.body.operation.id}`)).text}\n${logs()}`);
      const env = await call(s2.base, 'GET', '/api/v1/environments/test2');
      if (env.body.lockedBy) {
        const put = await call(s2.base, 'PUT', '/api/v1/environments/test2/objects/GROUP/written-during', { name: 'written during the install' });
        // The lock may have been released between the two requests: then the install is over and the write came after it.
        if (put.status === 423) refused = true;
        else assert.equal(put.status, 200, put.text);
        break;
      }
      const op = await call(s2.base, 'GET', `/api/v1/operations/${started.body.operation.id}`);
      if (FINAL.includes(op.body.status)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const op = await waitOp(started.body.operation.id);
    assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
    assert.equal((await api('GET', '/api/v1/environments/test2/objects/GROUP/written-during')).status, refused ? 404 : 200);
    assert.equal(await templates('test2'), bigTemplates);
  });

  it('a bundle exported through one process downloads whole through the others, and imports through a third', async () => {
    const exp = await call(servers[0]!.base, 'POST', `/api/v1/packages/${bigPkg}/export`);
    assert.equal(exp.status, 202, exp.text);
    const op = await waitOp(exp.body.operation.id);
    assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
    const file = op.result.file as { id: string; sha256: string; bytes: number };
    for (const s of servers) {
      const res = await fetch(`${s.base}/api/v1/files/${file.id}/content`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(res.status, 200);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body.length, file.bytes);
      assert.equal(createHash('sha256').update(body).digest('hex'), file.sha256);
    }
    // The bytes are in the database, not in any process's data directory.
    for (const s of servers) assert.ok(!readdirSync(join(s.dataDir, 'files')).some((n) => n.startsWith(file.id)));
    const imp = await call(servers[2]!.base, 'POST', '/api/v1/imports', { fileId: file.id, targetEnvId: 'imported' });
    assert.equal(imp.status, 202, imp.text);
    const done = await waitOp(imp.body.operation.id);
    assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
    assert.equal(await count('imported'), await count('test2'));
  });

  it('a process killed (SIGKILL) during an install: the install runs again on another process, or fails cleanly; the target is never half-written', async (t) => {
    const before = await templates('kill');
    const plan = await api('POST', `/api/v1/packages/${bigPkg}/plans`, { targetEnvId: 'kill' });
    assert.equal(plan.status, 201, plan.text);
    const started = await api('POST', `/api/v1/installations/${plan.body.installation.id}/install`);
    assert.equal(started.status, 202, started.text);
    const opId = started.body.operation.id as string;
    let victim: Server | undefined;
    for (let i = 0; i < 3000 && !victim; i++) {
      const op = (await api('GET', `/api/v1/operations/${opId}`)).body;
      assert.ok(!FINAL.includes(op.status), `the install ended before it could be interrupted: ${JSON.stringify(op)}`);
      if (op.status === 'RUNNING' && op.worker) victim = servers.find((s) => s.worker === op.worker);
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(victim, 'the install started');
    victim.proc.child.kill('SIGKILL');
    await victim.proc.exited;

    const op = await waitOp(opId);
    t.diagnostic(
      `killed ${victim.name} during the install; the operation ended ${op.status} after ${op.attempts} attempts, last run by ${op.worker}: ${op.message}`,
    );
    const after = await templates('kill');
    if (op.status === 'COMPLETED') {
      // Run again from its start by a live process (or found committed), the whole package is there.
      assert.notEqual(op.worker, victim.worker);
      assert.equal(op.attempts, 2);
      assert.equal(after, before + bigTemplates);
    } else {
      assert.equal(op.status, 'FAILED', JSON.stringify(op));
      assert.equal(after, before);
    }
    assert.equal((await api('GET', '/api/v1/environments/kill')).body.lockedBy, null);
  });

  it('a session opened through one process works through the others, and its logout ends it everywhere', async () => {
    const login = await call(next().base, 'POST', '/api/v1/auth/login', { username: 'admin', password: PASSWORD }, null);
    assert.equal(login.status, 200, login.text);
    const token = login.body.token as string;
    for (const s of servers.filter((x) => x.proc.child.exitCode === null && x.proc.child.signalCode === null)) {
      assert.equal((await call(s.base, 'GET', '/api/v1/auth/me', undefined, token)).status, 200);
    }
    assert.equal((await call(next().base, 'POST', '/api/v1/auth/logout', undefined, token)).status < 300, true);
    // The others may answer from their principal cache for its stated bound (AuthService.CACHE_TTL_MS), never longer.
    await new Promise((r) => setTimeout(r, AuthService.CACHE_TTL_MS + 200));
    for (const s of servers.filter((x) => x.proc.child.exitCode === null && x.proc.child.signalCode === null)) {
      assert.equal((await call(s.base, 'GET', '/api/v1/auth/me', undefined, token)).status, 401);
    }
  });

  it('failed logins are counted across processes: the limit holds however requests are spread', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(next().base, 'POST', '/api/v1/auth/login', { username: 'admin', password: 'wrong' }, null)).status);
    // FERRY_LOGIN_RATE=5: five refusals, then 429 whichever process answers.
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    assert.equal((await call(next().base, 'POST', '/api/v1/auth/login', { username: 'admin', password: PASSWORD }, null)).status, 429);
  });
});
