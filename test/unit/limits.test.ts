import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/core/errors.js';
import { DEFAULT_CATALOG } from '../../src/core/default-catalog.js';
import { FingerprintSet } from '../../src/core/fingerprint-set.js';
import { MAX_BODY_DEPTH, MAX_FIELD_DEPTH, tooDeep } from '../../src/core/limits.js';
import { validateObjects } from '../../src/engine/validate-input.js';
import { findUnacceptable } from '../../src/server/validation.js';

/** A JSON value nested `depth` levels deep (the outer object is level 1), as JSON.parse builds it. */
const nested = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1));

describe('nesting limits', () => {
  const catalog = DEFAULT_CATALOG;

  it('tooDeep measures objects and arrays, the value itself being level 1', () => {
    assert.equal(tooDeep({}, 1), null);
    assert.deepEqual(tooDeep({ a: {} }, 1), ['a']);
    assert.equal(tooDeep({ a: [1, 'x', null] }, 2), null);
    assert.deepEqual(tooDeep({ a: [1, [[]]] }, 3), ['a', 1, 0]);
    assert.equal(tooDeep(nested(MAX_FIELD_DEPTH), MAX_FIELD_DEPTH), null);
    assert.equal(tooDeep(nested(MAX_FIELD_DEPTH + 1), MAX_FIELD_DEPTH)?.length, MAX_FIELD_DEPTH);
  });

  it('a value nested 10^5 levels deep is measured without overflowing the stack', () => {
    const deep = nested(100_000);
    assert.equal(tooDeep(deep, MAX_FIELD_DEPTH)?.length, MAX_FIELD_DEPTH);
    assert.match(
      findUnacceptable({ fields: deep }, 'body') ?? '',
      new RegExp(`body is nested deeper than ${MAX_BODY_DEPTH} levels \\(at body\\.fields\\.a\\.a`),
    );
    assert.equal(findUnacceptable({ fields: nested(MAX_FIELD_DEPTH) }, 'body'), null);
  });

  it('the engine refuses fields nested deeper than 64 levels, naming the object and the limit (the CLI and every API face)', () => {
    const ok = { type: 'GROUP', id: 'g1', name: 'G', fields: nested(MAX_FIELD_DEPTH) };
    assert.equal(validateObjects([ok], catalog).length, 1);
    for (const depth of [MAX_FIELD_DEPTH + 1, 4000, 100_000]) {
      assert.throws(
        () => validateObjects([ok, { type: 'GROUP', id: 'g2', name: 'G', fields: nested(depth) }], catalog),
        (e: unknown) =>
          e instanceof ValidationError &&
          /^object #2 \(GROUP:g2\): fields are nested deeper than 64 levels \(at fields\.a\.a\.a\.a\.\.\.\); Ferry accepts at most 64$/.test(e.message),
      );
    }
  });
});

describe('FingerprintSet', () => {
  it('answers "seen" for a string added before, and (practically) never for a new one', () => {
    const set = new FingerprintSet();
    let clashes = 0;
    for (let i = 0; i < 300_000; i++) if (set.add(`GROUP\u0000${i.toString(16).padStart(32, '0')}`)) clashes++;
    assert.equal(set.size, 300_000 - clashes);
    assert.ok(clashes <= 1, `${clashes} fingerprint clashes among 300k ids`);
    assert.equal(set.add('GROUP\u0000' + (12345).toString(16).padStart(32, '0')), true);
    assert.equal(set.add('ROLE\u0000' + (12345).toString(16).padStart(32, '0')), false);
  });
});
