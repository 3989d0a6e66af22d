import cors from '@fastify/cors';
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
 */
export async function registerCors(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(cors, {
    origin: (origin, cb) => cb(null, !!origin && ownOrigins(app, publicUrl).includes(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['x-request-id', 'location', 'retry-after', 'content-disposition'],
    maxAge: 600,
  });
}
