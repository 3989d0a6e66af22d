import { request as httpRequest } from 'node:http';

export interface HttpRes {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, undefined when it is not JSON. */
  json: any;
  bytes: Buffer;
}

export interface HttpOptions {
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  /** Sent as it is (set the content type in `headers`). */
  body?: string | Buffer | FormData;
  /** Aborts the request (e.g. `AbortSignal.timeout(ms)`). */
  signal?: AbortSignal;
}

/**
 * One request with node:http rather than fetch: a face may select the
 * environment by the `Host` header, which fetch does not let a caller set.
 */
export async function request(base: string, method: string, path: string, opts: HttpOptions = {}): Promise<HttpRes> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: Buffer | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = Buffer.from(JSON.stringify(opts.json));
  } else if (opts.form) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = Buffer.from(new URLSearchParams(opts.form).toString());
  } else if (opts.body instanceof FormData) {
    // Let the platform encode multipart (with its boundary) as a browser would.
    const encoded = new Request('http://multipart.invalid/', { method: 'POST', body: opts.body });
    headers['content-type'] ??= encoded.headers.get('content-type')!;
    body = Buffer.from(await encoded.arrayBuffer());
  } else if (opts.body !== undefined) {
    body = Buffer.from(opts.body);
  }
  if (body) headers['content-length'] = String(body.length);
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, ...(opts.signal ? { signal: opts.signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: h, text, json, bytes });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer of `callJson`: the body parsed as JSON (undefined when it is not JSON) and as text. */
export interface JsonRes {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/**
 * One call of a JSON API as a bearer `key` (null: none): `body` is sent as
 * JSON, a string or Buffer as it is (name its content type in
 * `opts.headers`); `path` is appended to `base` as it is, so `base` may carry
 * a prefix (`http://127.0.0.1:3000/api/v1`).
 *
 * @example const r = await callJson(base, 'POST', '/environments', { id: 'dev' }, key);
 */
export async function callJson(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = null,
  opts: Pick<HttpOptions, 'headers' | 'signal'> = {},
): Promise<JsonRes> {
  const headers = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...opts.headers };
  const payload: HttpOptions = typeof body === 'string' || Buffer.isBuffer(body) ? { body } : body !== undefined ? { json: body } : {};
  // An absolute URL: `base` keeps its path prefix (new URL(path, base) would drop it).
  const r = await request(base, method, base + path, { ...payload, headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  return { status: r.status, body: r.json, text: r.text, headers: r.headers };
}
