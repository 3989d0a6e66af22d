// Uploads whose body is cut short, sent over a raw socket as a broken client
// would: a Content-Length larger than what is sent before the client stops
// sending, and multipart bodies that end inside a part or without the closing
// boundary. Every upload route (the duplication face's restoration, on POST
// /restoration and on a multipart PUT /{id}; the dev2prod attachment; the
// native upload) answers 400 while the client waits, keeps nothing, and the
// server stays up. Such bodies once hung the request for good.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { eachServer, type DialectServer } from './harness.js';
import { login } from './duplication-support.js';

/** What the server answered (its status and body), or null if it closed without answering or never answered. */
function rawRequest(
  base: string,
  head: string,
  body: Buffer,
  opts: { stopWriting: 'half-close' | 'complete' },
): Promise<{ status: number; text: string } | null> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    let answer = '';
    // Well inside the test's timeout: a request still unanswered by then hangs.
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, 20_000);
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})[^]*?content-length: (\d+)\r\n[^]*?\r\n\r\n/i.exec(answer);
      if (m && Buffer.byteLength(answer, 'latin1') >= m[0].length + Number(m[2])) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ status: Number(m[1]), text: answer.slice(m[0].length) });
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(null);
    });
    socket.write(head);
    socket.write(body);
    // The client stops sending: the rest of what it announced never comes.
    if (opts.stopWriting === 'half-close') socket.end();
  });
}

function requestHead(method: string, path: string, headers: Record<string, string>, length: number): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${length}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const BOUNDARY = 'cutshort';
/** A form as the restoration takes it, or as the dev2prod attachment takes it, with `payload` as the file and no end yet. */
function formStart(fileField: string, withMetadata: boolean): Buffer {
  const metadata = withMetadata
    ? `--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify({ target: { environment: { id: 'x', name: 'x' }, project: { name: 'Cut short' } } })}\r\n`
    : '';
  return Buffer.from(
    `${metadata}--${BOUNDARY}\r\nContent-Disposition: form-data; name="${fileField}"; filename="p.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
}

eachServer('uploads cut short', (server) => {
  let s: DialectServer;
  let dupAuth: Record<string, string>;
  const TENANT = '314159265';

  before(async () => {
    s = server();
    await s.environment({ id: TENANT, name: 'Production', tier: 'production' });
    await s.user('ops', {}, { password: 'ops password 1', admin: true });
    dupAuth = await login(s, 'ops', 'ops password 1');
  });

  const fileCount = async () => (await s.native('GET', '/files')).items.length;
  const stillUp = async () => assert.equal((await s.http('GET', '/api/status')).status, 200);
  // The start of a gzip stream (as a bundle and a package are): a reader of it waits for the rest.
  const payload = gzipSync(randomBytes(100_000)).subarray(0, 100_000);

  const multipartRoutes = () =>
    [
      { what: 'restoration (POST)', method: 'POST', path: '/api/projectDuplications/restoration', field: 'file', metadata: true, auth: dupAuth },
      { what: 'restoration (PUT /{id})', method: 'PUT', path: `/api/projectDuplications/${'a'.repeat(32)}`, field: 'file', metadata: true, auth: dupAuth },
      {
        what: 'dev2prod attachment',
        method: 'POST',
        path: `/rest/${TENANT}/ces/attachment`,
        field: 'Files[]',
        metadata: false,
        auth: { authorization: `Bearer ${s.adminKey}` },
      },
    ] as const;

  it(
    'a multipart body shorter than its Content-Length, then the client stops sending: 400, nothing kept, the server stays up',
    { timeout: 60_000 },
    async () => {
      const before = await fileCount();
      for (const r of multipartRoutes()) {
        for (const sent of [formStart(r.field, r.metadata), Buffer.concat([formStart(r.field, r.metadata), payload])]) {
          const head = requestHead(r.method, r.path, { ...r.auth, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, sent.length + 50_000);
          const res = await rawRequest(s.base, head, sent, { stopWriting: 'half-close' });
          assert.equal(res?.status, 400, `${r.what}, ${sent.length} bytes of ${sent.length + 50_000}: ${res ? `${res.status} ${res.text}` : 'no answer'}`);
          // Node's HTTP server itself may refuse a request whose sender stopped short (a bare 400): also fine.
          assert.match(res.text, /multipart|Bad Request/i, r.what);
        }
      }
      assert.equal(await fileCount(), before);
      await stillUp();
    },
  );

  it('a whole request whose multipart body ends inside the file part, or without the closing boundary: 400, nothing kept', { timeout: 60_000 }, async () => {
    const before = await fileCount();
    for (const r of multipartRoutes()) {
      const bodies = [
        ['ends inside the file part', Buffer.concat([formStart(r.field, r.metadata), payload])],
        ['ends inside the file part (one packet)', Buffer.concat([formStart(r.field, r.metadata), payload.subarray(0, 100)])],
        ['no closing boundary', Buffer.concat([formStart(r.field, r.metadata), payload, Buffer.from(`\r\n`)])],
        ['no closing boundary (one packet)', Buffer.concat([formStart(r.field, r.metadata), payload.subarray(0, 100), Buffer.from(`\r\n`)])],
        [
          'a whole file, then a field cut short',
          Buffer.concat([
            formStart(r.field, false),
            payload,
            Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"target": {"envir`),
          ]),
        ],
      ] as const;
      for (const [how, body] of bodies) {
        const head = requestHead(r.method, r.path, { ...r.auth, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body.length);
        const res = await rawRequest(s.base, head, body, { stopWriting: 'complete' });
        assert.equal(res?.status, 400, `${r.what}, ${how}: ${res ? `${res.status} ${res.text}` : 'no answer'}`);
        assert.match(res.text, /multipart/i, `${r.what}, ${how}`);
      }
    }
    assert.equal(await fileCount(), before);
    await stillUp();
  });

  it('the native upload: raw bytes shorter than their Content-Length, then the client stops sending: 400, nothing kept', { timeout: 60_000 }, async () => {
    const before = await fileCount();
    const head = requestHead(
      'POST',
      '/api/v1/files',
      { authorization: `Bearer ${s.adminKey}`, 'Content-Type': 'application/octet-stream' },
      payload.length + 50_000,
    );
    const res = await rawRequest(s.base, head, payload, { stopWriting: 'half-close' });
    assert.equal(res?.status, 400, res ? `${res.status} ${res.text}` : 'no answer');
    assert.equal(await fileCount(), before);
    await stillUp();
  });
});
