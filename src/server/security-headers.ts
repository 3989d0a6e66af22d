import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
 * every response gets the headers it produced, handed to Fastify as one
 * object (its reply headers: Node validates them once, when the response is
 * written). @fastify/helmet builds and runs helmet's middleware anew at every
 * request: a sixth of the CPU of a status poll. Helmet also removes
 * X-Powered-By, which Fastify never sets: only the headers it sets are kept.
 *
 * The request id rides along (`x-request-id`, the id in the access log), so
 * that one hook does both.
 */
export function registerSecurityHeaders(app: FastifyInstance, ownOrigins: () => string[]): (request: FastifyRequest, reply: FastifyReply) => void {
  let kept: { list: string[]; origins: string; headers: Record<string, string> } | undefined;
  const headersFor = (list: string[]): Record<string, string> => {
    // ownOrigins answers the same array once the server listens: no join per request.
    if (kept?.list === list) return kept.headers;
    const origins = list.join(' ');
    if (kept?.origins !== origins) kept = { list, origins, headers: securityHeaders(origins) };
    else kept.list = list;
    return kept.headers;
  };
  const stamp = (request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(headersFor(ownOrigins()));
    reply.header('x-request-id', request.id);
  };
  app.addHook('onRequest', (request, reply, done) => {
    stamp(request, reply);
    done();
  });
  // For the errors Fastify answers before any hook runs (a malformed URL): the frameworkErrors handler stamps them.
  return stamp;
}

/** The headers helmet sets, with these origins in connect-src (lower-case names, as Fastify keeps them). */
function securityHeaders(origins: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of headerChanges(origins)) if (value !== null) headers[name.toLowerCase()] = value;
  return headers;
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
