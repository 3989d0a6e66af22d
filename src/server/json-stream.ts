import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Entries serialized per turn of the event loop. */
const SLICE = 2000;

/**
 * `JSON.stringify({...head, [key]: items})`, byte for byte, as a stream that
 * serializes `items` a slice per turn of the event loop. A plan of 10^5
 * entries is tens of megabytes of JSON: stringified at once it held the
 * loop (and every other request) for seconds (issue 9).
 *
 * @example reply.type('application/json; charset=utf-8').send(jsonWithArray({ installation, installBlocker }, 'entries', entries))
 */
export function jsonWithArray(head: Record<string, unknown>, key: string, items: readonly unknown[]): Readable {
  async function* pieces(): AsyncGenerator<string> {
    const start = JSON.stringify(head).slice(0, -1);
    yield `${start}${start.length > 1 ? ',' : ''}${JSON.stringify(key)}:[`;
    for (let i = 0; i < items.length; i += SLICE) {
      if (i > 0) await nextTurn();
      // An array's holes and undefined members are null in JSON.stringify: the same here.
      const slice = items.slice(i, i + SLICE).map((item) => JSON.stringify(item) ?? 'null');
      yield (i > 0 ? ',' : '') + slice.join(',');
    }
    yield ']}';
  }
  return Readable.from(pieces(), { objectMode: false });
}
