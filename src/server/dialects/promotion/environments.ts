import type { FastifyRequest } from 'fastify';
import type { Environment } from '../../../core/types.js';
import { ValidationError } from '../../../core/errors.js';
import { unknownHost } from '../../../engine/environments.js';
import { hostName } from '../environment.js';
import type { DialectContext } from '../types.js';

/**
 * How 003 names an environment in a package's `source` and an
 * installation's `environment`: a URL (`https://{domain}.{environment}.workfront.com`).
 * Ferry's is the environment's first host on this server's scheme and port;
 * an environment without hosts is named by the server's own address (a
 * client then picks it with X-Ferry-Environment).
 */
export function environmentUrl(env: Pick<Environment, 'hosts'>, publicUrl: string): string {
  const base = new URL(publicUrl);
  const host = env.hosts[0];
  if (!host) return base.origin;
  return `${base.protocol}//${host.includes(':') ? `[${host}]` : host}${base.port ? `:${base.port}` : ''}`;
}

/** The host form 003's prepare answer uses (`"environment": "mmi.my.workfront.com"`). */
export function environmentHost(env: Pick<Environment, 'hosts'>, publicUrl: string): string {
  return env.hosts[0] ?? new URL(publicUrl).host;
}

/**
 * The environment a `source` URL names: the one whose `hosts` holds its host
 * name. The server's own address (or the request's Host) names no particular
 * environment: null, the request's environment decides. A host no
 * environment has, or one of an environment the caller cannot see, is the
 * same 400, so the answer says nothing about other tenants.
 */
export async function environmentOfSource(ctx: DialectContext, request: FastifyRequest, source: string): Promise<Environment | null> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ValidationError(`body.source must be a URL such as https://{domain}.{environment}.workfront.com; "${source}" is not one`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError(`body.source must be an http or https URL; "${source}" is not one`);
  const host = hostName(url.host);
  const access = ctx.ferry.access(request);
  const match = (await ctx.ferry.engine.listEnvironments()).find((e) => host !== null && e.hosts.includes(host));
  if (match && access.can(match.id, 'viewer')) return match;
  if (!match && (host === hostName(new URL(ctx.ferry.engine.publicUrl).host) || host === hostName(request.headers.host))) return null;
  throw unknownHost(`body.source ${source}`, host, await access.visibleEnvironments());
}
