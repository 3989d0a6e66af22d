/**
 * The structure drawn from the code's own imports (issue 8, DESIGN.md
 * "Layout"): layers point inward, core <- store <- engine <- ops / server /
 * cli; the server never imports the CLI; a dialect (a folder under
 * src/server/dialects/) reaches the engine, core and the server's plumbing,
 * never the store and never another dialect.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');

/** Every relative import of every .ts file under src/, as paths relative to src/. */
function imports(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      out.push({ from: relative(SRC, file), to: relative(SRC, resolve(dirname(file), m[1]!)) });
    }
  }
  return out;
}

const RANK: Record<string, number> = { core: 0, store: 1, engine: 2, ops: 3, server: 3, cli: 3 };
const layer = (path: string) => path.split('/')[0]!;
/** The dialect a file belongs to (a file inside src/server/dialects/<name>/), or null for plumbing and the rest. */
const dialectOf = (path: string) => {
  const parts = path.split('/');
  return parts[0] === 'server' && parts[1] === 'dialects' && parts.length > 3 ? parts[2]! : null;
};

function violations(): string[] {
  const bad: string[] = [];
  for (const { from, to } of imports()) {
    const lf = layer(from);
    const lt = layer(to);
    if (!(lt in RANK)) bad.push(`${from} imports ${to}, outside src/`);
    else if (RANK[lf]! < 3 && RANK[lt]! > RANK[lf]!) bad.push(`${from} (${lf}) imports ${to} (${lt}): layers point inward`);
    else if ((lf === 'server' || lf === 'ops') && lt === 'cli') bad.push(`${from} imports the CLI (${to})`);
    else if (lf === 'ops' && lt === 'server') bad.push(`${from} imports the server (${to})`);
    const d = dialectOf(from);
    if (d && lt === 'store') bad.push(`${from}: the ${d} dialect imports the store (${to})`);
    const other = dialectOf(to);
    if (d && other && other !== d) bad.push(`${from}: the ${d} dialect imports the ${other} dialect (${to})`);
  }
  return bad;
}

describe('layers, from the imports of src/', () => {
  it('finds imports to judge', () => {
    const all = imports();
    assert.ok(all.length > 300, `only ${all.length} relative imports found: the scan is broken`);
    assert.ok(all.some((i) => dialectOf(i.from) === 'promotion' && layer(i.to) === 'engine'));
  });

  it('points inward, keeps the server off the CLI and each dialect to itself', () => {
    assert.deepEqual(violations(), []);
  });
});
