import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';
import { naturalKeyOf, refsOf } from '../../src/core/refs.js';
import type { FerryObject } from '../../src/core/types.js';
import { generateSample, sampleSelection } from '../../src/engine/sample-data.js';
import { demoSample } from '../../src/engine/demo-seed.js';

const key = (type: string, id: string) => `${type}:${id}`;

/** One cycle among plain (non-owner) refs, as a list of nodes, or null. Iterative: big samples have long chains. */
function findCycle(objects: readonly FerryObject[]): string[] | null {
  const edges = new Map<string, string[]>();
  for (const o of objects) {
    const out = refsOf(DEFAULT_CATALOG.types[o.type]!, o)
      .filter((r) => !r.spec.owner)
      .map((r) => key(r.type, r.id));
    edges.set(key(o.type, o.id), out);
  }
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  for (const start of edges.keys()) {
    if (state.has(start)) continue;
    const stack: { node: string; next: number }[] = [{ node: start, next: 0 }];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const out = edges.get(top.node) ?? [];
      if (top.next >= out.length) {
        state.set(top.node, 2);
        stack.pop();
        continue;
      }
      const to = out[top.next++]!;
      const s = state.get(to);
      if (s === 1) return [...stack.slice(stack.findIndex((f) => f.node === to)).map((f) => f.node), to];
      if (s === undefined) {
        state.set(to, 1);
        stack.push({ node: to, next: 0 });
      }
    }
  }
  return null;
}

for (const n of [300, 5000]) {
  describe(`generateSample({objects: ${n}})`, () => {
    const objects = [...generateSample({ objects: n, seed: 'unit' })];
    const byKey = new Map(objects.map((o) => [key(o.type, o.id), o]));

    it('yields the asked number of objects (within 2%)', () => {
      assert.ok(Math.abs(objects.length - n) <= n * 0.02, `${objects.length} objects for ${n}`);
    });

    it('uses catalog types only, with 32-hex ids unique per type', () => {
      for (const o of objects) {
        assert.ok(DEFAULT_CATALOG.types[o.type], `unknown type ${o.type}`);
        assert.match(o.id, /^[0-9a-f]{32}$/);
        assert.ok(o.name.trim().length > 0, `${o.type}:${o.id} has no name`);
      }
      assert.equal(byKey.size, objects.length, 'duplicate type:id');
    });

    it('covers every environment type of the catalog', () => {
      const present = new Set(objects.map((o) => o.type));
      const missing = Object.values(DEFAULT_CATALOG.types)
        .filter((t) => t.scope === 'environment' && !present.has(t.code))
        .map((t) => t.code);
      assert.deepEqual(missing, []);
      for (const t of ['USER', 'USRGRP', 'SECROLE']) assert.ok(present.has(t), `no ${t}`);
    });

    it('has no dangling refs and sets every required ref', () => {
      for (const o of objects) {
        const spec = DEFAULT_CATALOG.types[o.type]!;
        for (const r of refsOf(spec, o)) {
          assert.ok(byKey.has(key(r.type, r.id)), `${o.type}:${o.id}.${r.field} -> missing ${r.type}:${r.id}`);
        }
        for (const [field, ref] of Object.entries(spec.refs)) {
          if (ref.required)
            assert.ok(
              refsOf(spec, o).some((r) => r.field === field),
              `${o.type}:${o.id} lacks required ${field}`,
            );
        }
      }
    });

    it('keeps unique natural keys unique and repeats some non-unique names', () => {
      const seen = new Map<string, string>();
      for (const o of objects) {
        const spec = DEFAULT_CATALOG.types[o.type]!;
        if (!spec.naturalKey?.unique) continue;
        const k = naturalKeyOf(spec, o);
        assert.ok(k !== null, `${o.type}:${o.id} has no natural key`);
        const other = seen.get(`${o.type}${k}`);
        assert.equal(other, undefined, `${o.type} key ${k} used by ${other} and ${o.id}`);
        seen.set(`${o.type}${k}`, o.id);
      }
      if (n >= 5000) {
        const names = objects.filter((o) => o.type === 'TMPL').map((o) => o.name);
        assert.ok(new Set(names).size < names.length, 'no repeated template names');
      }
    });

    it('puts about 400 bytes of JSON in fields', () => {
      const avg = objects.reduce((s, o) => s + JSON.stringify(o.fields).length, 0) / objects.length;
      assert.ok(avg >= 300 && avg <= 500, `average ${avg}`);
    });

    it('is deterministic, and idPrefix changes ids only', () => {
      assert.deepEqual([...generateSample({ objects: n, seed: 'unit' })], objects);
      const other = [...generateSample({ objects: n, seed: 'unit', idPrefix: 'prod' })];
      assert.deepEqual(
        other.map((o) => `${o.type}/${o.name}`),
        objects.map((o) => `${o.type}/${o.name}`),
      );
      assert.ok(other.every((o, i) => o.id !== objects[i]!.id));
      assert.notDeepEqual([...generateSample({ objects: n, seed: 'other' })].slice(0, 20), objects.slice(0, 20));
    });

    it('contains a reference cycle among non-owner refs', () => {
      const cycle = findCycle(objects);
      assert.ok(cycle, 'no cycle');
    });

    it('nests groups up to 5 levels and gives templates 8-25 tasks', () => {
      const groups = new Map(objects.filter((o) => o.type === 'GROUP').map((o) => [o.id, o]));
      const depth = (id: string): number => {
        const parent = groups.get(id)!.fields.parentID;
        return typeof parent === 'string' ? 1 + depth(parent) : 1;
      };
      assert.equal(Math.max(...[...groups.keys()].map(depth)), 5);
      const tasks = new Map<unknown, number>();
      for (const o of objects) if (o.type === 'TTSK') tasks.set(o.fields.templateID, (tasks.get(o.fields.templateID) ?? 0) + 1);
      const templates = objects.filter((o) => o.type === 'TMPL');
      if (n === 300) assert.ok(templates.length >= 3 && templates.length <= 8, `${templates.length} templates`);
      for (const t of templates) {
        const count = tasks.get(t.id) ?? 0;
        assert.ok(count >= 8 && count <= 25, `${t.name}: ${count} tasks`);
      }
    });

    it('sampleSelection lists every template, dashboard and category without generating', () => {
      const expected = objects
        .filter((o) => o.type === 'TMPL' || o.type === 'PTLTAB' || o.type === 'CTGY')
        .map((o) => ({ type: o.type, id: o.id, name: o.name }));
      const sortKey = (s: { type: string; id: string }) => key(s.type, s.id);
      const got = sampleSelection({ objects: n, seed: 'unit' });
      assert.deepEqual(
        [...got].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
        expected.sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
      );
    });
  });
}

