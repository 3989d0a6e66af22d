import type { FastifyPluginAsync } from 'fastify';
import { OPERATION_STATUSES, type OperationStatus } from '../../store/operations-store.js';
import { conflict, errors, idParam, listOf, offsetQuery, operationSchema } from '../schemas.js';

/** Operations: list, get (status, progress, result), cancel. */
export const operationRoutes: FastifyPluginAsync = async (app) => {
  const { runner, operations } = app.ferry;

  app.get<{ Querystring: { kind?: string; status?: OperationStatus; environmentId?: string; limit: number; offset: number } }>(
    '/operations',
    {
      schema: {
        tags: ['operations'],
        summary: 'Operations on environments you can see, and yours; newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string' },
            status: { type: 'string', enum: [...OPERATION_STATUSES] },
            environmentId: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            offset: offsetQuery,
          },
        },
        response: { 200: listOf(operationSchema), 401: errors[401] },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const { kind, status, environmentId, limit, offset } = request.query;
      let envIds = access.visibleEnvIds();
      let orCreatedBy: string | undefined = access.principal.username;
      if (environmentId) {
        envIds = !envIds || envIds.includes(environmentId) ? [environmentId] : [];
        orCreatedBy = undefined;
      } else if (!envIds) orCreatedBy = undefined;
      return operations.list({ kind, status, envIds, orCreatedBy, limit, offset });
    },
  );

  app.get<{ Params: { operationId: string } }>(
    '/operations/:operationId',
    {
      schema: {
        tags: ['operations'],
        summary: 'One operation: status, progress 0-100, message, result or error',
        params: idParam('operationId'),
        response: { 200: operationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const hit = await operations.getWithJson(request.params.operationId);
      app.ferry.access(request).operation(hit?.op, request.params.operationId);
      // Already serialized (see OperationsStore.getWithJson): sent as it is.
      return reply.type('application/json; charset=utf-8').send(hit!.json);
    },
  );

  app.post<{ Params: { operationId: string } }>(
    '/operations/:operationId/cancel',
    {
      schema: {
        tags: ['operations'],
        summary: 'Cancel an operation (whoever started it, or a promoter of its environment)',
        description:
          'A QUEUED operation ends CANCELLED at once (200). A RUNNING one is asked to stop at its next checkpoint (202, cancelRequested); a cancelled install rolls its one transaction back, so the target is exactly as it was. 409 once it finished.',
        params: idParam('operationId'),
        response: { 200: operationSchema, 202: operationSchema, ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const op = access.operation(await operations.get(request.params.operationId), request.params.operationId, 'promoter');
      const after = await runner.cancel(op.id);
      await app.ferry.engine.store.audit.append({
        actor: access.principal.username,
        address: access.address,
        action: 'operation.cancel',
        envId: op.environmentId,
        subject: op.id,
        result: 'ok',
        detail: { kind: op.kind, status: after.status },
      });
      return reply.status(after.status === 'CANCELLED' ? 200 : 202).send(after);
    },
  );
};
