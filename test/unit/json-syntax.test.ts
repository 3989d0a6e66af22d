import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findJsonSyntaxError, parseJsonText } from '../../src/core/json-syntax.js';

const parses = (t: string) => {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
};

describe('JSON syntax errors with line and column', () => {
  it('names the first place the text stops being JSON', () => {
    assert.deepEqual(findJsonSyntaxError('[1,\n2,,3]'), { offset: 6, line: 2, column: 3, message: "expected a value, found ','" });
    assert.deepEqual(findJsonSyntaxError('{"a": 1,\n}'), {
      offset: 9,
      line: 2,
      column: 1,
      message: "expected a property name in double quotes, found '}'",
    });
    assert.equal(findJsonSyntaxError('[1,\n2')!.message, "expected ',' or ']' after an array element, found the end of the input");
    assert.equal(findJsonSyntaxError('["a\u0007"]')!.message, 'a control character inside a string (escape it, e.g. \\n), found \\u0007');
    assert.equal(findJsonSyntaxError('[1] x')!.column, 5);
    assert.equal(findJsonSyntaxError('{"a":[{"b":[null,true,false,-1.5e+3,"\\u00e9\\n"]}]}'), null);
  });

  it('parseJsonText refuses with "line L, column C: ..." and parses what JSON.parse parses', () => {
    assert.throws(() => parseJsonText('{\n  "a": 1\n  "b": 2\n}'), {
      name: 'SyntaxError',
      message: "line 3, column 3: expected ',' or '}' after a property value, found '\"'",
    });
    assert.deepEqual(parseJsonText('{"a":[1]}'), { a: [1] });
  });

  it('agrees with JSON.parse on which texts are JSON (generated texts, valid and broken)', () => {
    const json = fc.json().chain((t) =>
      fc.oneof(
        fc.constant(t),
        fc.tuple(fc.nat(t.length), fc.constantFrom(',', '}', ']', '"', ':', '\n', 'x', '\\', '')).map(([i, c]) => t.slice(0, i) + c + t.slice(i)),
        fc.nat(t.length).map((i) => t.slice(0, i) + t.slice(i + 1)),
      ),
    );
    fc.assert(
      fc.property(json, (t) => {
        const p = findJsonSyntaxError(t);
        assert.equal(p === null, parses(t), `${JSON.stringify(t)}: ${JSON.stringify(p)}`);
        if (p) assert.ok(p.offset <= t.length);
      }),
      { numRuns: 2000 },
    );
  });
});
