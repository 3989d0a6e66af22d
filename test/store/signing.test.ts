import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { encodeTrailer, EntityDigest } from '../../src/core/bundle.js';
import { exportPackage, importBundle } from '../../src/engine/bundles.js';
import { verifyBundle } from '../../src/engine/bundle-io.js';
import { openEngine } from '../../src/engine/open.js';
import type { Engine } from '../../src/engine/engine.js';
import { Store } from '../../src/store/store.js';
import { DIALECTS, dropTestSchema, openTestEngine, type TestEngine } from '../support/engines.js';
import { rejectsWith } from '../support/assert.js';
import { BIN, ROOT } from '../support/process.js';

const objects = [
  { type: 'GROUP', id: 'g1', name: 'Default Group', fields: { description: 'everyone' } },
  { type: 'GROUP', id: 'g2', name: 'Design', fields: { parentID: 'g1', description: 'designers' } },
];

/** The decompressed lines of a bundle, changed by `edit`, compressed again. */
function rewrite(from: string, to: string, edit: (lines: string[]) => void): void {
  const lines = gunzipSync(readFileSync(from)).toString('utf8').split('\n');
  edit(lines);
  writeFileSync(to, gzipSync(lines.join('\n')));
}

/** The trailer is the last non-empty line. */
function trailerIndex(lines: string[]): number {
  return lines.findLastIndex((l) => l.startsWith('{"trailer"'));
}

async function packageCount(engine: Engine): Promise<number> {
  return (await engine.listPackages()).length;
}

