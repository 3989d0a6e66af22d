import { readFile } from 'node:fs/promises';
import { resolveCatalog } from '../core/catalog.js';
import { DEFAULT_CATALOG } from '../core/default-catalog.js';
import { ValidationError } from '../core/errors.js';
import type { Catalog } from '../core/types.js';

/**
 * Reads a catalog file (see src/core/catalog.ts for the format); a file with
 * `"extend": true` is laid over `base`, any other file replaces it.
 *
 * @throws ValidationError `catalog <path>: <problem>; <problem>` when the file
 * cannot be read, is not JSON, or describes an inconsistent catalog.
 */
export async function readCatalog(path: string, base: Catalog = DEFAULT_CATALOG): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    // A missing or unreadable catalog is a bad setting given by the operator,
    // not an internal failure.
    throw new ValidationError(`catalog ${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`catalog ${path}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  const result = resolveCatalog(json, base);
  if ('errors' in result) throw new ValidationError(`catalog ${path}: ${result.errors.join('; ')}`);
  return result.value;
}
