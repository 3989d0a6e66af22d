// `ferry db copy`: an embedded installation (SQLite, after the demo
// promotion, with a user, API keys and a stored bundle) copied into an empty
// PostgreSQL schema keeps every row and every file; a non-empty target is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { main } from '../../src/cli/main.js';
import { openEngine } from '../../src/engine/open.js';
import { AuthService } from '../../src/engine/auth.js';
import { exportPackage } from '../../src/engine/bundles.js';
import { DirectoryFileStore } from '../../src/store/file-store.js';
import { DatabaseFileStore } from '../../src/store/database-file-store.js';
import { Store } from '../../src/store/store.js';
import { DIALECTS, dropTestSchema, PG_URL } from '../support/engines.js';

async function ferry(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ferry', ...args], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), isTTY: false });
  return { code, out, err };
}

/** Every row of every Ferry table, as comparable text (keys sorted, rows sorted). */
async function dump(store: Store, tables: readonly string[]): Promise<Record<string, string[]>> {
  const db = store.db as unknown as Kysely<any>;
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db);
    out[t] = rows
      .map((r) =>
        JSON.stringify(
          Object.keys(r)
            .sort()
            .map((k) => [k, Buffer.isBuffer(r[k]) ? r[k].toString('hex') : r[k]]),
        ),
      )
      .sort();
  }
  return out;
}

describe('ferry db copy (SQLite to PostgreSQL)', { skip: !DIALECTS.includes('postgres') && 'PostgreSQL is not in FERRY_TEST_DIALECTS' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-copy-'));
  const dataDir = join(dir, 'data');
  const schema = `ferry_test_copy_${randomBytes(5).toString('hex')}`;
  let fileId = '';
  let bundle: Buffer;

  before(async () => {
    // The demo: three environments, a package promoted end to end (history, ID maps, restore points).
    const demo = await ferry('--data-dir', dataDir, 'demo');
    assert.equal(demo.code, 0, demo.err + demo.out);
    const engine = await openEngine({ dataDir, publicUrl: 'http://copy.test' });
    try {
      const auth = new AuthService(engine);
      await auth.ensureFirstAdmin({ apiKey: 'fry_copy_admin_key_0123456789' });
      await auth.createUser({ username: 'pat', password: 'a long enough password', admin: false }, { actor: 'test' });
      await auth.createApiKey({ username: 'pat', name: 'ci' }, { actor: 'test' });
      // A bundle in the embedded file store.
      const files = new DirectoryFileStore(engine.store, join(dataDir, 'files'));
      const pkg = (await engine.listPackages())[0]!;
      const { id, tmp } = files.reserve();
      await exportPackage(engine, pkg.id, { file: tmp }, { actor: 'test' });
      const f = await files.commit(tmp, { id, name: 'demo.ferry', kind: 'bundle', environmentId: pkg.sourceEnvId, packageId: pkg.id, createdBy: 'admin' });
      fileId = f.id;
      bundle = readFileSync(files.pathOf(f.id));
    } finally {
      await engine.store.close();
    }
  });

  after(async () => {
    await dropTestSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every row of every table and every file; the copy reads the same', async () => {
    const r = await ferry('--json', 'db', 'copy', '--from', dataDir, '--to', PG_URL, '--schema', schema);
    assert.equal(r.code, 0, r.err + r.out);
    const report = JSON.parse(r.out) as { tables: Record<string, number>; files: number; missingFiles: string[]; schema: string };
    assert.equal(report.files, 1);
    assert.equal(report.schema, schema);
    assert.deepEqual(report.missingFiles, []);
    for (const t of [
      'environments',
      'objects',
      'packages',
      'installations',
      'installation_entries',
      'id_map',
      'restore_chunks',
      'users',
      'api_keys',
      'audit',
    ]) {
      assert.ok((report.tables[t] ?? 0) > 0, `${t} copied: ${JSON.stringify(report.tables)}`);
    }

    const source = await Store.open({ databaseUrl: `sqlite:${join(dataDir, 'ferry.sqlite')}` });
    const target = await Store.open({ databaseUrl: PG_URL, schema });
    try {
      // Every row the same; file_chunks aside (the source keeps its bundles in a directory: compared below).
      const tables = Object.keys(report.tables).filter((t) => t !== 'file_chunks');
      const [copied, original] = [await dump(target, tables), await dump(source, tables)];
      for (const t of tables) assert.deepEqual(copied[t], original[t], `table ${t}`);
      // The bundle's bytes are in the database now, whole.
      const files = new DatabaseFileStore(target, join(dir, 'tmp'));
      const back: Buffer[] = [];
      for await (const c of files.open(fileId)) back.push(c as Buffer);
      assert.ok(Buffer.concat(back).equals(bundle));
      // Keys of the auto-increment columns continue after the copied ones.
      await target.audit.append({ actor: 'test', address: null, action: 'after.copy', envId: null, subject: null, result: 'ok', detail: {} });
    } finally {
      await target.close();
      await source.close();
    }
    // And the engine on the copy answers as on the original.
    const copy = await openEngine({ dataDir: join(dir, 'unused'), databaseUrl: PG_URL, databaseSchema: schema, publicUrl: 'http://copy.test' });
    const original = await openEngine({ dataDir, publicUrl: 'http://copy.test' });
    try {
      assert.deepEqual(await copy.listEnvironments(), await original.listEnvironments());
      assert.deepEqual(await copy.listInstallations(), await original.listInstallations());
      const key = 'fry_copy_admin_key_0123456789';
      // The admin's API key (stored hashed) still opens the copy.
      assert.equal((await new AuthService(copy).authenticateKey(key))?.username, 'admin');
    } finally {
      await copy.store.close();
      await original.store.close();
    }
  });

  it('names the PostgreSQL schema it copied into', async () => {
    const other = `${schema}_b`;
    try {
      const r = await ferry('db', 'copy', '--from', dataDir, '--to', PG_URL, '--schema', other);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, new RegExp(`^copied \\d+ rows in \\d+ tables and 1 files into schema ${other} of postgres://`));
    } finally {
      await dropTestSchema(other);
    }
  });

  it('refuses a target that is not empty, and changes nothing in it', async () => {
    const r = await ferry('db', 'copy', '--from', dataDir, '--to', PG_URL, '--schema', schema);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, /not empty/);
    assert.match(r.err, new RegExp(`schema ${schema}\\b`));
    const target = await Store.open({ databaseUrl: PG_URL, schema });
    try {
      const { rows } = await sql<{ n: number }>`select count(*) as n from audit where action = 'after.copy'`.execute(target.db);
      assert.equal(Number(rows[0]!.n), 1);
    } finally {
      await target.close();
    }
  });
});
