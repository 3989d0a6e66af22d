import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every response (@fastify/helmet): nosniff, no framing,
 * no referrer, HSTS, and a content security policy. The policy is helmet's
 * default, tightened, with what /docs (swagger-ui) needs and nothing more:
 * its scripts and styles are files under /docs/static (script-src 'self'
 * is enough, no inline script), it sets inline style attributes
 * (style-src 'unsafe-inline'), draws icons as data: images, and its "Try it
 * out" calls the API at the server's public URL (connect-src), which may
 * differ from the address the page was loaded from (see origins.ts).
 *
 * No `upgrade-insecure-requests`: Ferry serves plain HTTP unless a proxy in
 * front terminates TLS, and that directive would send the browser to https
 * URLs that do not exist.
 */
export async function registerSecurityHeaders(app: FastifyInstance, ownOrigins: () => string[]): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        // The server's own addresses, known once it listens: read per response.
        'connect-src': ["'self'", () => ownOrigins().join(' ')],
        'font-src': ["'self'", 'data:'],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'img-src': ["'self'", 'data:'],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
