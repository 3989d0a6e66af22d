import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** A security header helmet sets (a value) or removes (null). */
type HeaderChange = readonly [name: string, value: string | null];

/**
 * Security headers on every response (helmet): nosniff, no framing,
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
 *
 * The headers depend on nothing but the server's own origins, so helmet
 * runs once per set of origins (once the server listens, once for good) and
 * every response gets the headers it produced. (@fastify/helmet builds and
 * runs helmet's middleware anew at every request: a sixth of the CPU of a
 * status poll.)
 */
export async function registerSecurityHeaders(app: FastifyInstance, ownOrigins: () => string[]): Promise<void> {
  let kept: { origins: string; changes: HeaderChange[] } | undefined;
  const changesFor = (origins: string): HeaderChange[] => {
    if (kept?.origins === origins) return kept.changes;
    kept = { origins, changes: headerChanges(origins) };
    return kept.changes;
  };
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of changesFor(ownOrigins().join(' '))) {
      if (value === null) reply.raw.removeHeader(name);
      else reply.raw.setHeader(name, value);
    }
    done();
  });
}

/** What helmet's middleware does to a response, with these origins in connect-src. */
export function headerChanges(origins: string): HeaderChange[] {
  const changes: HeaderChange[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => void changes.push([name, String(value)]),
    removeHeader: (name: string) => void changes.push([name, null]),
  };
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        // The server's own addresses, known once it listens.
        'connect-src': ["'self'", origins],
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
  })({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error('helmet refused the security header options');
  });
  return changes;
}
