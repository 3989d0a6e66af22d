import { createHash } from 'node:crypto';
import { DEFAULT_CATALOG } from '../core/default-catalog.js';
import type { FerryObject } from '../core/types.js';
import type { EngineContext } from './context.js';
import { createEnvironment } from './environments.js';
import { loadObjects } from './objects.js';
import { generateSample } from './sample-data.js';

/** The ids of the three demo environments. */
export const DEMO_ENVIRONMENTS = {
  development: '100000001',
  testing: '100000002',
  production: '100000003',
} as const;

/**
 * Build the three demo environments in an engine that does not have them yet:
 * development with a few hundred objects of the default catalog, testing as
 * a clone of it, production independent with a few objects of the same names
 * and other ids. Shared by `ferry demo` and the server's first start.
 */
export async function seedDemo(ctx: EngineContext): Promise<{ dev: FerryObject[]; prodExisting: FerryObject[] }> {
  const sample = demoSample();
  const actor = { actor: 'demo' };
  await createEnvironment(ctx, { id: DEMO_ENVIRONMENTS.development, name: 'Development', tier: 'development', hosts: ['dev.example.test'] }, actor);
  await loadObjects(ctx, DEMO_ENVIRONMENTS.development, sample.dev, actor);
  await createEnvironment(
    ctx,
    { id: DEMO_ENVIRONMENTS.testing, name: 'Testing', tier: 'testing', hosts: ['test.example.test'], cloneFrom: DEMO_ENVIRONMENTS.development },
    actor,
  );
  await createEnvironment(ctx, { id: DEMO_ENVIRONMENTS.production, name: 'Production', tier: 'production', hosts: ['prod.example.test'] }, actor);
  await loadObjects(ctx, DEMO_ENVIRONMENTS.production, sample.prodExisting, actor);
  return sample;
}

/**
 * The demo's two environments: development (300 objects, seed `demo`) and
 * the few objects a separately built production already has: the Default
 * Group, three roles and an hour type that the first template uses, with
 * the same names as in development and other ids, so that a promotion finds
 * them by natural key. One role's billing rate differs (an UPDATE); the
 * others are equal (USEEXISTING).
 */
export function demoSample(): { dev: FerryObject[]; prodExisting: FerryObject[] } {
  const dev = [...generateSample({ objects: 300, seed: 'demo' })];
  const tmpl = dev.find((o) => o.type === 'TMPL')!;
  const tasks = new Set(dev.filter((o) => o.type === 'TTSK' && o.fields.templateID === tmpl.id).map((o) => o.id));
  const usedRoles = new Set<unknown>();
  for (const o of dev) {
    if ((o.type === 'TTSK' && tasks.has(o.id)) || (o.type === 'TASSGN' && tasks.has(o.fields.templateTaskID as string))) usedRoles.add(o.fields.roleID);
  }
  const roles = dev.filter((o) => o.type === 'ROLE' && usedRoles.has(o.id)).slice(0, 3);
  const group = dev.find((o) => o.type === 'GROUP' && o.name === 'Default Group')!;
  const hourType = dev.find((o) => o.type === 'HOURT' && (tmpl.fields.hourTypeIDs as string[]).includes(o.id))!;
  const prodExisting = [group, ...roles, hourType].map((o, i): FerryObject => {
    const fields = structuredClone(o.fields);
    // Production was built by hand: it has none of development's other objects to point at.
    for (const field of Object.keys(DEFAULT_CATALOG.types[o.type]!.refs)) delete fields[field];
    if (o.type === 'ROLE' && i === 1) fields.billingPerHour = Number(fields.billingPerHour) + 15;
    const newId = createHash('sha256').update(`demo-production\u0000${o.type}\u0000${o.id}`).digest('hex').slice(0, 32);
    return { type: o.type, id: newId, name: o.name, fields };
  });
  return { dev, prodExisting };
}
