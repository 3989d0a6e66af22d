/**
 * What every section of the sample generator shares while it streams: the
 * plan, the ids, the one content PRNG (drawn in generation order, so the
 * sections must run in the order `generateSample` calls them) and `make`,
 * which finishes an object to its padded size.
 */
import { DEFAULT_CATALOG } from '../../core/default-catalog.js';
import type { FerryObject, TypeCode } from '../../core/types.js';
import { padText } from './names.js';
import { formCount, makePlan, type Family, type Plan, type SampleOptions } from './plan.js';
import { Ids, Rng } from './random.js';
import { CATEGORY_CODES } from './words.js';

/** The padding field of a type: its description, or free-text notes where it has none. */
const PAD_KEY: Record<TypeCode, string> = Object.fromEntries(
  Object.values(DEFAULT_CATALOG.types).map((t) => [t.code, t.fields.includes('description') ? 'description' : 'notes']),
);

/** The state of one `generateSample` run; plain closures, so sections may destructure it. */
export interface SampleContext {
  plan: Plan;
  /** `plan.counts`. */
  n: Record<Family, number>;
  /** `plan.salt`. */
  salt: number;
  ids: Ids;
  rng: Rng;
  /** The id of the k-th object of a type. */
  id: (type: TypeCode, k: number) => string;
  /** The ids of k distinct random objects among the first `count` of a type. */
  some: (type: TypeCode, count: number, k: number) => string[];
  /** A date `offsetDays` after 2026-01-01, as YYYY-MM-DD. */
  date: (offsetDays: number) => string;
  /** A random form for a category code, or undefined when the environment has none. */
  form: (code: number) => string | undefined;
  /** Finishes an object (k: counter, or the id when already computed): pads its free-text field so that `fields` is ~400 bytes of JSON (330-470). */
  make: (type: TypeCode, k: number | string, name: string, fields: Record<string, unknown>) => FerryObject;
}

/** Sets `fields[key]` unless `value` is undefined (an optional ref with nothing to point at). */
export function setDefined(fields: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) fields[key] = value;
}

/** The context of one run of `generateSample(opts)`. */
export function createContext(opts: SampleOptions): SampleContext {
  const plan = makePlan(opts);
  const ids = new Ids(opts.seed ?? 'ferry', opts.idPrefix ?? '');
  const rng = new Rng(plan.salt);
  const id = (type: TypeCode, k: number) => ids.of(type, k);
  return {
    plan,
    n: plan.counts,
    salt: plan.salt,
    ids,
    rng,
    id,
    some: (type, count, k) => Array.from(rng.distinct(count, k), (i) => id(type, i)),
    date: (offsetDays) => new Date(Date.UTC(2026, 0, 1) + offsetDays * 86_400_000).toISOString().slice(0, 10),
    form: (code) => {
      const m = formCount(plan, code);
      return m ? id('CTGY', rng.int(m) * CATEGORY_CODES.length + code) : undefined;
    },
    make: (type, k, name, fields) => {
      const key = PAD_KEY[type] ?? 'notes';
      const base = typeof fields[key] === 'string' ? fields[key] : '';
      fields[key] = base;
      const target = 330 + rng.int(141);
      const len = JSON.stringify(fields).length;
      if (len < target) fields[key] = padText(rng, base, target - len);
      else if (base === '' && key === 'notes') delete fields[key];
      return { type, id: typeof k === 'string' ? k : id(type, k), name, fields };
    },
  };
}
