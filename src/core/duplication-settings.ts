/**
 * The request bodies of project duplication (shared/reference/004 "Request
 * fields reference", plus what the vendor's SDK mstrio-py sends), parsed
 * into one normalized shape. Pure: zod does the checking, this module only
 * words the refusals (each names the field, as the document's field table
 * spells it) and fills in the defaults the record echoes.
 */
import { z } from 'zod';
import { ValidationError } from './errors.js';

/** 004 export rules: which configuration objects of a type go with the project. */
export const EXPORT_RULE = { none: 0, related: 1, selected: 2, all: 3 } as const;
/** 004 conflict rules on import. */
export const CONFLICT_RULE = { useExisting: 1, replace: 2, merge: 6 } as const;
/** Type numbers the export rules may name: 5 (the default for every configuration object) and 34 (users). */
export const DEFAULT_TYPE = 5;
export const USER_TYPE = 34;

export interface TypeRule {
  type: number;
  rule: number;
}

export interface ExportSettings {
  projectObjectsPreference: { schemaObjectsOnly: boolean; skipEmptyProfileFolders: boolean; skipAllProfileFolders?: boolean };
  subscriptionPreferences: { includeUserSubscriptions: boolean; includeContactSubscriptions: boolean; includeContactsAndContactGroups?: boolean };
  configurationObjects: { rules: TypeRule[]; objects: string[]; includeAllUserGroups: boolean; conflictRules?: TypeRule[] };
}

export interface ImportSettings {
  description: string;
  defaultLocale: number;
  locales: number[];
  typesMatchByName?: number[];
  configurationObjects: { conflictRules: TypeRule[]; matchUsersByLogin: boolean };
}

export interface DuplicationSettings {
  export: ExportSettings;
  import: ImportSettings;
}

export interface NamedRef {
  id: string;
  name: string;
}

/** A parsed POST /api/projectDuplications body. */
export interface DuplicationRequest {
  source: { environment: NamedRef; project: NamedRef };
  target: { environment: NamedRef; project: { id?: string; name: string } };
  settings: DuplicationSettings;
}

/** A parsed PUT /api/projectDuplications/{id} body that starts the target side: only the source server is required. */
export interface TargetRequest {
  source: { environment: { id: string; name?: string } };
  target: { environment?: Partial<NamedRef>; project?: { id?: string; name?: string } };
  /** Undefined when the body's settings are absent or `{}`: the source record's settings apply. */
  settings?: DuplicationSettings;
}

/** The `metadata` part of POST /api/projectDuplications/restoration (no source: the package names it). */
export interface RestorationRequest {
  target: { environment: NamedRef; project: { id?: string; name: string } };
  settings: { import: ImportSettings };
}

const text = z.string({ invalid_type_error: 'must be a string' }).trim().min(1, 'must not be empty');
const flag = z.boolean({ invalid_type_error: 'must be true or false' });
const int = z.number({ invalid_type_error: 'must be an integer' }).int('must be an integer');
const typeRule = z.object({ type: int, rule: int });
const typeRules = z.array(typeRule, { invalid_type_error: 'must be an array of {type, rule}' });

const configurationObjects = z.object({
  rules: typeRules.optional(),
  conflictRules: typeRules.optional(),
  objects: z.array(text, { invalid_type_error: 'must be an array of object ids' }).optional(),
  includeAllUserGroups: flag.optional(),
  matchUsersByLogin: flag.optional(),
});

const exportSchema = z.object({
  projectObjectsPreference: z
    .object({ schemaObjectsOnly: flag.optional(), skipEmptyProfileFolders: flag.optional(), skipAllProfileFolders: flag.optional() })
    .optional(),
  subscriptionPreferences: z
    .object({ includeUserSubscriptions: flag.optional(), includeContactSubscriptions: flag.optional(), includeContactsAndContactGroups: flag.optional() })
    .optional(),
  configurationObjects: configurationObjects.optional(),
});

const importSchema = z.object({
  description: z.string({ invalid_type_error: 'must be a string' }).nullable().optional(),
  defaultLocale: int.nonnegative('must be a locale id (>= 0)').optional(),
  locales: z.array(int.nonnegative('must be a locale id (>= 0)'), { invalid_type_error: 'must be an array of locale ids' }).optional(),
  typesMatchByName: z.array(int, { invalid_type_error: 'must be an array of type numbers' }).optional(),
  configurationObjects: configurationObjects.optional(),
});

const settingsSchema = z.object({ export: exportSchema.optional(), import: importSchema.optional() });
/** The new project's name: it names an environment, whose names are at most 200 characters (as on the native API). */
const projectName = text.max(200, 'must be at most 200 characters');
const named = z.object({ id: text, name: text });

