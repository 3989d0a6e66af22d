import type { FastifyRequest } from 'fastify';
import { ValidationError } from '../../core/errors.js';
import type { Environment } from '../../core/types.js';
import type { Role } from '../../engine/auth.js';
import type { ServerContext } from '../app.js';
import type { EnvironmentSource } from './types.js';

/** The header that names the environment of a request where the path and the Host do not. */
const ENV_HEADER = 'X-Ferry-Environment';

/** The request names no environment by any of its face's sources: a 400 saying how to name one. */
export class NoEnvironmentNamedError extends ValidationError {}

/** The host name of a `Host` header, without port, lower case (`[::1]:8080` -> `::1`). */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  if (v6) return v6[1]!;
  return h.replace(/:\d+$/, '') || null;
}

/** The environment id a request names through one source, or null when that source names none. */
async function candidate(request: FastifyRequest, ferry: ServerContext, source: EnvironmentSource, envParam: string | undefined): Promise<string | null> {
  switch (source) {
    case 'path': {
      const v = envParam ? (request.params as Record<string, string | undefined>)[envParam] : undefined;
      return v || null;
    }
    case 'host': {
      const host = hostName(request.headers.host);
      if (!host) return null;
      // Environments are few (tenants of one server); hosts are stored lower case. Read at most 250 ms ago: every request asks.
      const match = (await ferry.engine.recentEnvironments()).find((e) => e.hosts.includes(host));
      return match?.id ?? null;
    }
    case 'header': {
      const v = request.headers['x-ferry-environment'];
      return (Array.isArray(v) ? v[0] : v)?.trim() || null;
    }
    case 'home': {
      // A user's home is the one environment they hold a role on; server
      // admins and users of several environments have none and must say which.
      const p = request.principal;
      if (!p || p.admin) return null;
      const ids = Object.keys(p.roles);
      return ids.length === 1 ? ids[0]! : null;
    }
  }
}

/**
 * Resolve the environment of a request by the face's sources in order. The
 * first source that names one decides (a `Host` that matches no environment
 * names none, so `127.0.0.1:8080` falls through to the header). Visibility
 * and roles are checked by `Access.env`, so an environment the caller cannot
 * see reads exactly like one that does not exist.
 */
export async function resolveEnvironment(
  request: FastifyRequest,
  ferry: ServerContext,
  sources: readonly EnvironmentSource[],
  envParam: string | undefined,
  need: Role,
  what: string,
  opts: { recent?: boolean } = {},
): Promise<Readonly<Environment & { lockedBy: string | null }>> {
  for (const source of sources) {
    const id = await candidate(request, ferry, source, envParam);
    if (!id) continue;
    // A header names it as a body field would (the URL was right): a 400 with the closest ids the caller can see.
    if (source === 'header') return ferry.access(request).envIn(ENV_HEADER, id, need, what, opts);
    return ferry.access(request).env(id, need, what, opts);
  }
  const how: Record<EnvironmentSource, string> = {
    path: 'the environment id in the path',
    host: 'a Host header naming one of its hosts',
    header: 'an X-Ferry-Environment header',
    home: 'a user with a role on exactly one environment',
  };
  throw new NoEnvironmentNamedError(`this request names no environment; name one with ${sources.map((s) => how[s]).join(', or ')}`);
}
