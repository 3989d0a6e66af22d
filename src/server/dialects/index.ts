import type { DialectSpec } from './types.js';
import { promotion } from './promotion/index.js';
import { syncDialect } from './sync/index.js';
import { DEV2PROD } from './dev2prod/index.js';
import { duplication } from './duplication/index.js';

/**
 * The API faces a server mounts by default, each in its own folder beside
 * this file (see README.md there). A face imports only the engine, the
 * server's shared parts and this folder's plumbing: never another face, never
 * the store.
 */
export const DIALECTS: readonly DialectSpec[] = [promotion, syncDialect, ...DEV2PROD, duplication];

export type { DialectSpec, DialectContext, EnvironmentSource } from './types.js';
