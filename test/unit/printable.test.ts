import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasLoneSurrogate, printable, printableJson, printableText } from '../../src/core/printable.js';

describe('printable', () => {
  it('escapes C0 and C1 controls, DEL, bidi controls, separators and lone surrogates; keeps the rest', () => {
    assert.equal(printable('a\u001b[2Jb\u0007\n\t'), 'a\\x1b[2Jb\\x07\\x0a\\x09');
    assert.equal(printable('x\u007f\u0085\u009b'), 'x\\x7f\\x85\\x9b');
    assert.equal(printable('\u202eevil\u202c \u2066i\u2069 \u200e\u061c'), '\\u202eevil\\u202c \\u2066i\\u2069 \\u200e\\u061c');
    assert.equal(printable('\u2028\u2029'), '\\u2028\\u2029');
    assert.equal(printable('a\ud800b\udc00'), 'a\\ud800b\\udc00');
    assert.equal(printable('Zoë 🚀 名前 "quoted"'), 'Zoë 🚀 名前 "quoted"');
  });

  it('printableText keeps our line breaks, and our colours only when asked', () => {
    assert.equal(printableText('a\nb\tc\u001b[31m!\u001b[0m'), 'a\nb\tc\\x1b[31m!\\x1b[0m');
    assert.equal(printableText('a\n\u001b[31m!\u001b[0m\u001b]0;t\u0007', { keepColors: true }), 'a\n\u001b[31m!\u001b[0m\\x1b]0;t\\x07');
  });

  it('printableJson stays valid JSON with the same value', () => {
    const value = { n: 'a\u202eb\u0085c\u2028\u007f', k: ['\u001b'] };
    const text = printableJson(JSON.stringify(value, null, 2));
    assert.ok(!/[\u007f-\u009f\u2028\u202e]/.test(text));
    assert.deepEqual(JSON.parse(text), value);
  });

  it('hasLoneSurrogate tells a lone surrogate from a pair', () => {
    assert.equal(hasLoneSurrogate('🚀'), false);
    assert.equal(hasLoneSurrogate('\ud83d'), true);
    assert.equal(hasLoneSurrogate('\ude80x'), true);
    assert.equal(hasLoneSurrogate('plain'), false);
  });
});
