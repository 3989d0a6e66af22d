import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonWithArray } from '../../src/server/json-stream.js';

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

describe('jsonWithArray (a plan answered a slice at a time)', () => {
  it('writes exactly the bytes of JSON.stringify', async () => {
    const cases: [Record<string, unknown>, unknown[]][] = [
      [{ installation: { id: 'i', at: new Date(0) }, installBlocker: null, dropped: undefined }, [{ x: 'é"\n\u2028' }, undefined, 3, null]],
      [{}, []],
      [{}, [1]],
      [{ installBlocker: 'DRAFT installs nowhere' }, Array.from({ length: 4501 }, (_, i) => ({ i, gone: undefined, name: `n${i}` }))],
    ];
    for (const [head, items] of cases) assert.equal(await text(jsonWithArray(head, 'entries', items)), JSON.stringify({ ...head, entries: items }));
  });

  it('comes in several pieces for a big array', async () => {
    let pieces = 0;
    for await (const _ of jsonWithArray(
      { a: 1 },
      'entries',
      Array.from({ length: 5000 }, (_, i) => i),
    ))
      pieces++;
    assert.ok(pieces >= 4, `${pieces} pieces`);
  });
});
