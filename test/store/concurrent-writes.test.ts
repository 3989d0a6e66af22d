/**
 * Writes of server-scoped objects (users, groups, roles) through different
 * environments at the same moment. Each such write holds its own
 * environment's row and bumps every other environment's version (a
 * server-scoped object is seen by all of them): taken in whatever order the
 * writes arrive, two of them wait for each other and PostgreSQL kills one
 * (40P01 deadlock_detected). On SQLite the one writer serialises them; the
 * suite runs there too, as the reference for the final state.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';

const ENVS = ['e1', 'e2', 'e3', 'e4'];
const ROUNDS = 8;

for (const dialect of DIALECTS) {
  describe(`concurrent server-scoped writes on ${dialect}`, () => {
    let t: TestEngine;
    let engine: Engine;
    before(async () => {
      t = await openTestEngine(dialect);
      engine = t.engine;
      for (const id of ENVS) await engine.createEnvironment({ id, name: id, tier: 'development' });
      // An environment-scoped object per environment, so plain writes run beside the server-scoped ones.
      for (const id of ENVS) await engine.loadObjects(id, [{ type: 'GROUP', id: `g-${id}`, name: `Group ${id}`, fields: {} }]);
    });
    after(async () => t?.cleanup());

    it('writes of users, groups and roles through four environments at once all succeed, none half-written', async () => {
      const versionsBefore = new Map((await engine.listEnvironments()).map((e) => [e.id, e.version]));
      const failures: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const writes = ENVS.flatMap((env, i) => [
          engine.loadObjects(env, [
            { type: 'USRGRP', id: `ug-${round}-${i}`, name: `Group ${round}-${i}`, fields: {} },
            { type: 'USER', id: `u-${round}-${i}`, name: `User ${round}-${i}`, fields: { login: `user${round}-${i}`, userGroupIDs: [`ug-${round}-${i}`] } },
          ]),
          engine.putObject(env, { type: 'SECROLE', id: `sr-${round}-${i}`, name: `Role ${round}-${i}`, fields: { privileges: ['read'] } }),
          engine.putObject(env, { type: 'GROUP', id: `g-${env}`, name: `Group ${env} ${round}`, fields: {} }),
          engine.deleteObject(env, 'SECROLE', `sr-${round - 1}-${i}`).catch((e: { code?: string }) => {
            if (round > 0 || e.code !== 'NOT_FOUND') throw e;
          }),
        ]);
        for (const r of await Promise.allSettled(writes)) {
          if (r.status === 'rejected') failures.push(`${(r.reason as { code?: string }).code}: ${(r.reason as Error).message}`);
        }
      }
      assert.deepEqual(failures, []);
      // Every write is there, whole: a user and its group, the last round's roles, each environment's group.
      const users = await engine.listObjects('e1', { type: 'USER', limit: 1000 });
      const groups = await engine.listObjects('e1', { type: 'USRGRP', limit: 1000 });
      const roles = await engine.listObjects('e1', { type: 'SECROLE', limit: 1000 });
      assert.equal(users.total, ROUNDS * ENVS.length);
      assert.equal(groups.total, ROUNDS * ENVS.length);
      assert.deepEqual(roles.items.map((r) => r.id).sort(), ENVS.map((_, i) => `sr-${ROUNDS - 1}-${i}`).sort());
      for (const env of ENVS) assert.equal((await engine.getObject(env, 'GROUP', `g-${env}`)).name, `Group ${env} ${ROUNDS - 1}`);
      // Each environment's version moved by at least every server-scoped write made anywhere.
      for (const e of await engine.listEnvironments()) {
        assert.ok(e.version >= versionsBefore.get(e.id)! + ROUNDS * ENVS.length * 2, `${e.id}: ${versionsBefore.get(e.id)} -> ${e.version}`);
      }
    });
  });
}
