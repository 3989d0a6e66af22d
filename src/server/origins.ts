import type { FastifyInstance } from 'fastify';

/**
 * Where a browser reaches this server: the origins its own listening
 * address answers as (a loopback address also as `localhost`; an any-address
 * bind as `localhost` and 127.0.0.1), known once it listens.
 */
export function listenOrigins(app: FastifyInstance): string[] {
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') return [];
  const { address, port } = addr;
  const any = address === '0.0.0.0' || address === '::';
  const loopback = address === '127.0.0.1' || address === '::1';
  const own = addr.family === 'IPv6' ? `[${address}]` : address;
  const hosts = any ? ['localhost', '127.0.0.1'] : loopback ? [own, 'localhost'] : [own];
  return hosts.map((h) => `http://${h}:${port}`);
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * The server URL the OpenAPI document names (what "Try it out" in /docs
 * calls): FERRY_PUBLIC_URL when it is set, else the address the server
 * listens on (the default public URL names localhost, which a page loaded
 * from 127.0.0.1 would reach cross-origin).
 */
export function documentedServer(app: FastifyInstance, publicUrl: string, publicUrlSet: boolean): string {
  if (publicUrlSet) return publicUrl;
  return listenOrigins(app)[0] ?? publicUrl;
}

/** Origins of apps that listen, by public URL: a listening address does not change, and every response asks (CSP, CORS). */
const listening = new WeakMap<FastifyInstance, { publicUrl: string; origins: string[] }>();

/** Every origin of this server: its public URL and its listening addresses (kept once it listens). */
export function ownOrigins(app: FastifyInstance, publicUrl: string): string[] {
  const known = listening.get(app);
  if (known?.publicUrl === publicUrl) return known.origins;
  const pub = originOf(publicUrl);
  const heard = listenOrigins(app);
  const origins = [...new Set([...(pub ? [pub] : []), ...heard])];
  if (heard.length > 0) listening.set(app, { publicUrl, origins });
  return origins;
}

/**
 * CORS for this server's own pages only: /docs loaded from one of its
 * addresses may call the API at another (the public URL, or 127.0.0.1 when
 * the page came from localhost), and the browser first asks with a
 * preflight. Other origins get no CORS headers (the browser keeps its
 * same-origin rule). Credentials travel in headers, so no cookies are allowed
 * cross-origin.
 *
 * Written here rather than with @fastify/cors, which this replaced: its hook
 * did its whole work on every request, with an Origin header or without
 * (the route's options built twice, its own options copied, Vary merged), 5 µs
 * of the 55 µs a status poll cost the server (bench/http.ts, server CPU per
 * request, pinned A/B). A request without an Origin header is no CORS
 * request: it gets `Vary: Origin` (its answer must not be cached for one that
 * has one) and nothing else. The rest is what that plugin did with these
 * options: an own origin gets Access-Control-Allow-Origin (that origin) and
 * the exposed headers; its preflight (OPTIONS with
 * Access-Control-Request-Method) is answered 204 at once, before any
 * authentication, with the methods, the request headers it asked for, and
 * a max age; any other OPTIONS request is refused as a call without a
 * credential is, then a 404.
 */
export function registerCors(app: FastifyInstance, publicUrl: string): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined || !ownOrigins(app, publicUrl).includes(origin)) return done();
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return done();
    reply.header('access-control-allow-methods', ALLOWED_METHODS);
    const asked = request.headers['access-control-request-headers'];
    if (asked) reply.header('access-control-allow-headers', asked);
    reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S));
    reply.code(204).header('content-length', '0').send();
  });
  // Lets an OPTIONS request reach the hook above on every path; one that is no preflight from an own origin is a 404 (after authentication).
  app.options('*', { schema: { hide: true } }, (_request, reply) => reply.callNotFound());
}

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const EXPOSED_HEADERS = 'x-request-id, location, retry-after, content-disposition';
const PREFLIGHT_MAX_AGE_S = 600;