for (const dialect of DIALECTS) {
  describe(`signed bundles (${dialect})`, () => {
    let source: TestEngine;
    let target: TestEngine;
    let dir: string;
    let file: string;
    let sourceKey: string;

    before(async () => {
      source = await openTestEngine(dialect, 'http://source.test');
      target = await openTestEngine(dialect, 'http://target.test');
      dir = mkdtempSync(join(tmpdir(), 'ferry-signing-'));
      await source.engine.createEnvironment({ id: 'dev', name: 'Dev', tier: 'development' });
      await source.engine.loadObjects('dev', objects);
      const pkg = await source.engine.createPackage({ sourceEnvId: 'dev', name: 'Signed', selection: [{ type: 'GROUP', id: 'g2' }] });
      await source.engine.setPackageStatus(pkg.id, 'ACTIVE');
      file = join(dir, 'signed.ferry');
      const r = await exportPackage(source.engine, pkg.id, { file, dir: join(dir, 'tree') });
      sourceKey = (await source.engine.signingKey()).fingerprint;
      assert.equal(r.file!.signedBy, sourceKey);
      await target.engine.createEnvironment({ id: 'open', name: 'Takes any bundle', tier: 'production' });
      await target.engine.createEnvironment({ id: 'strict', name: 'Takes signed bundles', tier: 'production', trustedSigningKeys: [sourceKey] });
    });

    after(async () => {
      await source.cleanup();
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('signs every export with the server key: the trailer names it and the signature verifies, the --dir tree carries it too', async () => {
      const v = await verifyBundle(file);
      assert.equal(v.signedBy?.fingerprint, sourceKey);
      assert.match(sourceKey, /^SHA256:[A-Za-z0-9+/]{43}$/);
      const tree = JSON.parse(readFileSync(join(dir, 'tree', 'bundle.json'), 'utf8')) as { trailer: { signature?: { key: string } } };
      assert.equal(tree.trailer.signature?.key, (await source.engine.signingKey()).publicKey);
    });

    it('imports a bundle signed by a trusted key', async () => {
      const r = await importBundle(target.engine, file, 'strict', { dryRun: true });
      assert.equal(r.plan.installation.summary.create, 2);
    });

    it('refuses a tampered byte: in an entity (digest), in the header (signature), in the compressed stream; nothing stored', async () => {
      const before = await packageCount(target.engine);
      const entity = join(dir, 'tampered-entity.ferry');
      rewrite(file, entity, (lines) => {
        const i = lines.findIndex((l) => l.includes('"Design"'));
        lines[i] = lines[i]!.replace('"Design"', '"Desigm"');
      });
      await rejectsWith(
        importBundle(target.engine, entity, 'strict'),
        '400 INVALID_REQUEST',
        new RegExp(`integrity check: sha256 mismatch; its trailer names signing key ${escape(sourceKey)}`),
      );
      await rejectsWith(importBundle(target.engine, entity, 'open'), '400 INVALID_REQUEST', /integrity check/);

      // The header is not in the digest; the signature covers it (its removals could delete objects in the target).
      const header = join(dir, 'tampered-header.ferry');
      rewrite(file, header, (lines) => (lines[0] = lines[0]!.replace('"removals":[]', '"removals":[{"id":"g1","type":"GROUP"}]')));
      const signatureCheck = new RegExp(`failed its signature check: it names signing key ${escape(sourceKey)}`);
      await rejectsWith(importBundle(target.engine, header, 'strict'), '400 INVALID_REQUEST', signatureCheck);
      await rejectsWith(importBundle(target.engine, header, 'open'), '400 INVALID_REQUEST', signatureCheck);

      const raw = readFileSync(file);
      const flipped = join(dir, 'flipped.ferry');
      const copy = Buffer.from(raw);
      copy[Math.floor(copy.length / 2)]! ^= 0x01;
      writeFileSync(flipped, copy);
      await rejectsWith(importBundle(target.engine, flipped, 'strict'), '400 INVALID_REQUEST', /integrity check|truncated|signature/);
      assert.equal(await packageCount(target.engine), before);
      assert.deepEqual((await target.engine.listObjects('strict')).items, []);
    });

    it('refuses an unsigned bundle where keys are required, before storing anything, and accepts it where they are not', async () => {
      const unsigned = join(dir, 'unsigned.ferry');
      rewrite(file, unsigned, (lines) => {
        const i = trailerIndex(lines);
        const t = JSON.parse(lines[i]!) as Record<string, unknown>;
        delete t.signature;
        lines[i] = JSON.stringify(t);
      });
      assert.equal((await verifyBundle(unsigned)).signedBy, null);
      const before = await packageCount(target.engine);
      await rejectsWith(
        importBundle(target.engine, unsigned, 'strict'),
        '400 INVALID_REQUEST',
        new RegExp(`is not signed; environment strict accepts only bundles signed by a key it trusts \\(${escape(sourceKey)}\\)`),
      );
      assert.equal(await packageCount(target.engine), before);
      const r = await importBundle(target.engine, unsigned, 'open', { dryRun: true });
      assert.equal(r.plan.installation.summary.create, 2);
    });

    it('refuses a bundle signed by another key, naming that key; trusting it by its raw key lets it in', async () => {
      // The target server's own export: a well-signed bundle, by a key `strict` does not trust.
      await target.engine.createEnvironment({ id: 'tdev', name: 'Target dev', tier: 'development' });
      await target.engine.loadObjects('tdev', objects);
      const pkg = await target.engine.createPackage({ sourceEnvId: 'tdev', name: 'Other key', selection: [{ type: 'GROUP', id: 'g1' }] });
      await target.engine.setPackageStatus(pkg.id, 'ACTIVE');
      const other = join(dir, 'other-key.ferry');
      await exportPackage(target.engine, pkg.id, { file: other });
      const otherKey = await target.engine.signingKey();
      assert.notEqual(otherKey.fingerprint, sourceKey);
      const before = await packageCount(target.engine);
      await rejectsWith(
        importBundle(target.engine, other, 'strict'),
        '400 INVALID_REQUEST',
        new RegExp(`is signed by key ${escape(otherKey.fingerprint)}, which environment strict does not trust`),
      );
      assert.equal(await packageCount(target.engine), before);

      // A signature that does not verify with the key the trailer names: the other key's signature under the source's key.
      const forged = join(dir, 'forged.ferry');
      const sourcePublic = (await source.engine.signingKey()).publicKey;
      rewrite(other, forged, (lines) => {
        const i = trailerIndex(lines);
        const t = JSON.parse(lines[i]!) as { signature: { key: string } };
        t.signature.key = sourcePublic;
        lines[i] = JSON.stringify(t);
      });
      await rejectsWith(
        importBundle(target.engine, forged, 'strict'),
        '400 INVALID_REQUEST',
        new RegExp(`failed its signature check: it names signing key ${escape(sourceKey)}`),
      );

      const env = await target.engine.updateEnvironment('strict', { trustedSigningKeys: [sourceKey, otherKey.publicKey, otherKey.publicKeyPem] });
      assert.deepEqual(env.trustedSigningKeys, [sourceKey, otherKey.fingerprint]);
      const r = await importBundle(target.engine, other, 'strict', { dryRun: true });
      assert.equal(r.package.entityCount, pkg.entityCount);
      await rejectsWith(target.engine.updateEnvironment('strict', { trustedSigningKeys: ['SHA256:not-a-key'] }), '400 INVALID_REQUEST', /is not a key/);
      await target.engine.updateEnvironment('strict', { trustedSigningKeys: [sourceKey] });
    });

    it('a trusted import never reuses a package an earlier, unchecked import stored under the same id (it could hold other content)', async () => {
      const pkg = await source.engine.createPackage({ sourceEnvId: 'dev', name: 'Reused?', selection: [{ type: 'GROUP', id: 'g2' }] });
      await source.engine.setPackageStatus(pkg.id, 'ACTIVE');
      const genuine = join(dir, 'genuine.ferry');
      await exportPackage(source.engine, pkg.id, { file: genuine });
      // The same package id and version, other content, digest made again, no signature: an open environment takes it.
      const forged = join(dir, 'same-id-other-content.ferry');
      rewrite(genuine, forged, (lines) => {
        const entities = lines.slice(1, trailerIndex(lines)).map((l) => l.replace('"designers"', '"hacked"'));
        const digest = new EntityDigest();
        for (const l of entities) digest.add(l);
        lines.splice(1, lines.length - 1, ...entities, encodeTrailer(digest.count, digest.digest()), '');
      });
      const first = await importBundle(target.engine, forged, 'open', { dryRun: true });
      assert.equal(first.package.id, pkg.id);
      const trusted = await importBundle(target.engine, genuine, 'strict', { dryRun: true });
      const fields = (await target.engine.getPackageEntities(trusted.package.id)).map((e) => e.fields.description);
      assert.ok(fields.includes('designers') && !fields.includes('hacked'), JSON.stringify(fields));
    });

    it('keeps its key through a restart, and another process on the same database signs with it (ferry verify says so)', async () => {
      const config =
        dialect === 'sqlite'
          ? { dataDir: source.dataDir, publicUrl: 'http://source.test' }
          : { dataDir: source.dataDir, databaseUrl: source.databaseUrl!, databaseSchema: source.schema!, publicUrl: 'http://source.test' };
      const again = await openEngine(config);
      try {
        assert.equal((await again.signingKey()).fingerprint, sourceKey);
      } finally {
        await again.store.close();
      }
      const env: Record<string, string> =
        dialect === 'sqlite'
          ? { FERRY_DATA_DIR: source.dataDir }
          : { FERRY_DATA_DIR: source.dataDir, FERRY_DATABASE_URL: source.databaseUrl!, FERRY_DATABASE_SCHEMA: source.schema! };
      const run = spawnSync(process.execPath, [...BIN, '--json', 'verify', file], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout) as { intact: boolean; signedBy: string; serverKey: string; trustedBy: string[] };
      assert.equal(report.intact, true);
      assert.equal(report.signedBy, sourceKey);
      assert.equal(report.serverKey, sourceKey);
    });

    it('ferry verify exits 1 on a tampered bundle and names the signer, and lists the environments that trust it', () => {
      const env: Record<string, string> =
        dialect === 'sqlite'
          ? { FERRY_DATA_DIR: target.dataDir }
          : { FERRY_DATA_DIR: target.dataDir, FERRY_DATABASE_URL: target.databaseUrl!, FERRY_DATABASE_SCHEMA: target.schema! };
      const tampered = join(dir, 'tampered-entity.ferry');
      const bad = spawnSync(process.execPath, [...BIN, 'verify', tampered], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(bad.status, 1, bad.stderr);
      assert.match(bad.stdout, new RegExp(`NOT intact: .*sha256 mismatch; its trailer names signing key ${escape(sourceKey)}`));
      const good = spawnSync(process.execPath, [...BIN, 'verify', file], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(good.status, 0, good.stderr);
      assert.match(good.stdout, new RegExp(`signed by ${escape(sourceKey)}: not this server's key \\(SHA256:[^)]+\\); trusted by strict`));
    });
  });
}

if (DIALECTS.includes('postgres')) {
  describe('signing key shared on PostgreSQL', () => {
    it('two servers starting at once on a new schema make one key and both use it', async () => {
      const first = await openTestEngine('postgres');
      try {
        // A second schema opened twice at the same moment: both race to insert the key.
        const { randomBytes } = await import('node:crypto');
        const schema = `ferry_test_${randomBytes(6).toString('hex')}`;
        const config = { dataDir: first.dataDir, databaseUrl: first.databaseUrl!, databaseSchema: schema, publicUrl: 'http://x.test' };
        // The schema and its tables first (no key yet): the race under test is the key's, not CREATE SCHEMA's.
        const bare = await Store.open({ dataDir: first.dataDir, databaseUrl: first.databaseUrl!, schema });
        assert.equal(await bare.serverKeys.get('bundle-signing'), undefined);
        await bare.close();
        const [a, b] = await Promise.all([openEngine(config), openEngine(config)]);
        try {
          assert.equal((await a.signingKey()).fingerprint, (await b.signingKey()).fingerprint);
        } finally {
          await a.store.close();
          await b.store.close();
          await dropTestSchema(schema);
        }
      } finally {
        await first.cleanup();
      }
    });
  });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
