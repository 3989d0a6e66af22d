import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closest, didYouMean } from '../../src/core/suggest.js';
import { formatBytes } from '../../src/core/limits.js';

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
