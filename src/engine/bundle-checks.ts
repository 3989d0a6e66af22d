/**
 * Checks the bundle readers and writers share: the header a writer may
 * write, the shape of an entity it may write, and per-type counts against
 * the header's (both sides refuse a bundle whose entities disagree with it).
 */
import { checkEntity, encodeHeader, parseHeader } from '../core/bundle.js';
import type { BundleEntity, BundleHeader } from '../core/bundle.js';
import { ValidationError } from '../core/errors.js';

/** Encode the header and refuse to write one this Ferry could not read back. */
export function checkedHeaderLine(header: BundleHeader, shown: string): string {
  const line = encodeHeader(header);
  const parsed = parseHeader(line);
  if ('errors' in parsed) throw new ValidationError(`cannot write bundle ${shown}: ${parsed.errors.join('; ')}`);
  return line;
}

/**
 * Keep exactly the four entity properties (callers pass package entities
 * carrying hash/ord/via) and check their shape, so the writer never produces
 * a line the reader refuses.
 */
export function normaliseEntity(raw: BundleEntity, n: number): BundleEntity {
  return checkEntity({ type: raw.type, id: raw.id, name: raw.name, fields: raw.fields }, `entity #${n}`);
}

/** Per-type entity counts checked against the header's. */
export class TypeTally {
  readonly #expected: Record<string, number>;
  readonly #seen = new Map<string, number>();

  constructor(expected: Record<string, number>) {
    this.#expected = expected;
  }

  /** Count one entity; a message when its type is not in the header (never counted, so the map stays small). */
  add(type: string, lineNo?: number): string | undefined {
    if (!Object.hasOwn(this.#expected, type)) {
      const where = lineNo === undefined ? '' : ` (line ${lineNo})`;
      return `an entity of type ${JSON.stringify(type)}${where} is not counted in the header`;
    }
    this.#seen.set(type, (this.#seen.get(type) ?? 0) + 1);
    return undefined;
  }

  /** A message when the totals disagree with the header. */
  mismatch(total: number, entityCount: number): string | undefined {
    if (total !== entityCount) return `its header says ${entityCount} entities but it holds ${total}`;
    for (const [type, expected] of Object.entries(this.#expected)) {
      const seen = this.#seen.get(type) ?? 0;
      if (seen !== expected) return `its header counts ${expected} ${type} entities but it holds ${seen}`;
    }
    return undefined;
  }
}

/** The `code` of a Node error (`ENOENT`, `Z_BUF_ERROR`...), if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
