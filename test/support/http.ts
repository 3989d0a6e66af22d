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
    const req = httpRequest(url, { method, headers }, (res) => {
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
