/**
 * Each environment's Manage root: `/sync/{env}` names it in the path;
 * `/sync` alone leaves it to the Host, X-Ferry-Environment or the caller's
 * home environment. The product's Admin API lives under `api/v1/admin/`
 * (an environment called `api` is reachable only the second way).
 */
export const MANAGE_ROOTS = ['/sync/:envId/api/v1/admin', '/sync/api/v1/admin'] as const;
