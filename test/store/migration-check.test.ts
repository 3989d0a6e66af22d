import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { Store } from '../../src/store/store.js';
import { DIALECTS, openTestEngine, type TestEngine } from '../support/engines.js';

// Store.open skips Kysely's Migrator when the applied migrations are exactly
// the known ones (one query), and runs it otherwise.
for (const dialect of DIALECTS) {
  describe(`migration check at open on ${dialect}`, () => {
    let t: TestEngine;
    const reopen = () => Store.open(t.databaseUrl ? { databaseUrl: t.databaseUrl, schema: t.schema } : { dataDir: t.dataDir });
    const table = (name: string) => sql.table(t.schema ? `${t.schema}.${name}` : name);
    const db = (): Kysely<any> => t.engine.store.db as Kysely<any>;
    const lockTableExists = async () => {
      try {
        await sql`select 1 from ${table('kysely_migration_lock')}`.execute(db());
        return true;
      } catch {
        return false;
      }
    };
    before(async () => {
      t = await openTestEngine(dialect);
    });
    after(async () => {
      await t.cleanup();
    });

    it('does not run the Migrator when the schema is current (the Migrator would recreate its lock table)', async () => {
      assert.equal(await lockTableExists(), true);
      await sql`drop table ${table('kysely_migration_lock')}`.execute(db());
      const store = await reopen();
      await store.close();
      assert.equal(await lockTableExists(), false);
    });

    it('runs the Migrator, and fails as before, when a migration this Ferry does not know was applied', async () => {
      await sql`insert into ${table('kysely_migration')} (name, timestamp) values (${'9999_from_a_newer_ferry'}, ${new Date().toISOString()})`.execute(db());
      await assert.rejects(reopen(), /migration.*9999_from_a_newer_ferry|9999_from_a_newer_ferry.*missing/s);
      assert.equal(await lockTableExists(), true);
    });
  });
}
