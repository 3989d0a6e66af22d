import type { SourceReader } from '../../src/core/assemble.js';
import type { Catalog, FerryObject, ObjectRef, TypeCode } from '../../src/core/types.js';
import { ownerIdOf } from '../../src/core/refs.js';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';

/**
 * A small environment in memory for core tests (Changesets `FakeFullState`):
 * `world().add('TMPL', 't1', 'Onboarding', {...})`.
 */
export class World implements SourceReader {
  readonly objects = new Map<string, FerryObject>();
  constructor(readonly catalog: Catalog = DEFAULT_CATALOG) {}

  add(type: TypeCode, id: string, name: string, fields: Record<string, unknown> = {}): this {
    this.objects.set(`${type}:${id}`, { type, id, name, fields });
    return this;
  }

  get(type: TypeCode, id: string): FerryObject {
    const o = this.objects.get(`${type}:${id}`);
    if (!o) throw new Error(`no ${type}:${id} in world`);
    return o;
  }

  list(): FerryObject[] {
    return [...this.objects.values()];
  }

  async getObjects(keys: readonly ObjectRef[]): Promise<FerryObject[]> {
    return keys.map((k) => this.objects.get(`${k.type}:${k.id}`)).filter((o): o is FerryObject => !!o);
  }

  async getChildren(ownerIds: readonly string[], types: readonly TypeCode[]): Promise<FerryObject[]> {
    const owners = new Set(ownerIds);
    return this.list().filter((o) => {
      if (!types.includes(o.type)) return false;
      const owner = ownerIdOf(this.catalog.types[o.type]!, o);
      return owner !== null && owners.has(owner);
    });
  }
}

export const world = (catalog?: Catalog) => new World(catalog);
