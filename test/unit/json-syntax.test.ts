import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findJsonSyntaxError } from '../../src/core/json-syntax.js';
import { closest, didYouMean } from '../../src/core/suggest.js';
import { formatBytes } from '../../src/core/limits.js';

describe('JSON syntax errors located (core)', () => {
  it('finds nothing wrong in what JSON.parse accepts', () => {
    for (const text of ['{}', ' [ ] ', '{"a":[1,{"b":-2.5e3}],"c":null,"d":true,"e":"\\u00e9\\n"}', '\uFEFF{"a":1}', '['.repeat(50_000) + ']'.repeat(50_000)]) {
      JSON.parse(text.replace(/^\uFEFF/, ''));
      assert.equal(findJsonSyntaxError(text), null, text.slice(0, 40));
    }
  });

  it('names the line, the column and what was expected for each kind of mistake JSON.parse refuses', () => {
    const cases: [string, number, number, RegExp][] = [
      ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected ',' or '}' after a property value, found '"'/],
      ['[1, 2,]', 1, 7, /trailing comma/],
      ['{"a": 1,}', 1, 9, /expected a property name in double quotes, found '}'/],
      ["{'a': 1}", 1, 2, /single quote/],
      ['{"a" 1}', 1, 6, /expected ':' after a property name/],
      ['{"a": tru}', 1, 7, /found 'tru'/],
      ['"abc', 1, 1, /never closed/],
      ['{"a": "x\ny"}', 1, 9, /control character/],
      ['{"a": "\\x"}', 1, 8, /invalid escape/],
      ['[01]', 1, 3, /in a number/],
      ['{"a": 1} x', 1, 10, /after the end of the JSON value/],
      ['', 1, 1, /found the end of the text/],
      ['[[[', 1, 4, /found the end of the text/],
    ];
    for (const [text, line, column, reason] of cases) {
      assert.throws(() => JSON.parse(text));
      const p = findJsonSyntaxError(text);
      assert.ok(p, text);
      assert.deepEqual([p.line, p.column], [line, column], `${JSON.stringify(text)}: ${p.reason}`);
      assert.match(p.reason, reason);
    }
  });
});

describe('closest names and sizes for messages (core)', () => {
  it('suggests only the nearest names, and nothing when none is near', () => {
    assert.deepEqual(closest('TMPX', ['TMPL', 'CMPY', 'GROUP']), ['TMPL']);
    assert.deepEqual(closest('10000001', ['100000001', '100000002', 'prod']), ['100000001']);
    assert.deepEqual(closest('1000003', ['100000001', '100000003']), ['100000003']);
    assert.deepEqual(closest('production', ['dev', 'test']), []);
    assert.deepEqual(closest('x', []), []);
    assert.equal(didYouMean('dev-c', ['dev-a', 'dev-b', 'dev']), ' (did you mean dev-a or dev-b?)');
    assert.equal(didYouMean('zzz', ['dev']), '');
  });

  it('writes limits as people read them', () => {
    assert.equal(formatBytes(32 * 1024 * 1024), '32 MiB');
    assert.equal(formatBytes(1024 ** 3), '1 GiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(900), '900 bytes');
  });
});
