/**
 * A catalog's type table without a prototype. Type codes come from input
 * (a request body, a bundle line, a sync pack array): with a plain object,
 * `types['constructor']` or `types['toString']` would find the built-in
 * member and pass for a known type. Built here, at every place a catalog is
 * made, and again where one arrives by structured clone (a worker thread),
 * which gives objects their prototype back.
 */
import type { Catalog, TypeCode, TypeSpec } from './types.js';

export function typeTable(entries: Iterable<readonly [TypeCode, TypeSpec]>): Record<TypeCode, TypeSpec> {
  const table = Object.create(null) as Record<TypeCode, TypeSpec>;
  for (const [code, spec] of entries) table[code] = spec;
  return table;
}

/** `catalog` itself when its table has no prototype, else the same catalog over one that has none. */
export function withTypeTable(catalog: Catalog): Catalog {
  if (Object.getPrototypeOf(catalog.types) === null) return catalog;
  return { ...catalog, types: typeTable(Object.entries(catalog.types)) };
}
