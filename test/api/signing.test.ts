import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DIALECTS } from '../support/engines.js';
import { ADMIN_KEY, openTestServer, type TestServer } from '../support/api.js';

const OBJECTS = [
  { type: 'GROUP', id: 'g1', name: 'Default Group', fields: {} },
  { type: 'GROUP', id: 'g2', name: 'Design', fields: { parentID: 'g1' } },
];

/** Signed bundles through the native API: the key, trusted keys on an environment, imports refused or accepted. */
for (const dialect of DIALECTS) {
  describe(`signed bundles over the native API (${dialect})`, () => {
    let s: TestServer;
    let viewer = '';
    let bundle: Buffer;
    let fingerprint = '';

    const upload = async (bytes: Buffer, name: string) => {
      const r = await s.call(ADMIN_KEY, 'POST', `/api/v1/files?name=${name}`, bytes, { 'content-type': 'application/octet-stream' });
      assert.equal(r.status, 201, r.text);
      return r.body.id as string;
    };
    const importInto = async (fileId: string, targetEnvId: string) => {
      const r = await s.call(ADMIN_KEY, 'POST', '/api/v1/imports', { fileId, targetEnvId, dryRun: true });
      assert.equal(r.status, 202, r.text);
      return s.waitOp(ADMIN_KEY, r.body.operation.id);
    };

    before(async () => {
      s = await openTestServer(dialect);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'dev', name: 'Dev', tier: 'development' })).status, 201);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments/dev/objects', OBJECTS)).status, 200);
      assert.equal((await s.call(ADMIN_KEY, 'POST', '/api/v1/environments', { id: 'prod', name: 'Prod', tier: 'production' })).status, 201);
      viewer = await s.user('vic', { prod: 'viewer' });
      const pkg = await s.call(ADMIN_KEY, 'POST', '/api/v1/packages', {
        sourceEnvId: 'dev',
        name: 'Groups',
        objectCollections: [{ objCode: 'GROUP', entities: [{ ID: 'g2' }] }],
      });
      assert.equal(pkg.status, 202, pkg.text);
      assert.equal((await s.waitOp(ADMIN_KEY, pkg.body.operation.id)).status, 'COMPLETED');
      const ex = await s.call(ADMIN_KEY, 'POST', `/api/v1/packages/${pkg.body.package.id}/export`);
      assert.equal(ex.status, 202, ex.text);
      const op = await s.waitOp(ADMIN_KEY, ex.body.operation.id);
      assert.equal(op.status, 'COMPLETED', JSON.stringify(op));
      const result = op.result as { downloadUrl: string; signedBy: string };
      const dl = await s.app.inject({ method: 'GET', url: result.downloadUrl, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(dl.statusCode, 200);
      bundle = dl.rawPayload;
      fingerprint = result.signedBy;
    });
    after(async () => s.cleanup());

    it('GET /api/v1/signing-key: the key every export is signed with, to any signed-in user, 401 without credentials', async () => {
      assert.equal((await s.call(null, 'GET', '/api/v1/signing-key')).status, 401);
      const r = await s.call(viewer, 'GET', '/api/v1/signing-key');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.algorithm, 'ed25519');
      assert.equal(r.body.fingerprint, fingerprint);
      assert.match(r.body.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
      const trailer = JSON.parse(gunzipSync(bundle).toString('utf8').trim().split('\n').at(-1)!) as { signature: { key: string } };
      assert.equal(trailer.signature.key, r.body.publicKey);
    });

    it('PATCH trustedSigningKeys: a key that is not one is refused (400, nothing changed); a PEM is stored as its fingerprint', async () => {
      const bad = await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { trustedSigningKeys: ['hello'] });
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.body.message, /"hello" is not a key/);
      assert.deepEqual((await s.call(ADMIN_KEY, 'GET', '/api/v1/environments/prod')).body.trustedSigningKeys, []);
      const key = await s.call(ADMIN_KEY, 'GET', '/api/v1/signing-key');
      const ok = await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { trustedSigningKeys: [key.body.publicKeyPem] });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body.trustedSigningKeys, [fingerprint]);
    });

    it('an environment with trusted keys imports the signed bundle and refuses an unsigned copy, naming the reason', async () => {
      const signed = await importInto(await upload(bundle, 'signed.ferry'), 'prod');
      assert.equal(signed.status, 'COMPLETED', JSON.stringify(signed));
      const lines = gunzipSync(bundle).toString('utf8').trim().split('\n');
      const t = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
      delete t.signature;
      lines[lines.length - 1] = JSON.stringify(t);
      const unsignedId = await upload(gzipSync(`${lines.join('\n')}\n`), 'unsigned.ferry');
      const before = await s.call(ADMIN_KEY, 'GET', '/api/v1/packages');
      const refused = await importInto(unsignedId, 'prod');
      assert.equal(refused.status, 'FAILED', JSON.stringify(refused));
      assert.match(JSON.stringify(refused.error), /bundle unsigned\.ferry is not signed; environment prod accepts only bundles signed by a key it trusts/);
      assert.deepEqual((await s.call(ADMIN_KEY, 'GET', '/api/v1/packages')).body.total, before.body.total);
      // Cleared again, the environment takes it.
      assert.equal((await s.call(ADMIN_KEY, 'PATCH', '/api/v1/environments/prod', { trustedSigningKeys: [] })).status, 200);
      const accepted = await importInto(unsignedId, 'prod');
      assert.equal(accepted.status, 'COMPLETED', JSON.stringify(accepted));
    });
  });
}