const requestSchema = z.object({
  source: z.object({ environment: named, project: named }),
  target: z.object({ environment: named, project: z.object({ id: text.optional(), name: projectName }) }),
  settings: settingsSchema.optional(),
});

const targetSchema = z.object({
  source: z.object({ environment: z.object({ id: text, name: text.optional() }) }),
  target: z
    .object({
      environment: z.object({ id: text.optional(), name: text.optional() }).optional(),
      project: z.object({ id: text.optional(), name: projectName.optional() }).optional(),
    })
    .optional(),
  settings: settingsSchema.optional(),
});

const restorationSchema = z.object({
  target: z.object({ environment: named, project: z.object({ id: text.optional(), name: projectName }) }),
  settings: z.object({ import: importSchema.optional() }).optional(),
});

/** The first problem zod found, worded as `<field path> <what is wrong>`. */
function refusal(error: z.ZodError, prefix: string): ValidationError {
  const issue = error.issues[0]!;
  const path = [prefix, ...issue.path].filter((p) => p !== '').join('.');
  const missing = issue.code === 'invalid_type' && issue.received === 'undefined';
  const what = missing ? 'is required' : issue.code === 'invalid_type' && issue.expected === 'object' ? 'must be an object' : issue.message;
  return new ValidationError(path ? `${path} ${what}` : `the body ${what}`);
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown, prefix = ''): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError(`${prefix || 'the body'} must be a JSON object`);
  const r = schema.safeParse(body);
  if (!r.success) throw refusal(r.error, prefix);
  return r.data;
}

function checkRules(rules: readonly TypeRule[], where: string): TypeRule[] {
  const seen = new Set<number>();
  for (const [i, r] of rules.entries()) {
    if (r.type !== DEFAULT_TYPE && r.type !== USER_TYPE) {
      throw new ValidationError(`${where}[${i}].type ${r.type} is not supported: export rules apply to type 5 (every configuration object) and 34 (users)`);
    }
    if (!(Object.values(EXPORT_RULE) as number[]).includes(r.rule)) {
      throw new ValidationError(`${where}[${i}].rule ${r.rule} is not one of 0 (none), 1 (project-related), 2 (selected), 3 (all)`);
    }
    if (r.type === DEFAULT_TYPE && r.rule !== EXPORT_RULE.related && r.rule !== EXPORT_RULE.all) {
      throw new ValidationError(
        `${where}[${i}]: type 5 (the default) only supports rule 1 (project-related) or 3 (all), so that no duplicated object is left broken`,
      );
    }
    if (seen.has(r.type)) throw new ValidationError(`${where}[${i}]: type ${r.type} has two rules`);
    seen.add(r.type);
  }
  return rules.map((r) => ({ type: r.type, rule: r.rule }));
}

/**
 * Conflict rules: 1 use-existing, 2 replace, 6 merge. The document's own
 * restoration sample sends `{"type": 0, "rule": 0}` (a placeholder): rule 0
 * means "no rule given" and is dropped, as is type 0, so that sample works.
 */
function checkConflictRules(rules: readonly TypeRule[], where: string): TypeRule[] {
  const out = new Map<number, number>();
  for (const [i, r] of rules.entries()) {
    if (r.rule === 0 || r.type === 0) continue;
    if (!(Object.values(CONFLICT_RULE) as number[]).includes(r.rule)) {
      throw new ValidationError(`${where}[${i}].rule ${r.rule} is not one of 1 (use-existing), 2 (replace), 6 (merge)`);
    }
    if (r.type < 0) throw new ValidationError(`${where}[${i}].type must be a type number (>= 0)`);
    out.set(r.type, r.rule);
  }
  return [...out].map(([type, rule]) => ({ type, rule }));
}

type ParsedImport = z.infer<typeof importSchema>;
type ParsedExport = z.infer<typeof exportSchema>;

function normalizeImport(given: ParsedImport | undefined, exportConflicts: readonly TypeRule[] | undefined, where: string): ImportSettings {
  const imp = given ?? {};
  let locales = imp.locales;
  let defaultLocale = imp.defaultLocale;
  if (locales?.length === 0) locales = undefined;
  if (defaultLocale === undefined) defaultLocale = locales?.[0] ?? 0;
  locales ??= [defaultLocale];
  if (!locales.includes(defaultLocale)) {
    throw new ValidationError(`${where}.defaultLocale ${defaultLocale} must be one of ${where}.locales (${locales.join(', ')})`);
  }
  // Conflict rules may come under export (the SDK puts them in both); those under import win per type.
  const own = checkConflictRules(imp.configurationObjects?.conflictRules ?? [], `${where}.configurationObjects.conflictRules`);
  const merged = new Map<number, number>((exportConflicts ?? []).map((r) => [r.type, r.rule]));
  for (const r of own) merged.set(r.type, r.rule);
  const out: ImportSettings = {
    description: imp.description ?? '',
    defaultLocale,
    locales: [...new Set(locales)],
    configurationObjects: {
      conflictRules: [...merged].map(([type, rule]) => ({ type, rule })),
      matchUsersByLogin: imp.configurationObjects?.matchUsersByLogin ?? false,
    },
  };
  if (imp.typesMatchByName) out.typesMatchByName = [...new Set(imp.typesMatchByName)];
  return out;
}

