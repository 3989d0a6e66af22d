// Uploads over a limit, on every face that reads multipart uploads (dev2prod's
// attachment, the duplication face's restoration, the sync face's import): a
// 413 in Ferry's words naming the limit and the setting that raises it (or
// the field and its fixed limit), never the multipart reader's own wording
// ("request file too large") nor a cut field read as malformed JSON; nothing
// is kept or written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultModes, startDialectServer, type DialectServer } from './harness.js';
import { login } from './duplication-support.js';

const UPLOAD_LIMIT = 100 * 1024;
const BODY_LIMIT = 64 * 1024;
const TENANT = '271828182';
const UPLOAD_413 = /^the upload is larger than the 100 KiB limit \(FERRY_UPLOAD_LIMIT\); nothing was stored$/;

/** A form sent with chunked transfer encoding (no Content-Length): only the multipart reader's limit can stop it. */
async function sendChunked(base: string, path: string, headers: Record<string, string>, form: FormData): Promise<{ status: number; json: any }> {
  const encoded = new Request('http://multipart.invalid/', { method: 'POST', body: form });
  const init = {
    method: 'POST',
    headers: { ...headers, 'content-type': encoded.headers.get('content-type')! },
    body: encoded.body,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' };
  const res = await fetch(base + path, init);
  return { status: res.status, json: await res.json() };
}

function form(fields: Record<string, string>, file?: { field: string; bytes: Buffer; name: string }): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (file) f.append(file.field, new Blob([file.bytes]), file.name);
  return f;
}

const RESTORE_METADATA = JSON.stringify({ target: { environment: { id: 'x', name: 'x' }, project: { name: 'Restored' } } });

for (const mode of defaultModes()) {
  describe(`uploads over a limit [${mode.kind === 'process' ? 'ferry serve process' : `in process, ${mode.db}`}]`, () => {
    let running: Awaited<ReturnType<typeof startDialectServer>> | undefined;
    let s: DialectServer;
    let dupAuth: Record<string, string>;
    before(async () => {
      running = await startDialectServer(mode, {
        config: { uploadLimit: UPLOAD_LIMIT, bodyLimit: BODY_LIMIT },
        env: { FERRY_UPLOAD_LIMIT: String(UPLOAD_LIMIT), FERRY_BODY_LIMIT: String(BODY_LIMIT) },
      });
      s = running.server;
      await s.environment({ id: TENANT, name: 'Limits', tier: 'development' });
      await s.user('ops', {}, { password: 'ops password 1', admin: true });
      dupAuth = await login(s, 'ops', 'ops password 1');
    });
    after(async () => running?.stop());

    const admin = () => ({ authorization: `Bearer ${s.adminKey}` });
    const fileCount = async () => (await s.native('GET', '/files')).items.length;
    const overUpload = () => Buffer.alloc(UPLOAD_LIMIT + 10_000, 1);

    it('dev2prod attachment: a file over FERRY_UPLOAD_LIMIT, with a Content-Length or chunked, is a 413 naming the limit', async () => {
      const before = await fileCount();
      const path = `/rest/${TENANT}/ces/attachment`;
      const file = () => form({}, { field: 'Files[]', bytes: overUpload(), name: 'big.ferry' });
      const declared = await s.http('POST', path, { headers: admin(), body: file() });
      assert.equal(declared.status, 413, declared.text);
      assert.match(declared.json.message, UPLOAD_413);
      const chunked = await sendChunked(s.base, path, admin(), file());
      assert.equal(chunked.status, 413, JSON.stringify(chunked.json));
      assert.equal(chunked.json.code, 'PAYLOAD_TOO_LARGE');
      assert.match(chunked.json.message, UPLOAD_413);
      assert.equal(await fileCount(), before);
    });

    it('duplication restoration: a package over FERRY_UPLOAD_LIMIT is a 413 naming the limit; metadata over its 1 MiB is a 413 naming the field', async () => {
      const before = await fileCount();
      const path = '/api/projectDuplications/restoration';
      const file = () => form({ metadata: RESTORE_METADATA }, { field: 'file', bytes: overUpload(), name: 'big.projdup' });
      for (const r of [await s.http('POST', path, { headers: dupAuth, body: file() }), await sendChunked(s.base, path, dupAuth, file())]) {
        assert.equal(r.status, 413, JSON.stringify(r.json));
        assert.match(r.json.message, UPLOAD_413);
      }
      const bigMetadata = form({ metadata: ' '.repeat(1024 * 1024) + RESTORE_METADATA }, { field: 'file', bytes: Buffer.alloc(10, 1), name: 'p.projdup' });
      const meta = await s.http('POST', path, { headers: dupAuth, body: bigMetadata });
      assert.equal(meta.status, 413, meta.text);
      assert.match(meta.json.message, /^the multipart field metadata is larger than its 1 MiB limit; nothing was written$/);
      assert.equal(await fileCount(), before);
    });

    it('sync import: a pack file over FERRY_BODY_LIMIT is a 413 naming the limit; options over their 64 KiB is a 413 naming the field', async () => {
      const path = '/sync/api/v1/admin/projects/sync/import';
      const headers = { ...admin(), 'x-ferry-environment': TENANT };
      const version = (await s.native('GET', `/environments/${TENANT}`)).version;
      const bigPack = () => form({}, { field: 'file', bytes: Buffer.from(`{"roles": []${' '.repeat(BODY_LIMIT)}}`), name: 'pack.json' });
      for (const r of [await s.http('POST', path, { headers, body: bigPack() }), await sendChunked(s.base, path, headers, bigPack())]) {
        assert.equal(r.status, 413, JSON.stringify(r.json));
        assert.equal(r.json.code, 'PAYLOAD_TOO_LARGE');
        assert.match(r.json.message, /^the upload is larger than the 64 KiB limit \(FERRY_BODY_LIMIT\); nothing was stored$/);
      }
      const bigOptions = form(
        { options: `{"roles": "Always"${' '.repeat(64 * 1024)}}` },
        { field: 'file', bytes: Buffer.from('{"roles": []}'), name: 'pack.json' },
      );
      const opts = await s.http('POST', path, { headers, body: bigOptions });
      assert.equal(opts.status, 413, opts.text);
      assert.match(opts.json.message, /^the multipart field options is larger than its 64 KiB limit; nothing was written$/);
      assert.equal((await s.native('GET', `/environments/${TENANT}`)).version, version);
    });
  });
}
