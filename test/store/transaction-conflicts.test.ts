/**
 * A transaction PostgreSQL kills to break a deadlock (40P01), provoked for
 * real: two transactions lock two environment rows in opposite orders. The
 * one killed must answer a clear retryable error (503, "retry"), never the
 * driver's text, and its writes must be gone. PostgreSQL only: SQLite's one
 * writer cannot deadlock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../src/core/errors.js';
import { toErrorResponse } from '../../src/server/errors.js';
import type { Store } from '../../src/store/store.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';

/** A promise and the function that settles it. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

if (DIALECTS.includes('postgres')) {
  describe('a deadlock on PostgreSQL', () => {
    let t: TestEngine;
    before(async () => {
      t = await openTestEngine('postgres');
      await t.engine.createEnvironment({ id: 'a', name: 'A', tier: 'development' });
      await t.engine.createEnvironment({ id: 'b', name: 'B', tier: 'development' });
    });
    after(async () => t?.cleanup());

    it('answers 503 TRANSACTION_CONFLICT saying to retry, and the killed transaction wrote nothing', async () => {
      const locked = { a: signal(), b: signal() };
      const write = (tx: Store, env: 'a' | 'b') =>
        tx.objects.upsert([
          { envId: env, type: 'GROUP', id: `g-${env}`, name: `Group ${env}`, fields: {}, fieldsJson: '{}', hash: `h-${env}`, nkey: null, ownerId: null },
        ]);
      // Each holds its own row and has written, then asks for the other's: a cycle PostgreSQL breaks by killing one.
      const run = (own: 'a' | 'b', other: 'a' | 'b') =>
        t.engine.store.transaction(async (tx) => {
          await tx.environments.lockRow(own);
          await write(tx, own);
          locked[own].fire();
          await locked[other].promise;
          await tx.environments.lockRow(other);
        });
      const results = await Promise.allSettled([run('a', 'b'), run('b', 'a')]);
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ env: i === 0 ? 'a' : 'b', error: r.reason as unknown }] : []));
      assert.equal(failed.length, 1, `exactly one is killed: ${results.map((r) => r.status).join(', ')}`);
      const { env, error } = failed[0]!;
      assert.ok(error instanceof FerryError, `a Ferry error, not the driver's: ${String(error)}`);
      assert.deepEqual([error.status, error.code], [503, 'TRANSACTION_CONFLICT']);
      assert.match(error.message, /retry/);
      assert.match(error.message, /nothing was written/);
      assert.doesNotMatch(error.message, /deadlock detected|Process \d+/);

      const answer = toErrorResponse(error, 'req-1');
      assert.deepEqual([answer.status, answer.body.code], [503, 'TRANSACTION_CONFLICT']);
      // The driver's own error, as a face would meet it had it escaped the store untranslated.
      const raw = toErrorResponse((error as { cause?: unknown }).cause, 'req-2');
      assert.deepEqual([raw.status, raw.body.code], [503, 'TRANSACTION_CONFLICT']);

      const survivor = env === 'a' ? 'b' : 'a';
      assert.equal((await t.engine.listObjects(env, { type: 'GROUP' })).total, 0);
      assert.equal((await t.engine.listObjects(survivor, { type: 'GROUP' })).total, 1);
    });
  });
}
