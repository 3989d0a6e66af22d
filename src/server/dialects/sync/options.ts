/**
 * The product's sync options, as its Admin API samples spell them, mapped
 * onto the engine's export and import requests. Export options are booleans
 * (the C# sample and the Postman collection); import options are strings per
 * pack array (`"Always"` in the Postman collection). Unknown keys, misspelt
 * ones included (the Postman body's `"defaultData "`), are ignored, as the
 * product's JSON binding ignores them.
 */
import { ValidationError } from '../../../core/errors.js';
import type { ExportRequest } from '../../../engine/sync.js';

/** Export options that add every object of a kind of the environment (the product's sample pack holds all users, all custom fields...). */
export const WHOLE_KINDS = ['users', 'groups', 'roles', 'customFields', 'connectorSettings'] as const;

/** Export options that keep (true, the default) or drop (false) what the selected projects pull in. */
const KEEP: Record<string, readonly string[]> = {
  projects: ['projects'],
  dataSources: ['dataSources', 'dataObjects'],
  publishFolders: ['publishFolders', 'publishedProjects'],
};

export interface ExportOptions {
  /** Pack arrays whose every object is added to the selection. */
  wholeKinds: string[];
  shape: Omit<ExportRequest, 'selection'>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Read export options: each known option is a boolean. Left out, an option
 * keeps what the selection pulls in but adds no whole kind: asking for every
 * user of an environment is a choice the caller spells out.
 */
export function readExportOptions(raw: unknown): ExportOptions {
  if (raw !== undefined && raw !== null && !isObject(raw)) throw new ValidationError('body.options must be an object of booleans');
  const o = raw ?? {};
  const flag = (name: string): boolean | undefined => {
    const v = o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ValidationError(`body.options.${name} must be true or false`);
    return v;
  };
  const omit = new Set<string>();
  for (const [option, arrays] of Object.entries(KEEP)) if (flag(option) === false) for (const a of arrays) omit.add(a);
  const wholeKinds: string[] = [];
  for (const kind of WHOLE_KINDS) {
    const v = flag(kind);
    if (v === true) wholeKinds.push(kind);
    if (v === false) omit.add(kind);
  }
  const dropped: string[] = [];
  if (flag('connectionStrings') === false) dropped.push('connectionString');
  if (flag('defaultData') === false) dropped.push('defaultData');
  return {
    wholeKinds,
    shape: {
      omitArrays: omit,
      // Fragments are projects other projects use: they travel when selected, not when pulled in.
      selectedOnly: flag('projectFragments') === false ? new Set(['projects']) : new Set(),
      omitFields: dropped.length > 0 ? { dataSources: dropped } : {},
    },
  };
}

export interface ImportOptions {
  /** Pack arrays not to import (`"Never"`). */
  skip: Set<string>;
  dryRun: boolean;
  overwriteDrift: boolean;
  force: boolean;
}

const FLAGS = ['dryRun', 'overwriteDrift', 'force'] as const;

/**
 * Read import options: per pack array `"Always"` (import it, the default) or
 * `"Never"` (leave it out; true and false are taken for the same); and the
 * flags `dryRun`, `overwriteDrift`, `force`, in the body's options or as
 * query parameters (either sets them).
 */
export function readImportOptions(raw: unknown, query: Partial<Record<(typeof FLAGS)[number], boolean>>): ImportOptions {
  if (raw !== undefined && raw !== null && !isObject(raw)) throw new ValidationError('options must be an object');
  const out: ImportOptions = { skip: new Set(), dryRun: !!query.dryRun, overwriteDrift: !!query.overwriteDrift, force: !!query.force };
  for (const [k, v] of Object.entries(raw ?? {})) {
    if ((FLAGS as readonly string[]).includes(k)) {
      if (v === true || v === 'true') out[k as (typeof FLAGS)[number]] = true;
      else if (v !== false && v !== 'false' && v !== null) throw new ValidationError(`options.${k} must be true or false`);
      continue;
    }
    if (v === true || (typeof v === 'string' && v.toLowerCase() === 'always')) continue;
    if (v === false || (typeof v === 'string' && v.toLowerCase() === 'never')) {
      out.skip.add(k);
      continue;
    }
    throw new ValidationError(`options.${k} must be "Always" or "Never", not ${JSON.stringify(v)}`);
  }
  return out;
}
