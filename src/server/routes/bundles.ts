import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import type { Override } from '../../core/plan.js';
import { ValidationError } from '../../core/errors.js';
import { submitExport, submitImport } from '../../ops/submit.js';
import { receiveBundle } from '../../engine/bundle-files.js';
import { assertAssembled } from '../../engine/packages.js';
import { accepted, conflict, errorSchema, errors, fileSchema, idParam, listOf, overrideSchema } from '../schemas.js';

const fileParams = idParam('fileId', 'File id');
const tooLarge = { 413: { ...errorSchema, description: 'Over the upload limit (FERRY_UPLOAD_LIMIT); nothing stored' } } as const;

/** Bundles: export a package to a file (an operation), list, download, upload, delete, import (an operation, dry run or not). */
export const bundleRoutes: FastifyPluginAsync = async (app) => {
  const { engine, runner, files, config } = app.ferry;

  app.post<{ Params: { packageId: string } }>(
    '/packages/:packageId/export',
    {
      schema: {
        tags: ['bundles'],
        summary: 'Export a package as a .ferry bundle into the file store (promoter on the source); an operation',
        description: 'The operation result holds the file: download it from GET /api/v1/files/{fileId}/content.',
        params: idParam('packageId'),
        response: { 202: accepted('the export'), ...errors, ...conflict },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const pkg = await access.package(request.params.packageId, 'promoter', 'exporting a package');
      // Refused now rather than by a failed operation. dev2prod refuses the same with a 400: its document has no 409.
      assertAssembled(pkg, 'nothing to export');
      const operation = await submitExport(runner, pkg, access.requester);
      return reply.status(202).send({ operation });
    },
  );

  app.get(
    '/signing-key',
    {
      schema: {
        tags: ['bundles'],
        summary: "This server's bundle signing key: every bundle it exports is signed with it",
        description:
          'Ed25519. Give the fingerprint (or the key) to `trustedSigningKeys` of an environment, on this server or another, ' +
          'to have it accept only bundles this server signed. The key is made at first start and shared by every server process on the database.',
        response: {
          200: {
            type: 'object',
            properties: {
              algorithm: { type: 'string', enum: ['ed25519'] },
              fingerprint: { type: 'string', description: 'SHA256:<base64 of the SHA-256 of the raw key>, as `ferry verify` prints it' },
              publicKey: { type: 'string', description: 'The 32 raw bytes of the public key, base64 (as a signed trailer names it)' },
              publicKeyPem: { type: 'string', description: 'The same key as a PEM (SPKI) document' },
              createdAt: { type: 'string' },
            },
          },
          401: errors[401],
        },
      },
    },
    async (request) => {
      app.ferry.access(request);
      const key = await engine.signingKey();
      return { algorithm: key.algorithm, fingerprint: key.fingerprint, publicKey: key.publicKey, publicKeyPem: key.publicKeyPem, createdAt: key.createdAt };
    },
  );

  app.get(
    '/files',
    {
      schema: {
        tags: ['bundles'],
        summary: 'Files you can see: exports of your environments, your uploads',
        response: { 200: listOf(fileSchema), 401: errors[401] },
      },
    },
    async (request) => {
      const access = app.ferry.access(request);
      const visible = access.visibleEnvIds();
      const items = await files.list(visible ? { envIds: visible, orCreatedBy: access.principal.username } : {});
      return { items, total: items.length };
    },
  );

  app.post<{ Querystring: { name?: string }; Body: Readable }>(
    '/files',
    {
      schema: {
        tags: ['bundles'],
        summary: 'Upload a .ferry bundle (raw bytes: Content-Type application/octet-stream or application/gzip); promoter somewhere',
        description: `Streamed to disk; over the limit (FERRY_UPLOAD_LIMIT, default 1 GiB) the answer is 413 and nothing is stored. The bundle is verified whole (format, trailer, digest): a damaged one is a 400 and is not kept. Import it with POST /api/v1/imports.`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 200, description: 'File name to show (default upload.ferry)' } },
        },
        response: { 201: fileSchema, ...errors, ...tooLarge, 415: { ...errorSchema, description: 'Not a raw body' } },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      access.requirePromoterSomewhere('uploading a bundle');
      const body = request.body as unknown;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        throw new ValidationError('send the bundle as the raw request body with Content-Type: application/octet-stream');
      }
      const name = (request.query.name ?? 'upload.ferry').replace(/[^\w.-]+/g, '-');
      const file = await receiveBundle(
        engine,
        files,
        body as Readable,
        { limit: config.uploadLimit, name, environmentId: null, declaredBytes: Number(request.headers['content-length']) },
        access.actor,
      );
      return reply.status(201).send(file);
    },
  );

  app.get<{ Params: { fileId: string } }>(
    '/files/:fileId',
    { schema: { tags: ['bundles'], summary: "A file's details", params: fileParams, response: { 200: fileSchema, ...errors } } },
    async (request) => app.ferry.access(request).file(await files.get(request.params.fileId), request.params.fileId),
  );

  app.get<{ Params: { fileId: string } }>(
    '/files/:fileId/content',
    {
      schema: {
        tags: ['bundles'],
        summary: 'Download a file (the .ferry bundle bytes)',
        params: fileParams,
        produces: ['application/gzip'],
        response: { 200: { type: 'string', format: 'binary' }, ...errors },
      },
    },
    async (request, reply) => {
      const f = app.ferry.access(request).file(await files.get(request.params.fileId), request.params.fileId);
      reply.header('content-type', 'application/gzip');
      reply.header('content-length', String(f.bytes));
      reply.header('content-disposition', `attachment; filename="${f.name}"`);
      reply.header('x-content-sha256', f.sha256);
      return reply.send(files.open(f.id));
    },
  );

  app.delete<{ Params: { fileId: string } }>(
    '/files/:fileId',
    {
      schema: {
        tags: ['bundles'],
        summary: 'Delete a file (its uploader, a promoter of its environment, or a server admin)',
        params: fileParams,
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const f = access.file(await files.get(request.params.fileId), request.params.fileId);
      if (f.createdBy !== access.principal.username && !(f.environmentId && access.can(f.environmentId, 'promoter'))) {
        access.requireServerAdmin("deleting someone else's file");
      }
      await files.remove(f.id);
      await engine.store.audit.append({
        actor: access.principal.username,
        address: access.address,
        action: 'file.delete',
        envId: f.environmentId,
        subject: f.id,
        result: 'ok',
        detail: { name: f.name },
      });
      return reply.status(204).send();
    },
  );

  app.post<{ Body: { fileId: string; targetEnvId: string; dryRun?: boolean; overrides?: Override[]; force?: boolean } }>(
    '/imports',
    {
      schema: {
        tags: ['bundles'],
        summary: 'Import a bundle into a target (promoter on the target): verify, store as a package, prepare, and install unless dryRun; an operation',
        description: 'The operation result names the package and the installation (the plan); with dryRun nothing is written in the target.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['fileId', 'targetEnvId'],
          properties: {
            fileId: { type: 'string', minLength: 1 },
            targetEnvId: { type: 'string', minLength: 1 },
            dryRun: { type: 'boolean', default: false },
            overrides: { type: 'array', items: overrideSchema, default: [] },
            force: { type: 'boolean', default: false },
          },
        },
        response: { 202: accepted('the import'), ...errors },
      },
    },
    async (request, reply) => {
      const access = app.ferry.access(request);
      const b = request.body;
      const f = access.file(await files.get(b.fileId), b.fileId);
      await access.envIn('targetEnvId', b.targetEnvId, b.force ? 'admin' : 'promoter', b.force ? 'forcing an import to a lower tier' : 'importing');
      const params = { fileId: f.id, targetEnvId: b.targetEnvId, dryRun: !!b.dryRun, overrides: b.overrides ?? [], force: !!b.force };
      const operation = await submitImport(runner, params, f.name, access.requester);
      return reply.status(202).send({ operation });
    },
  );
};
