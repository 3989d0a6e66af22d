import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Store, ObjectRow } from '../../src/store/store.js';
import type { Environment } from '../../src/core/types.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';
import { holdLock } from '../support/locks.js';

const env = (id: string): Environment => ({
  id,
  uid: `uid-${id}`,
  name: id,
  tier: 'development',
  hosts: [],
  version: 1,
  parameters: {},
  targetOwned: {},
  clonedFrom: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const row = (envId: string, type: string, id: string, extra: Partial<ObjectRow> = {}): ObjectRow => ({
  envId,
  type,
  id,
  name: `${type} ${id}`,
  fields: { n: id },
  hash: `h-${id}`,
  nkey: null,
  ownerId: null,
  ...extra,
});

for (const dialect of DIALECTS) {
  describe(`store on ${dialect}`, () => {
    let t: TestEngine;
    let store: Store;
    before(async () => {
      t = await openTestEngine(dialect);
      store = t.engine.store;
      await store.environments.create(env('a'));
      await store.environments.create(env('b'));
    });
    after(async () => t.cleanup());

    it('upserts objects in batches larger than one statement and reads them back', async () => {
      const rows: ObjectRow[] = [];
      for (let i = 0; i < 7000; i++) rows.push(row('a', 'TTSK', `k${i}`, { ownerId: `t${i % 10}`, nkey: `["task ${i % 100}"]` }));
      await store.objects.upsert(rows);
      await store.objects.upsert([row('a', 'TTSK', 'k1', { name: 'renamed', hash: 'h2', ownerId: 't1' })]);
      assert.equal(await store.objects.count('a'), 7000);
      const [k1] = await store.objects.getMany('a', [{ type: 'TTSK', id: 'k1' }]);
      assert.deepEqual([k1!.name, k1!.hash], ['renamed', 'h2']);
      assert.equal((await store.objects.getChildren('a', ['t3'], ['TTSK'])).length, 700);
      assert.equal((await store.objects.getChildren('a', ['t3'], ['TASSGN'])).length, 0);
      assert.equal((await store.objects.findByNaturalKey('a', 'TTSK', ['["task 7"]'])).length, 70);
      const page = await store.objects.list(['a'], { type: 'TTSK', limit: 10, offset: 20 });
      assert.equal(page.total, 7000);
      assert.equal(page.items.length, 10);
      const many = await store.objects.getMany(
        'a',
        rows.slice(0, 6000).map((r) => ({ type: r.type, id: r.id })),
      );
      assert.equal(many.length, 6000);
    });

    it('finds objects whose fields mention an id, taking LIKE wildcards and backslashes literally', async () => {
      const odd = ['r_1', 'r%2', 'r\\3', 'r"4'];
      await store.objects.upsert([
        row('b', 'TASSGN', 'x1', { fields: { roleID: 'r_1' } }),
        row('b', 'TASSGN', 'x2', { fields: { roleID: 'rX1' } }), // matches r_1 only if _ were a wildcard
        row('b', 'TASSGN', 'x3', { fields: { roleIDs: ['r%2', 'r\\3'] } }),
        row('b', 'TASSGN', 'x4', { fields: { roleID: 'r"4' } }),
        row('b', 'TASSGN', 'x5', { fields: { note: 'r%2 in prose' } }), // not a JSON string of its own
        row('b', 'TTSK', 'x6', { fields: { roleID: 'r_1' } }), // another type
      ]);
      const found = async (ids: string[]) => (await store.objects.findMentioning('b', 'TASSGN', ids)).map((o) => o.id).sort();
      assert.deepEqual(await found(['r_1']), ['x1']);
      assert.deepEqual(await found(['r%2']), ['x3']);
      assert.deepEqual(await found(['r\\3']), ['x3']);
      assert.deepEqual(await found(odd), ['x1', 'x3', 'x4']);
      assert.deepEqual(await found(['nothing']), []);
      await store.transaction((tx) =>
        tx.objects.delete(
          'b',
          ['x1', 'x2', 'x3', 'x4', 'x5'].map((id) => ({ type: 'TASSGN', id })),
        ),
      );
      await store.transaction((tx) => tx.objects.delete('b', [{ type: 'TTSK', id: 'x6' }]));
    });

    it('keeps environments apart', async () => {
      assert.equal(await store.objects.count('b'), 0);
      assert.equal((await store.objects.getMany('b', [{ type: 'TTSK', id: 'k1' }])).length, 0);
      assert.equal(await store.objects.copy('a', 'b'), 7000);
      assert.equal(await store.objects.count('b'), 7000);
    });

    it('rolls back everything written in a transaction that throws', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.objects.upsert([row('b', 'TMPL', 'new1')]);
          await tx.objects.delete('b', [{ type: 'TTSK', id: 'k1' }]);
          await tx.environments.bumpVersion('b');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal((await store.objects.getMany('b', [{ type: 'TMPL', id: 'new1' }])).length, 0);
      assert.equal((await store.objects.getMany('b', [{ type: 'TTSK', id: 'k1' }])).length, 1);
      assert.equal((await store.environments.get('b'))!.version, 1);
    });

    it('takes the install lock once, and releases only the lock it names', async () => {
      const me = { host: 'h', pid: 1, instance: 'me', started: null };
      assert.equal(await holdLock(store, 'a', 'i1', { owner: me }), true);
      assert.equal(await holdLock(store, 'a', 'i2', { owner: me }), false);
      assert.equal((await store.environments.get('a'))!.lockedBy, 'i1');
      assert.equal((await store.environments.list()).find((e) => e.id === 'a')!.lockedBy, 'i1');
      const held = (await store.locks.get('a'))!;
      assert.deepEqual(held.owner, me);
      assert.equal(await store.locks.release({ envId: 'a', holder: 'i2', owner: me }), false);
      assert.equal(await store.locks.release({ envId: 'a', holder: 'i1', owner: { instance: 'other' } }), false);
      assert.equal(await store.locks.heartbeat('a', 'i1', 'me', '2030-01-01T00:00:00.000Z'), true);
      // Compare-and-delete: a lock refreshed since it was read stays.
      assert.equal(await store.locks.release(held), false);
      assert.equal((await store.environments.get('a'))!.lockedBy, 'i1');
      assert.equal(await store.locks.release({ envId: 'a', holder: 'i1', owner: me }), true);
      assert.equal((await store.environments.get('a'))!.lockedBy, null);
      assert.equal(await store.locks.heartbeat('a', 'i1', 'me', '2030-01-01T00:00:00.000Z'), false);
    });

    it('upserts ID map rows and decisions by their keys', async () => {
      await store.idMap.upsert('b', 'inst1', [{ sourceUid: 'u', type: 'TMPL', sourceId: 's1', targetId: 't1', hash: 'x' }]);
      await store.idMap.upsert('b', 'inst2', [{ sourceUid: 'u', type: 'TMPL', sourceId: 's1', targetId: 't2', hash: 'y' }]);
      assert.deepEqual(await store.idMap.get('b', 'u', [{ type: 'TMPL', id: 's1' }]), [
        { sourceUid: 'u', type: 'TMPL', sourceId: 's1', targetId: 't2', hash: 'y' },
      ]);
      assert.deepEqual(await store.idMap.get('a', 'u', [{ type: 'TMPL', id: 's1' }]), []);
      await store.decisions.upsert('b', [{ sourceUid: 'u', type: 'TTSK', sourceId: 'k', action: 'IGNORE', targetId: null }]);
      await store.decisions.upsert('b', [{ sourceUid: 'u', type: 'TTSK', sourceId: 'k', action: 'USEEXISTING', targetId: 'T' }]);
      assert.deepEqual(await store.decisions.get('b', 'u'), [{ sourceUid: 'u', type: 'TTSK', sourceId: 'k', action: 'USEEXISTING', targetId: 'T' }]);
    });

    it('lists nothing for an empty list of environments', async () => {
      assert.deepEqual(await store.packages.list({ sourceEnvIds: [] }), []);
      assert.deepEqual(await store.installations.list({ targetEnvIds: [] }), []);
    });

    it('appends audit entries and filters them', async () => {
      await store.audit.append({
        actor: 'ann',
        address: '127.0.0.1',
        action: 'x.create',
        envId: 'a',
        subject: 's',
        result: 'ok',
        detail: { n: 1 },
        at: '2026-01-01T00:00:00.000Z',
      });
      await store.audit.append({
        actor: 'bob',
        address: null,
        action: 'x.delete',
        envId: 'b',
        subject: null,
        result: 'failed',
        detail: {},
        at: '2026-02-01T00:00:00.000Z',
      });
      const bob = await store.audit.list({ actor: 'bob' });
      assert.deepEqual(
        bob.map((e) => [e.action, e.envId, e.result]),
        [['x.delete', 'b', 'failed']],
      );
      assert.deepEqual(
        (await store.audit.list({ envId: 'a', since: '2025-12-31T00:00:00.000Z' })).map((e) => e.actor),
        ['ann'],
      );
      assert.deepEqual(
        (await store.audit.list({ until: '2026-01-15T00:00:00.000Z' })).map((e) => e.actor),
        ['ann'],
      );
    });

    if (dialect === 'sqlite') {
      it('bounds the WAL file a checkpoint leaves behind (journal_size_limit), so a large install does not keep it huge', async () => {
        const rows = await sql<{ journal_size_limit: number }>`pragma journal_size_limit`.execute(store.db);
        assert.deepEqual(rows.rows, [{ journal_size_limit: 64 * 1024 * 1024 }]);
      });
    }
  });
}
