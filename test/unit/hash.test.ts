import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, contentHash, contentHashAndFields } from '../../src/core/hash.js';
import { generateSample } from '../../src/engine/sample-data.js';

describe('contentHashAndFields', () => {
  it('gives the same hash as contentHash and the canonical JSON of the fields', () => {
    const cases: { name: string; fields: Record<string, unknown> }[] = [
      { name: '', fields: {} },
      { name: 'Quote " and \\ backslash', fields: { b: 1, a: [undefined, null, 'x'], '10': { z: 1, y: undefined }, '2': true } },
      { name: 'Line\u2028separator \u0001 and é', fields: { nested: { deep: [{ k: -0 }, 1e21, 0.1] }, empty: [] } },
      { name: 'lone surrogate \ud800', fields: { s: '\udfff' } },
      ...[...generateSample({ objects: 300 })].map((o) => ({ name: o.name, fields: o.fields })),
    ];
    for (const c of cases) {
      const r = contentHashAndFields(c.name, c.fields);
      assert.equal(r.hash, contentHash(c.name, c.fields), c.name);
      assert.equal(r.fieldsJson, canonicalJson(c.fields), c.name);
      assert.deepEqual(JSON.parse(r.fieldsJson), JSON.parse(JSON.stringify(c.fields)), c.name);
    }
  });
});
