import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Environment } from '../../core/types.js';
import type { Role } from '../../engine/auth.js';
import type { ServerContext } from '../app.js';
import type { CredentialSource } from '../auth.js';
import type { ErrorBody } from '../errors.js';
import type { FaceResponses } from './responses.js';

/**
 * Where an API face finds the environment a request concerns, tried in the
 * order the face declares:
 * - `path`: a path parameter (`DialectSpec.envParam`), e.g. dev2prod's `{tenant_id}`;
 * - `host`: the request's `Host` against the environments' `hosts`;
 * - `header`: `X-Ferry-Environment`;
 * - `home`: the caller's home environment (the one environment a user holds a role on).
 */
export type EnvironmentSource = 'path' | 'host' | 'header' | 'home';

/** What a face declares about itself; the mounting does the rest (see mount.ts). */
export interface DialectSpec {
  /** Short name, e.g. `promotion`; also the OpenAPI tag. */
  name: string;
  /** Mount point, e.g. `/environment-promotion/api/v1` ('' for the server root). */
  prefix: string;
  /** One line for the OpenAPI tag: what the face is compatible with. */
  description: string;
  /** Environment resolution, in order. */
  environmentFrom: readonly EnvironmentSource[];
  /** The path parameter that names the environment, for `path`. */
  envParam?: string;
  /** Where its clients send credentials, in order of precedence. */
  credentials: readonly CredentialSource[];
  /**
   * The face's error body for an error Ferry answers with `status` and
   * `{code, message}`: each product document has its own shape, and this is
   * the one place a face maps to it.
   */
  errorBody(status: number, error: ErrorBody, request: FastifyRequest): unknown;
  /** Response schemas by `METHOD path` (path below `prefix`), for the OpenAPI document: see responses.ts. */
  responses?: FaceResponses;
  /** The face's routes, registered inside its own encapsulated plugin under `prefix`. */
  routes(app: FastifyInstance, ctx: DialectContext): Promise<void>;
}

/** What a face's handlers get besides Fastify: the server's shared parts and environment resolution. */
export interface DialectContext {
  ferry: ServerContext;
  /**
   * The environment of the request (by the face's `environmentFrom`), visible
   * to the caller and with at least `need` there: an invisible one is a 404
   * exactly like a missing one; none found is a 400 saying how to name one.
   */
  environment(request: FastifyRequest, need?: Role, what?: string): Promise<Readonly<Environment & { lockedBy: string | null }>>;
  /**
   * The same for a status read (viewer): the environment as read at most
   * 250 ms ago (engine.recentEnvironments), its install lock included. Never
   * for a write.
   */
  recentEnvironment(request: FastifyRequest): Promise<Readonly<Environment & { lockedBy: string | null }>>;
}