describe('demoSample', () => {
  it('gives production objects with dev names and other ids, one role edited', () => {
    const { dev, prodExisting } = demoSample();
    assert.equal(dev.length, 300);
    assert.ok(prodExisting.length >= 4 && prodExisting.length <= 6);
    const devIds = new Set(dev.map((o) => o.id));
    let edited = 0;
    for (const p of prodExisting) {
      assert.ok(!devIds.has(p.id), `${p.type} ${p.name} keeps its dev id`);
      const twin = dev.find((o) => o.type === p.type && o.name === p.name);
      assert.ok(twin, `${p.type} ${p.name} has no dev twin`);
      for (const r of refsOf(DEFAULT_CATALOG.types[p.type]!, p)) assert.fail(`prod ${p.type} ${p.name} refers to ${r.type}:${r.id}`);
      if (JSON.stringify(twin.fields) !== JSON.stringify(p.fields)) edited++;
    }
    assert.deepEqual(prodExisting.map((o) => o.type).sort(), ['GROUP', 'HOURT', 'ROLE', 'ROLE', 'ROLE']);
    assert.ok(prodExisting.some((o) => o.type === 'GROUP' && o.name === 'Default Group'));
    assert.equal(edited, 1);
  });
});

describe('generateSample at scale', () => {
  // How fast it goes is the benchmarks' business (npm run bench), never a test's: these machines are shared.
  it('streams 200k objects, one at a time', () => {
    const objects = generateSample({ objects: 200_000, seed: 'bench' });
    assert.ok(!Array.isArray(objects) && typeof objects[Symbol.iterator] === 'function', 'an iterable, not a list built first');
    let count = 0;
    for (const o of objects) if (o.id) count++;
    assert.equal(count, 200_000);
  });
});
