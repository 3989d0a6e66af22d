import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanEntry } from '../core/types.js';
import { canonicalJson } from '../core/hash.js';
import { openEngine, type FerryConfig } from '../engine/open.js';
import { DEMO_ENVIRONMENTS, seedDemo } from '../engine/demo-seed.js';
import { colors, formatPackage, formatPlan, formatInstallResult } from './format.js';

/**
 * `ferry demo`: promote a package development -> testing -> production,
 * explaining each step, then show an UPDATE-only re-promotion, a rollback,
 * drift, and a refused rollback. Returns the exit code.
 */
export async function runDemo(config: FerryConfig, io: { out: (s: string) => void; json: boolean }): Promise<number> {
  let engine = await openEngine(config);
  let where = config.databaseUrl ? '' : config.dataDir === './data' ? '' : ` --data-dir ${config.dataDir}`;
  const pc = colors();
  const say = (s: string) => {
    if (!io.json) io.out(s);
  };
  const step = (n: number, title: string) => say(`\n${pc.bold(pc.cyan(`Step ${n}. ${title}`))}`);
  try {
    if (await engine.store.environments.get(DEMO_ENVIRONMENTS.development)) {
      if (config.databaseUrl) {
        say(`The demo environments already exist in ${engine.store.location}; showing them instead of building them again.`);
        return 0;
      }
      const dir = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
      say(`The demo environments already exist in ${config.dataDir}; running this demo in a fresh directory, ${dir}.`);
      await engine.store.close();
      engine = await openEngine({ ...config, dataDir: dir });
      where = ` --data-dir ${dir}`;
    }
    const actor = { actor: 'demo' };
    const { development: dev, testing: test, production: prod } = DEMO_ENVIRONMENTS;

    step(1, 'Three environments');
    const sample = await seedDemo(engine);
    say(`Development ${dev} holds ${sample.dev.length} objects of the default catalog (templates with tasks, groups, categories, reports, dashboards...).`);
    say(`Testing ${test} starts as a clone of development: same ids, the recommended way to start a target.`);
    say(
      `Production ${prod} was built separately. It already has ${sample.prodExisting.length} objects with the same names as development's but other ids: ${sample.prodExisting.map((o) => `${o.type} "${o.name}"`).join(', ')}.`,
    );

    // Development moves on after the clone: one template gets a new description.
    const templates = sample.dev.filter((o) => o.type === 'TMPL');
    const dashboards = sample.dev.filter((o) => o.type === 'PTLTAB');
    const tmpl = templates[0]!;
    await engine.loadObjects(
      dev,
      [
        {
          ...tmpl,
          fields: { ...tmpl.fields, description: `${typeof tmpl.fields.description === 'string' ? tmpl.fields.description : ''} (revised after the clone)` },
        },
      ],
      actor,
    );

    step(2, 'Assemble a package in development');
    const selection = [...templates.slice(0, 2), ...dashboards.slice(0, 1)].map((o) => ({ type: o.type, id: o.id, name: o.name }));
    say(
      `Selecting ${selection.map((s) => `${s.type} "${s.name}"`).join(', ')}. Ferry follows their refs and owned children and keeps, for each type, the kinds of objects promoted with it.`,
    );
    let pkg = await engine.createPackage({ sourceEnvId: dev, name: 'Agency onboarding', description: 'Demo package', selection }, actor);
    say(formatPackage(pkg));
    const entities = await engine.getPackageEntities(pkg.id);
    const deep = entities.filter((e) => e.via).sort((a, b) => depthOf(b, entities) - depthOf(a, entities))[0];
    if (deep) {
      say(`\nWhy is ${deep.type} "${deep.name}" in the package?`);
      (await engine.explain(pkg.id, deep.type, deep.id)).forEach((line, i) => say(`  ${'  '.repeat(i)}${i ? '-> ' : ''}${line}`));
    }

    step(3, 'Promote to testing');
    pkg = await engine.setPackageStatus(pkg.id, 'TESTING', actor);
    say('The package is TESTING: it may go to testing and preview environments, never to production.');
    let plan = await engine.prepare(pkg.id, test, {}, actor);
    say(formatPlan(pkg, await engine.getEnvironment(test), plan.installation, plan.entries, plan.installBlocker, PLAN_VIEW));
    let inst = await engine.install(plan.installation.id, {}, actor);
    say(formatInstallResult(inst, await engine.getEntries(inst.id)));

    step(4, 'Promote to production');
    try {
      const p = await engine.prepare(pkg.id, prod, {}, actor);
      await engine.install(p.installation.id, {}, actor);
    } catch (e) {
      say(`Refused, as it should be: ${(e as Error).message}.`);
    }
    pkg = await engine.setPackageStatus(pkg.id, 'ACTIVE', actor);
    say('After setting the package ACTIVE:');
    plan = await engine.prepare(pkg.id, prod, {}, actor);
    say(formatPlan(pkg, await engine.getEnvironment(prod), plan.installation, plan.entries, plan.installBlocker, PLAN_VIEW));
    say('Objects production already had were matched by their natural key (name): they are reused, and refs to them are rewritten to production ids.');
    const firstProd = await engine.install(plan.installation.id, {}, actor);
    const installed = await engine.getEntries(firstProd.id);
    say(formatInstallResult(firstProd, installed));
    // The sample data reuses task names across templates ("Phase 1: Discovery" in each): the demo names
    // a task with its template, and the tasks it talks about have names of their own.
    const tasks = sample.dev.filter((o) => o.type === 'TTSK');
    const sameName = (name: string) => tasks.filter((o) => o.name === name).length;
    const taskLabel = (o: { name: string; fields: Record<string, unknown> }) => {
      const t = sample.dev.find((x) => x.type === 'TMPL' && x.id === o.fields.templateID);
      return `task "${o.name}"${t ? ` of template "${t.name}"` : ''}`;
    };
    const shown =
      installed.find((e) => e.type === 'TTSK' && e.installationStatus === 'INSTALLED' && sameName(e.name) === 1) ??
      installed.find((e) => e.type === 'TTSK' && e.installationStatus === 'INSTALLED')!;
    const shownTask = tasks.find((o) => o.id === shown.sourceId)!;
    const inProd = await engine.getObject(prod, 'TTSK', shown.targetId!);
    say(
      `The ${taskLabel(shownTask)} is ${shown.sourceId} in development and ${inProd.id} in production; its templateID is now ${String(inProd.fields.templateID)}, the template's production id.`,
    );

    step(5, 'Edit in development, promote again: only the edit is an UPDATE');
    const task =
      tasks.find((o) => o.fields.templateID === tmpl.id && o.id !== shownTask.id && sameName(o.name) === 1) ??
      tasks.find((o) => o.fields.templateID === tmpl.id && o.id !== shownTask.id)!;
    await engine.loadObjects(dev, [{ ...task, name: `${task.name} (renamed)` }], actor);
    say(`Renamed the ${taskLabel(task)} in development to "${task.name} (renamed)".`);
    let pkg2 = await engine.createPackage({ sourceEnvId: dev, name: 'Agency onboarding, second drop', selection }, actor);
    pkg2 = await engine.setPackageStatus(pkg2.id, 'ACTIVE', actor);
    plan = await engine.prepare(pkg2.id, prod, {}, actor);
    say(formatPlan(pkg2, await engine.getEnvironment(prod), plan.installation, plan.entries, plan.installBlocker, PLAN_VIEW));
    const before = await engine.listObjects(prod, { limit: 100_000 });
    inst = await engine.install(plan.installation.id, {}, actor);
    say(formatInstallResult(inst, await engine.getEntries(inst.id)));

    step(6, 'Roll back that installation');
    await engine.rollback(inst.id, actor);
    const after = await engine.listObjects(prod, { limit: 100_000 });
    const same = canonicalJson(before.items.map(strip)) === canonicalJson(after.items.map(strip));
    say(`Rolled back ${inst.id}. Production content is ${same ? 'exactly' : pc.red('NOT')} what it was before the install (${after.total} objects compared).`);

    step(7, 'Someone edits production directly: drift');
    const obj = await engine.getObject(prod, 'TTSK', shown.targetId!);
    await engine.loadObjects(prod, [{ type: obj.type, id: obj.id, name: obj.name, fields: { ...obj.fields, description: 'hot-fixed in production' } }], actor);
    say(`Someone edits the description of the ${taskLabel(shownTask)} in production (${obj.id}), outside Ferry.`);
    plan = await engine.prepare(pkg.id, prod, {}, actor);
    const drifted = plan.entries.filter((e: PlanEntry) => e.drift);
    say(
      `Planning the first package again: ${drifted.length} object${drifted.length === 1 ? ' was' : 's were'} edited in production since Ferry installed ${drifted.length === 1 ? 'it' : 'them'}:`,
    );
    for (const e of drifted) say(`  ${e.type} ${e.targetId} "${e.name}": drift, the plan would ${e.action}`);
    try {
      await engine.rollback(firstProd.id, actor);
    } catch (e) {
      say(`Rolling back the first production install is refused, so the hot fix is not lost: ${(e as Error).message}`);
    }

    say(
      `\n${pc.bold('Done.')} Explore with: npx ferry${where} env list; npx ferry${where} history ${prod}; npx ferry${where} objects list ${prod} --type TMPL`,
    );
    if (io.json) io.out(JSON.stringify({ environments: DEMO_ENVIRONMENTS, packages: [pkg.id, pkg2.id], rollbackExact: same, drift: drifted.length }, null, 2));
    return same ? 0 : 1;
  } finally {
    await engine.store.close();
  }
}

/** The demo's plans: the first lines and the rest counted by type (the full plan is one `ferry plan --all` away). */
const PLAN_VIEW = { limit: 8, applyHint: false };

function strip(o: { type: string; id: string; name: string; fields: Record<string, unknown> }) {
  return { type: o.type, id: o.id, name: o.name, fields: o.fields };
}

function depthOf(
  e: { type: string; id: string; via: { type: string; id: string } | null },
  all: readonly { type: string; id: string; via: { type: string; id: string } | null }[],
): number {
  let d = 0;
  let cur: typeof e | undefined = e;
  const index = new Map(all.map((x) => [`${x.type}:${x.id}`, x]));
  while (cur?.via && d < 50) {
    d++;
    cur = index.get(`${cur.via.type}:${cur.via.id}`);
  }
  return d;
}
