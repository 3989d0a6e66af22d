import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FerryError, ValidationError } from '../../../core/errors.js';
import type { ObjectRef } from '../../../core/types.js';
import { packArrayOf, readPack, typesByPackArray } from '../../../core/sync-pack.js';
import { allOfTypes, findByIds, originOfPack } from '../../../engine/sync.js';
import { fieldText, multipartReadError, withMultipart } from '../../multipart.js';
import { findUnacceptable } from '../../validation.js';
import { parseJsonRefusingProto, PROTO_KEY_REFUSED } from '../../../core/json-syntax.js';
import type { DialectContext } from '../types.js';
import { readExportOptions, readImportOptions } from './options.js';
import { MANAGE_ROOTS } from './roots.js';

interface ExportBody {
  projects?: unknown;
  ids?: unknown;
  options?: unknown;
}
interface ImportQuery {
  dryRun?: boolean;
  overwriteDrift?: boolean;
  force?: boolean;
}

const flags = { type: 'boolean' } as const;

/** A list of ids from a body member: `projects: [{id}]` or `ids: ["..."]`. */
function idsOf(value: unknown, name: string, pick: (v: unknown) => unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError(`body.${name} must be an array`);
  return value.map((v, i) => {
    const id = pick(v);
    if (typeof id !== 'string' || id === '') throw new ValidationError(`body.${name}[${i}] must name an object id`);
    return id;
  });
}

/** The options field of a multipart import (a small JSON document): larger is refused with a 413. */
const OPTIONS_FIELD_LIMIT = 64 * 1024;

/** The pack and options of an import: a JSON body `{options, ...pack}`, or a multipart `file` (and an `options` field). */
async function importBody(request: FastifyRequest, bodyLimit: number): Promise<{ pack: unknown; options: unknown }> {
  if (!request.isMultipart()) {
    const body = request.body as Record<string, unknown> | undefined;
    return { pack: body, options: body?.options };
  }
  let text: string | undefined;
  let options: unknown;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        text ??= bytes.toString('utf8');
      } else if (part.fieldname === 'options') {
        options = parseJson(fieldText(part, OPTIONS_FIELD_LIMIT), 'the options field');
      }
    }
  } catch (e) {
    // A pack file is a JSON body by another route: the same limit (FERRY_BODY_LIMIT).
    throw multipartReadError(e, 'send the sync pack as the file part (named file) of a well-formed multipart/form-data body', {
      bytes: bodyLimit,
      setting: 'FERRY_BODY_LIMIT',
    });
  }
  if (text === undefined) throw new ValidationError('a multipart import needs the sync pack as a file part (named file)');
  const pack = parseJson(text, 'the sync pack file');
  // A JSON body is checked (NULs, lone surrogates, nesting) before any route; a file part is read here.
  const bad = findUnacceptable(pack, 'file');
  if (bad) throw new ValidationError(bad);
  return { pack, options: options ?? (pack as { options?: unknown } | null)?.options };
}

function parseJson(text: string, what: string): unknown {
  try {
    return parseJsonRefusingProto(text);
  } catch (e) {
    const message = (e as Error).message;
    throw new ValidationError(message === PROTO_KEY_REFUSED ? `${what}: ${message}` : `${what} is not valid JSON: ${message}`);
  }
}

/**
 * `projects/sync/export` and `projects/sync/import`, under every Manage root
 * and, as 002 names them, at the server root.
 */
