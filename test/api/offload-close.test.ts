import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestEngine } from '../support/engines.js';

/**
 * A server that fails to start (its app refused, its port taken) closes its
 * engine at once, while the offload thread is still starting; the thread
 * then says it is ready, which unrefs it. close() used to lose its hold that
 * way: the process ran out of work with close() pending, and `ferry serve`
 * exited 0 without a word. Alone in its file: another suite's open handles
 * would keep the process alive and hide the hang. (node:test cancels a test
 * whose promise is pending when the event loop empties.)
 */
describe('offload thread, closed while it starts', () => {
  for (const dialect of DIALECTS) {
    it(`ends the thread and resolves on ${dialect}`, async () => {
      const t = await openTestEngine(dialect, 'http://ferry.test', undefined, { offload: true });
      await t.cleanup();
      assert.equal(t.engine.offload?.busyMs(), 0, 'the thread never ran a call');
    });
  }
});