function normalizeExport(exp: ParsedExport | undefined, imp: ParsedImport | undefined): ExportSettings {
  const e = exp ?? {};
  const co = e.configurationObjects ?? {};
  // The document's field table also lists `objects` and `includeAllUserGroups`
  // under settings.import.configurationObjects; they select what is exported,
  // so wherever they come they count here.
  const importCo = imp?.configurationObjects ?? {};
  const out: ExportSettings = {
    projectObjectsPreference: {
      schemaObjectsOnly: e.projectObjectsPreference?.schemaObjectsOnly ?? false,
      skipEmptyProfileFolders: e.projectObjectsPreference?.skipEmptyProfileFolders ?? false,
    },
    subscriptionPreferences: {
      includeUserSubscriptions: e.subscriptionPreferences?.includeUserSubscriptions ?? false,
      includeContactSubscriptions: e.subscriptionPreferences?.includeContactSubscriptions ?? false,
    },
    configurationObjects: {
      rules: checkRules(co.rules ?? [], 'settings.export.configurationObjects.rules'),
      objects: [...new Set([...(co.objects ?? []), ...(importCo.objects ?? [])])],
      includeAllUserGroups: (co.includeAllUserGroups ?? false) || (importCo.includeAllUserGroups ?? false),
    },
  };
  const skipAll = e.projectObjectsPreference?.skipAllProfileFolders;
  if (skipAll !== undefined) out.projectObjectsPreference.skipAllProfileFolders = skipAll;
  const contacts = e.subscriptionPreferences?.includeContactsAndContactGroups;
  if (contacts !== undefined) out.subscriptionPreferences.includeContactsAndContactGroups = contacts;
  if (co.conflictRules) out.configurationObjects.conflictRules = checkConflictRules(co.conflictRules, 'settings.export.configurationObjects.conflictRules');
  return out;
}

function normalizeSettings(s: z.infer<typeof settingsSchema> | undefined): DuplicationSettings {
  const exp = normalizeExport(s?.export, s?.import);
  return { export: exp, import: normalizeImport(s?.import, exp.configurationObjects.conflictRules, 'settings.import') };
}

/** Parse a POST /api/projectDuplications body; throws a ValidationError naming the first bad field. */
export function parseDuplicationRequest(body: unknown): DuplicationRequest {
  const r = parseWith(requestSchema, body);
  const target: DuplicationRequest['target'] = { environment: r.target.environment, project: { name: r.target.project.name } };
  if (r.target.project.id) target.project.id = r.target.project.id;
  return { source: r.source, target, settings: normalizeSettings(r.settings) };
}

/** Whether a settings value is absent or `{}` (then the source record's settings apply). */
function isEmptySettings(s: unknown): boolean {
  return s === undefined || s === null || (typeof s === 'object' && !Array.isArray(s) && Object.keys(s).length === 0);
}

/** Parse a PUT /api/projectDuplications/{id} body that starts the target side. */
export function parseTargetRequest(body: unknown): TargetRequest {
  const r = parseWith(targetSchema, body);
  const out: TargetRequest = { source: { environment: r.source.environment }, target: r.target ?? {} };
  if (!isEmptySettings((body as { settings?: unknown }).settings)) out.settings = normalizeSettings(r.settings);
  return out;
}

/** Parse the restoration `metadata` (a JSON string, as the multipart field carries it). */
export function parseRestorationMetadata(metadata: string | undefined): RestorationRequest {
  if (metadata === undefined) throw new ValidationError('metadata is required: a JSON string {"target": {...}, "settings": {"import": {...}}}');
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch (e) {
    throw new ValidationError(`metadata is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = parseWith(restorationSchema, json, 'metadata');
  const target: RestorationRequest['target'] = { environment: r.target.environment, project: { name: r.target.project.name } };
  if (r.target.project.id) target.project.id = r.target.project.id;
  return { target, settings: { import: normalizeImport(r.settings?.import, undefined, 'metadata.settings.import') } };
}

/** Normalize settings read back from a record or a package (written by this module, so only defaults may be missing). */
export function normalizeStoredSettings(s: unknown): DuplicationSettings {
  const r = settingsSchema.safeParse(s ?? {});
  return normalizeSettings(r.success ? r.data : undefined);
}