export async function packRoutes(app: FastifyInstance, ctx: DialectContext): Promise<void> {
  const { engine, config } = ctx.ferry;
  const byArray = typesByPackArray(engine.catalog);
  const roots = [...MANAGE_ROOTS.map((r) => `${r}/projects/sync`), '/projects/sync'];
  for (const root of roots) {
    app.post<{ Body: ExportBody }>(
      `${root}/export`,
      {
        schema: {
          summary: 'The sync pack of projects ({"projects": [{"id"}]}) or any objects ({"ids": [...]}) and what they need; options are booleans',
          description:
            'Answers the pack at once: every array present (projects, contentLibraryItems, dataSources, dataObjects, contentFolders, publishedProjects, ' +
            'publishFolders, users, groups, roles, customFields, connectorSettings, and one per catalog type), each object flat. ' +
            'users, groups, roles, customFields, connectorSettings set to true add every object of that kind; false leaves a kind out; ' +
            'connectionStrings / defaultData false drop those data source fields; projectFragments false keeps only selected projects. Unknown options are ignored.',
          body: { type: 'object' },
        },
      },
      async (request) => {
        const env = await ctx.environment(request, 'viewer', 'exporting a sync pack');
        const body = request.body ?? {};
        const { wholeKinds, shape } = readExportOptions(body.options);
        const projectIds = idsOf(body.projects, 'projects', (p) => (p && typeof p === 'object' ? (p as { id?: unknown }).id : undefined));
        const ids = idsOf(body.ids, 'ids', (v) => v);
        const selection: ObjectRef[] = [];
        const missing: string[] = [];
        if (projectIds.length > 0) {
          const type = byArray.get('projects')?.code;
          if (!type) throw new ValidationError("this server's catalog has no type that travels in projects; select objects with ids");
          const r = await findByIds(engine, env.id, projectIds, [type]);
          selection.push(...r.found);
          missing.push(...r.missing);
        }
        if (ids.length > 0) {
          const r = await findByIds(engine, env.id, ids);
          selection.push(...r.found);
          missing.push(...r.missing);
        }
        if (missing.length > 0) {
          throw new FerryError('NOT_FOUND', 404, `not found in environment ${env.id}: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`);
        }
        const whole = wholeKinds.flatMap((kind) => (byArray.has(kind) ? [byArray.get(kind)!.code] : []));
        for (const o of await allOfTypes(engine, env.id, whole)) selection.push({ type: o.type, id: o.id });
        if (selection.length === 0 && wholeKinds.length === 0) {
          throw new ValidationError('nothing to export: name projects ({"projects": [{"id": "..."}]}) or objects ({"ids": [...]})');
        }
        return engine.run('exportPack', {}, env.id, { selection, ...shape }, ctx.ferry.access(request).actor);
      },
    );
  }

  // Only the import reads multipart; a pack file is a JSON body by another route: the same limit.
  await withMultipart(app, { limits: { fileSize: config.bodyLimit, files: 1, fields: 5, fieldSize: OPTIONS_FIELD_LIMIT } }, (uploads) => {
    for (const root of roots) {
      uploads.post<{ Querystring: ImportQuery }>(
        `${root}/import`,
        {
          schema: {
            summary: 'Import a sync pack ({"options": {...}, ...the pack}, or the pack as a multipart file): per object {type, id, name, result, reason}',
            description:
              'result is created, updated, unchanged, conflict or drift. An object is updated only when its id and its name both match here; ' +
              'an id match with another name, or a name match with another id, is a conflict and is not written; a copy edited here since the last sync ' +
              'is drift and left alone unless overwriteDrift. One transaction. options per pack array: "Always" (default) or "Never". ' +
              'dryRun, overwriteDrift and force also as query parameters; force (push to a lower tier) needs the admin role here. ' +
              'A multipart pack file has the JSON body limit (FERRY_BODY_LIMIT), its options field 64 KiB: larger is a 413, nothing written.',
            querystring: { type: 'object', properties: { dryRun: flags, overwriteDrift: flags, force: flags } },
          },
        },
        async (request, reply) => {
          const env = await ctx.environment(request, 'promoter', 'importing a sync pack');
          const access = ctx.ferry.access(request);
          const { pack, options } = await importBody(request, config.bodyLimit);
          const opts = readImportOptions(options, request.query);
          const read = readPack(pack, engine.catalog, opts.skip);
          if ('errors' in read) throw new ValidationError(`the sync pack is not valid: ${read.errors.join('; ')}`);
          const origin = await originOfPack(engine, read.value.source);
          const outcome = await engine.run(
            'importObjects',
            {},
            env.id,
            read.value.objects,
            origin,
            { dryRun: opts.dryRun, overwriteDrift: opts.overwriteDrift, force: opts.force, mayForce: access.can(env.id, 'admin') },
            access.actor,
          );
          // The installation holds the plan and the outcome (history, rollback through the native API).
          if (outcome.installation) reply.header('x-ferry-installation', outcome.installation.id);
          return outcome.results.map((r) => ({ type: packArrayOf(engine.catalog.types[r.type]!), id: r.id, name: r.name, result: r.result, reason: r.reason }));
        },
      );
    }
  });
}
