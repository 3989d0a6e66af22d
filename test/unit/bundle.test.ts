import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  encodeEntity,
  encodeHeader,
  encodeTrailer,
  EntityDigest,
  parseEntity,
  parseHeader,
  prettyJson,
  safeFileName,
} from '../../src/core/bundle.js';
import type { BundleEntity, BundleHeader } from '../../src/core/bundle.js';
import { ValidationError } from '../../src/core/errors.js';
import { readBundleEntities, readBundleHeader, verifyBundle, writeBundle, writeBundleDir } from '../../src/engine/bundle-io.js';
import { craftBundle, deepEntityLine, sameIdLines } from '../support/bundles.js';

const TYPES = ['GROUP', 'TMPL', 'TTSK'] as const;

function makeHeader(counts: Record<string, number>): BundleHeader {
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: '2025-01-02T03:04:05.000Z',
    catalogVersion: '2025.1',
    source: { envId: '123456789', uid: '0123456789abcdef0123456789abcdef', name: 'dev', tier: 'development', url: 'https://dev.example.test' },
    package: {
      id: 'pkg-1',
      name: 'Onboarding',
      description: 'templates and their groups',
      version: 3,
      status: 'ACTIVE',
      objectCollections: [{ objCode: 'TMPL', entities: [{ ID: 't-0', name: 'Template 0' }] }],
      removals: [{ type: 'GROUP', id: 'old-group' }],
      metadata: { installOrder: ['GROUP', 'TMPL', 'TTSK'], displayOrder: ['TMPL', 'TTSK', 'GROUP'], deferredRefs: 0 },
    },
    counts,
    entityCount: Object.values(counts).reduce((a, b) => a + b, 0),
  };
}

/** n entities spread over TYPES in install order (type, then id), plus the matching header. */
function makeWorld(n: number): { header: BundleHeader; entities: BundleEntity[] } {
  const entities: BundleEntity[] = [];
  for (let i = 0; i < n; i++) {
    const type = TYPES[i % TYPES.length] ?? 'TMPL';
    entities.push({
      type,
      id: `${type.toLowerCase()}-${String(i).padStart(5, '0')}`,
      name: `${type} ${i} é ✓`,
      fields: { z: i, a: [i, 'x'], nested: { b: true, a: null }, groupID: `group-${i % 7}` },
    });
  }
  entities.sort((x, y) => TYPES.indexOf(x.type as never) - TYPES.indexOf(y.type as never) || (x.id < y.id ? -1 : 1));
  const counts: Record<string, number> = {};
  for (const e of entities) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return { header: makeHeader(counts), entities };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-bundle-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
function file(name = 'b'): string {
  return join(dir, `${name}-${++seq}.ferry`);
}

/** A valid 1000-entity bundle at a fresh path. */
async function validBundle(): Promise<{ path: string; header: BundleHeader; entities: BundleEntity[] }> {
  const world = makeWorld(1000);
  const path = file();
  await writeBundle(path, world.header, world.entities);
  return { path, ...world };
}

/** Decompress, edit the NDJSON lines, recompress (without fixing the trailer). */
async function rewrite(path: string, edit: (lines: string[]) => string[]): Promise<void> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  assert.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  await writeFile(path, gzipSync(`${edit(lines).join('\n')}\n`));
}

async function refusal(promise: Promise<unknown>, substring: string): Promise<ValidationError> {
  const error = await promise.then(
    () => assert.fail(`expected a refusal containing "${substring}"`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
  assert.ok(error.message.includes(substring), `"${error.message}" should contain "${substring}"`);
  assert.ok(!error.message.includes('\n'), 'refusals are one line');
  return error;
}

describe('bundle codec (core)', () => {
  test('encodeEntity writes exactly type, id, name, fields with sorted keys', () => {
    const extra = { type: 'TMPL', id: 't1', name: 'T', fields: { b: 1, a: { d: 2, c: 3 } }, hash: 'h', ord: 4 };
    assert.equal(encodeEntity(extra), '{"fields":{"a":{"c":3,"d":2},"b":1},"id":"t1","name":"T","type":"TMPL"}');
  });

  test('encodeTrailer has the documented key order', () => {
    assert.equal(encodeTrailer(2, 'ab'), '{"trailer":true,"count":2,"sha256":"ab"}');
  });

  test('EntityDigest hashes each line followed by a newline', () => {
    const d = new EntityDigest();
    d.add('{"a":1}');
    d.add(Buffer.from('{"b":"é"}'));
    assert.equal(d.count, 2);
    const expected = createHash('sha256').update('{"a":1}\n{"b":"é"}\n').digest('hex');
    assert.equal(d.digest(), expected);
    assert.equal(d.digest(), expected);
  });

  test('parseHeader round-trips and refuses other formats and versions', () => {
    const header = makeHeader({ TMPL: 1 });
    assert.deepEqual(parseHeader(encodeHeader(header)), { value: header });
    assert.deepEqual(parseHeader(JSON.stringify({ ...header, format: 'zip' })), {
      errors: ['not a Ferry bundle (format is "zip")'],
    });
    assert.deepEqual(parseHeader(JSON.stringify({ ...header, formatVersion: 2 })), {
      errors: ['bundle format version 2 is not supported (this Ferry reads version 1)'],
    });
    assert.deepEqual(parseHeader('nope'), { errors: ['not a Ferry bundle (the first line is not JSON)'] });
    const bad = parseHeader(JSON.stringify({ ...header, entityCount: 5 }));
    assert.deepEqual(bad, { errors: ['invalid bundle header: counts add up to 1 but entityCount is 5'] });
    const missing = parseHeader(JSON.stringify({ ...header, package: { ...header.package, id: undefined } }));
    assert.ok('errors' in missing && missing.errors[0]?.includes('package.id'));
  });

  test('parseEntity names the line on bad JSON and bad shape', () => {
    assert.deepEqual(parseEntity('{"fields":{},"id":"1","name":"n","type":"T"}', 2), {
      type: 'T',
      id: '1',
      name: 'n',
      fields: {},
    });
    assert.throws(() => parseEntity('{"id":', 7), { name: 'ValidationError', message: 'line 7 is not valid JSON' });
    assert.throws(() => parseEntity('{"id":"1","name":"n","type":"T"}', 8), /line 8 has no "fields" object/);
    assert.throws(() => parseEntity('{"fields":{},"id":"1","name":"n","type":"T","x":1}', 9), /line 9 has an unexpected key "x"/);
    assert.throws(() => parseEntity(encodeTrailer(0, '0'.repeat(64)), 10), /line 10 is a trailer/);
  });

  test('safeFileName keeps plain ids and encodes everything risky, reversibly', () => {
    assert.equal(safeFileName('tmpl-00001_A.b'), 'tmpl-00001_A.b');
    assert.equal(safeFileName('a/b'), 'a%2Fb');
    assert.equal(safeFileName('a\\b'), 'a%5Cb');
    assert.equal(safeFileName('..'), '%2E%2E');
    assert.equal(safeFileName('.git'), '%2Egit');
    assert.equal(safeFileName('x.'), 'x%2E');
    assert.equal(safeFileName('a\0b'), 'a%00b');
    assert.equal(safeFileName('100%'), '100%25');
    assert.equal(safeFileName('é'), '%C3%A9');
    assert.equal(safeFileName('CON'), '%43ON');
    assert.equal(safeFileName('nul.txt'), '%6Eul.txt');
    const long = safeFileName('é'.repeat(200));
    assert.ok(long.length <= 200 && /~[0-9a-f]{16}$/.test(long), long);
    assert.notEqual(safeFileName(`${'a'.repeat(300)}1`), safeFileName(`${'a'.repeat(300)}2`));
    // Injective on the tricky neighbours.
    const ids = ['a/b', 'a%2Fb', 'a_b', '.', '..', '%2E', 'con', 'CON'];
    assert.equal(new Set(ids.map(safeFileName)).size, ids.length);
  });

  test('prettyJson sorts keys (integer-like ones too) with 2-space indent and a trailing newline', () => {
    assert.equal(
      prettyJson({ b: [1, {}], '10': 'x', '2': [], a: { d: null, c: undefined } }),
      '{\n  "10": "x",\n  "2": [],\n  "a": {\n    "d": null\n  },\n  "b": [\n    1,\n    {}\n  ]\n}\n',
    );
  });
});

describe('writeBundle / verifyBundle / readBundleEntities', () => {
  test('round trip: header, 1000 entities in the given order, trailer', async () => {
    const { header, entities } = makeWorld(1000);
    const path = file();
    const progress: number[] = [];
    const written = await writeBundle(path, header, entities, (n) => progress.push(n));
    assert.equal(written.count, 1000);
    assert.equal(progress.at(-1), 1000);
    assert.equal(written.bytes, (await stat(path)).size);

    const lines = gunzipSync(await readFile(path))
      .toString('utf8')
      .split('\n');
    assert.equal(lines.length, 1003, 'header + 1000 entities + trailer + final newline');
    assert.equal(lines[0], encodeHeader(header));
    assert.deepEqual(lines.slice(1, 1001), entities.map(encodeEntity));
    assert.equal(lines[1002], '');
    const sha = createHash('sha256')
      .update(
        lines
          .slice(1, 1001)
          .map((l) => `${l}\n`)
          .join(''),
      )
      .digest('hex');
    assert.equal(written.sha256, sha);
    assert.deepEqual(JSON.parse(lines[1001] ?? ''), { trailer: true, count: 1000, sha256: sha });

    assert.deepEqual(await verifyBundle(path), { header, count: 1000, sha256: sha, signedBy: null }); // written without a signer
    assert.deepEqual(await readBundleHeader(path), header);
    const read: BundleEntity[] = [];
    for await (const e of readBundleEntities(path)) read.push(e);
    assert.deepEqual(read, entities);
  });

  test('accepts an async iterable and ignores extra properties on entities', async () => {
    const { header, entities } = makeWorld(10);
    async function* source() {
      for (const e of entities) yield { ...e, hash: 'x', ord: 1, via: null };
    }
    const path = file();
    await writeBundle(path, header, source());
    const read: BundleEntity[] = [];
    for await (const e of readBundleEntities(path)) read.push(e);
    assert.deepEqual(read, entities);
  });

  test('breaking out of readBundleEntities early closes the file', async () => {
    const { path, entities } = await validBundle();
    let n = 0;
    for await (const e of readBundleEntities(path)) {
      assert.deepEqual(e, entities[n]);
      if (++n === 5) break;
    }
    assert.equal(n, 5);
    await rm(path); // would fail on some platforms with an open handle; here it checks nothing hangs
  });

  test('refuses a truncated file (bytes cut off the end of the gzip)', async () => {
    const { path } = await validBundle();
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    await refusal(verifyBundle(path), `bundle ${path} is truncated`);
    await refusal(collect(readBundleEntities(path)), 'is truncated');
  });

  test('refuses a bundle whose trailer is missing', async () => {
    const { path } = await validBundle();
    await rewrite(path, (lines) => lines.slice(0, -1));
    await refusal(verifyBundle(path), `bundle ${path} is truncated: no trailer`);
  });

  test('refuses a bundle cut mid-line', async () => {
    const { path } = await validBundle();
    const text = gunzipSync(await readFile(path)).toString('utf8');
    await writeFile(path, gzipSync(text.slice(0, Math.floor(text.length / 2))));
    await refusal(verifyBundle(path), `bundle ${path} is truncated: no trailer`);
  });

  test('refuses a tampered entity line', async () => {
    const { path } = await validBundle();
    await rewrite(path, (lines) => lines.map((l, i) => (i === 500 ? l.replace('"name":"', '"name":"X') : l)));
    await refusal(verifyBundle(path), `bundle ${path} failed its integrity check: sha256 mismatch`);
    // The reader also refuses, after the last entity, so a transaction around it rolls back.
    await refusal(collect(readBundleEntities(path)), 'sha256 mismatch');
  });

  test('reports a broken line in a tampered bundle as an integrity failure', async () => {
    const { path } = await validBundle();
    await rewrite(path, (lines) => lines.map((l, i) => (i === 500 ? l.slice(0, -3) : l)));
    await refusal(verifyBundle(path), 'failed its integrity check: sha256 mismatch');
  });

  test('refuses corrupt compressed data', async () => {
    const { path } = await validBundle();
    const bytes = await readFile(path);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    await refusal(verifyBundle(path), `bundle ${path} failed its integrity check`);
  });

  test('refuses a newer format version', async () => {
    const { path } = await validBundle();
    await rewrite(path, ([head = '', ...rest]) => [JSON.stringify({ ...JSON.parse(head), formatVersion: 2 }), ...rest]);
    await refusal(verifyBundle(path), 'bundle format version 2 is not supported (this Ferry reads version 1)');
    await refusal(readBundleHeader(path), 'bundle format version 2 is not supported');
  });

  test('refuses a plain text file', async () => {
    const path = file();
    await writeFile(path, 'hello, this is not a bundle\n');
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (not gzip-compressed)`);
  });

  test('refuses JSON that is not gzip-compressed', async () => {
    const { path } = await validBundle();
    await writeFile(path, gunzipSync(await readFile(path)));
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (not gzip-compressed: it looks like plain JSON)`);
  });

  test('refuses gzip that is not NDJSON, and JSON that is not a Ferry header', async () => {
    const path = file();
    await writeFile(path, gzipSync(randomBytes(5000)));
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (`);
    await writeFile(path, gzipSync('just text\nmore\n'));
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (the first line is not JSON)`);
    await writeFile(path, gzipSync('{"name":"package.json"}\n'));
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (no "format" in the header)`);
    await writeFile(path, gzipSync(''));
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (it is empty)`);
  });

  test('refuses an empty file, a directory, and a missing file', async () => {
    const path = file();
    await writeFile(path, '');
    await refusal(verifyBundle(path), `${path} is not a Ferry bundle (the file is empty)`);
    await refusal(verifyBundle(dir), `${dir} is not a Ferry bundle (it is a directory)`);
    const missing = join(dir, 'missing.ferry');
    await refusal(verifyBundle(missing), `bundle ${missing} not found`);
    await refusal(readBundleHeader(missing), `bundle ${missing} not found`);
    await refusal(collect(readBundleEntities(missing)), `bundle ${missing} not found`);
  });

  test('refuses a trailer whose count does not match', async () => {
    const { path } = await validBundle();
    await rewrite(path, (lines) => {
      const trailer = JSON.parse(lines.at(-1) ?? '') as { sha256: string };
      return [...lines.slice(0, -1), encodeTrailer(999, trailer.sha256)];
    });
    await refusal(verifyBundle(path), `bundle ${path} failed its integrity check: its trailer counts 999 entities but it holds 1000`);
  });

  test('refuses content after the trailer', async () => {
    const { path } = await validBundle();
    await rewrite(path, (lines) => [...lines, lines[1] ?? '']);
    await refusal(verifyBundle(path), `bundle ${path} has content after its trailer (line 1003)`);
    await refusal(collect(readBundleEntities(path)), 'has content after its trailer');
  });

  test('refuses per-type counts that disagree with the header', async () => {
    const { path, header } = await validBundle();
    const counts = { GROUP: (header.counts.GROUP ?? 0) + 1, TMPL: (header.counts.TMPL ?? 0) - 1, TTSK: header.counts.TTSK ?? 0 };
    await rewrite(path, ([, ...rest]) => [encodeHeader({ ...header, counts }), ...rest]);
    await refusal(verifyBundle(path), `bundle ${path}: its header counts ${counts.GROUP} GROUP entities but it holds ${counts.GROUP - 1}`);
  });

  test('refuses a well-digested entity line of the wrong shape, naming the line', async () => {
    const header = makeHeader({ TMPL: 2 });
    const lines = ['{"fields":{},"id":"a","name":"A","type":"TMPL"}', '{"id":"b","name":"B","type":"TMPL"}'];
    const d = new EntityDigest();
    for (const l of lines) d.add(l);
    const path = file();
    await writeFile(path, gzipSync(`${[encodeHeader(header), ...lines, encodeTrailer(2, d.digest())].join('\n')}\n`));
    await refusal(verifyBundle(path), `bundle ${path}: line 3 has no "fields" object`);
    await refusal(collect(readBundleEntities(path)), `bundle ${path}: line 3 has no "fields" object`);
  });

  test('refuses a well-digested bundle that repeats an id, naming the line (10^5 entities, one id)', async () => {
    const path = file();
    craftBundle(path, { GROUP: 100_000 }, sameIdLines(100_000));
    await refusal(verifyBundle(path), `bundle ${path}: line 3 repeats GROUP:same (first on line 2); an object appears once in a bundle`);
    // The same id under two types is two objects.
    const two = file();
    craftBundle(two, { GROUP: 1, ROLE: 1 }, ['{"fields":{},"id":"x","name":"X","type":"GROUP"}', '{"fields":{},"id":"x","name":"X","type":"ROLE"}']);
    assert.equal((await verifyBundle(two)).count, 2);
  });

  test('refuses a well-digested entity nested past the limit, naming the line, without overflowing the stack', async () => {
    for (const depth of [65, 100_000]) {
      const path = file();
      craftBundle(path, { GROUP: 2 }, ['{"fields":{},"id":"ok","name":"Ok","type":"GROUP"}', deepEntityLine('deep', depth)]);
      await refusal(verifyBundle(path), `bundle ${path}: line 3: fields are nested deeper than 64 levels (at fields.a.a.a.a...); Ferry accepts at most 64`);
      await refusal(collect(readBundleEntities(path)), `bundle ${path}: line 3: fields are nested deeper than 64 levels`);
    }
    const fits = file();
    craftBundle(fits, { GROUP: 1 }, [deepEntityLine('deep', 64)]);
    assert.equal((await verifyBundle(fits)).count, 1);
  });

  test('refuses a well-digested entity with a __proto__ key in its fields, naming the line (as the API refuses it)', async () => {
    for (const line of [
      '{"fields":{"__proto__":{"admin":true}},"id":"p","name":"P","type":"GROUP"}',
      '{"fields":{"a":[{"\\u005f_proto__":1}]},"id":"p","name":"P","type":"GROUP"}',
    ]) {
      const path = file();
      craftBundle(path, { GROUP: 2 }, ['{"fields":{},"id":"ok","name":"Ok","type":"GROUP"}', line]);
      const said = `bundle ${path}: line 3: a key named "__proto__" is refused (it would set the prototype of the object read, not add a field)`;
      await refusal(verifyBundle(path), said);
      await refusal(collect(readBundleEntities(path)), said);
    }
    // A key that only contains it, or a value that spells it, is a plain field.
    const plain = file();
    craftBundle(plain, { GROUP: 1 }, ['{"fields":{"my__proto__":"__proto__"},"id":"p","name":"P","type":"GROUP"}']);
    assert.equal((await verifyBundle(plain)).count, 1);
  });

  test('writeBundle leaves nothing at path when the iterator throws midway', async () => {
    const { header, entities } = makeWorld(5000);
    const path = file();
    function* failing() {
      for (const [i, e] of entities.entries()) {
        if (i === 4000) throw new Error('source went away');
        yield e;
      }
    }
    await assert.rejects(writeBundle(path, header, failing()), /source went away/);
    await assert.rejects(stat(path), { code: 'ENOENT' });
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  test('writeBundle keeps an existing bundle at path when it fails', async () => {
    const { path, header, entities } = await validBundle();
    const before = await readFile(path);
    await refusal(writeBundle(path, header, entities.slice(1)), `its header says 1000 entities but it holds 999`);
    assert.deepEqual(await readFile(path), before);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  test('writeBundle refuses counts that disagree with the header, an unknown type and a bad entity', async () => {
    const { header, entities } = makeWorld(30);
    const path = file();
    const swapped = { ...header, counts: { GROUP: 9, TMPL: 11, TTSK: 10 } };
    await refusal(writeBundle(path, swapped, entities), 'its header counts 9 GROUP entities but it holds 10');
    const other = [...entities, { type: 'USER', id: 'u', name: 'U', fields: {} }];
    await refusal(writeBundle(path, header, other), 'an entity of type "USER" is not counted in the header');
    const bad = [{ type: 'TMPL', id: '', name: 'x', fields: {} }];
    await refusal(writeBundle(path, makeHeader({ TMPL: 1 }), bad), 'entity #1 has no "id" string');
    await refusal(writeBundle(join(dir, 'no-such-dir', 'x.ferry'), header, entities), 'does not exist');
    await refusal(writeBundle(dir, header, entities), `cannot write ${dir}: it is a directory`);
    await refusal(writeBundle(path, { ...header, formatVersion: 2 }, entities), `cannot write bundle ${path}: bundle format version 2`);
    await assert.rejects(stat(path), { code: 'ENOENT' });
  });

  test('handles entity lines longer than 64 KiB', async () => {
    const big = 'x'.repeat(300_000);
    const entities = [
      { type: 'TMPL', id: 'big', name: 'Big', fields: { big } },
      { type: 'TMPL', id: 'small', name: 'Small', fields: {} },
    ];
    const path = file();
    await writeBundle(path, makeHeader({ TMPL: 2 }), entities);
    assert.equal((await verifyBundle(path)).count, 2);
    assert.deepEqual(await collect(readBundleEntities(path)), entities);
  });

  test('streams a 200k-entity bundle without growing memory', async (t) => {
    const N = 200_000;
    const counts = { GROUP: N / 4, TMPL: N / 4, TTSK: N / 2 };
    const header = makeHeader(counts);
    function* generate(): Generator<BundleEntity> {
      let i = 0;
      for (const [type, n] of Object.entries(counts)) {
        for (let k = 0; k < n; k++, i++) {
          yield {
            type,
            id: `${type}-${String(k).padStart(7, '0')}`,
            name: `${type} object ${k}`,
            fields: {
              description: `${randomBytes(64).toString('hex')} ${'lorem ipsum dolor sit amet '.repeat(8)}`,
              groupID: `GROUP-${String(k % 1000).padStart(7, '0')}`,
              order: k,
              flags: { active: k % 2 === 0, archived: false },
              tags: ['alpha', 'beta', String(i)],
            },
          };
        }
      }
    }
    const path = file('big');
    const rss0 = process.memoryUsage().rss;
    let writePeak = rss0;
    let t0 = performance.now();
    const written = await writeBundle(path, header, generate(), () => {
      writePeak = Math.max(writePeak, process.memoryUsage().rss);
    });
    const writeMs = performance.now() - t0;
    assert.equal(written.count, N);

    const rss1 = process.memoryUsage().rss;
    let verifyPeak = rss1;
    let seen = 0;
    t0 = performance.now();
    const verified = await verifyBundle(path, (n) => {
      seen = n;
      verifyPeak = Math.max(verifyPeak, process.memoryUsage().rss);
    });
    const verifyMs = performance.now() - t0;
    assert.equal(verified.count, N);
    assert.equal(verified.sha256, written.sha256);
    assert.equal(seen, N);

    let readCount = 0;
    let readPeak = rss1;
    t0 = performance.now();
    for await (const e of readBundleEntities(path)) {
      if (++readCount % 1000 === 0) readPeak = Math.max(readPeak, process.memoryUsage().rss);
      assert.ok(e.id);
    }
    const readMs = performance.now() - t0;
    assert.equal(readCount, N);

    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    const line = encodeEntity(generate().next().value as BundleEntity);
    t.diagnostic(
      `${N} entities (~${line.length} B/line, ${mb(written.bytes)} MB gzip): ` +
        `write ${writeMs.toFixed(0)} ms (${((N / writeMs) * 1000).toFixed(0)}/s), rss +${mb(writePeak - rss0)} MB; ` +
        `verify ${verifyMs.toFixed(0)} ms (${((N / verifyMs) * 1000).toFixed(0)}/s), rss +${mb(verifyPeak - rss1)} MB; ` +
        `read ${readMs.toFixed(0)} ms, rss +${mb(readPeak - rss1)} MB; baseline rss ${mb(rss0)} MB`,
    );
    const limit = 150 * 1024 * 1024;
    assert.ok(writePeak - rss0 < limit, `write grew rss by ${mb(writePeak - rss0)} MB`);
    assert.ok(verifyPeak - rss1 < limit, `verify grew rss by ${mb(verifyPeak - rss1)} MB`);
    assert.ok(readPeak - rss1 < limit, `read grew rss by ${mb(readPeak - rss1)} MB`);
    await rm(path);
  });
});

describe('writeBundleDir', () => {
  test('writes bundle.json and <type>/<id>.json with the .ferry digest', async () => {
    const { header, entities } = makeWorld(30);
    const odd: BundleEntity[] = [
      { type: 'TMPL', id: 'a/b', name: 'slash', fields: { '10': 1, '2': 2 } },
      { type: 'TMPL', id: '..', name: 'dots', fields: {} },
      { type: 'TMPL', id: 'CON', name: 'device', fields: {} },
    ];
    const all = [...entities, ...odd];
    const h = { ...header, counts: { ...header.counts, TMPL: (header.counts.TMPL ?? 0) + 3 }, entityCount: header.entityCount + 3 };
    const target = join(dir, `tree-${++seq}`);
    assert.deepEqual(await writeBundleDir(target, h, all), { count: 33 });
    const ferry = file();
    const written = await writeBundle(ferry, h, all);

    assert.deepEqual((await readdir(target)).sort(), ['GROUP', 'TMPL', 'TTSK', 'bundle.json']);
    const bundleJson = await readFile(join(target, 'bundle.json'), 'utf8');
    assert.equal(bundleJson, prettyJson({ ...h, trailer: { count: 33, sha256: written.sha256 } }));
    assert.ok(bundleJson.startsWith('{\n  "catalogVersion": '));

    const first = entities[0];
    assert.ok(first);
    const text = await readFile(join(target, first.type, `${first.id}.json`), 'utf8');
    assert.equal(text, prettyJson(first));
    assert.ok(text.endsWith('}\n') && text.includes('\n  "fields": {\n    "a": [\n'));
    assert.deepEqual(JSON.parse(text), first);

    const tmpl = await readdir(join(target, 'TMPL'));
    for (const name of ['a%2Fb.json', '%2E%2E.json', '%43ON.json']) assert.ok(tmpl.includes(name), name);
    const slash = JSON.parse(await readFile(join(target, 'TMPL', 'a%2Fb.json'), 'utf8')) as BundleEntity;
    assert.equal(slash.id, 'a/b');
    assert.equal(tmpl.length, (header.counts.TMPL ?? 0) + 3);
  });

  test('replaces a previous export but refuses a foreign non-empty directory', async () => {
    const { header, entities } = makeWorld(9);
    const target = join(dir, `tree-${++seq}`);
    await writeBundleDir(target, header, entities);
    await writeFile(join(target, 'TMPL', 'stale.json'), '{}\n');
    const small = makeWorld(3);
    await writeBundleDir(target, small.header, small.entities);
    assert.deepEqual(await readdir(join(target, 'TMPL')), ['tmpl-00001.json']);

    const foreign = join(dir, `foreign-${++seq}`);
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    await refusal(writeBundleDir(foreign, header, entities), `refusing to replace ${foreign}: it is not empty and holds no Ferry bundle.json`);
    assert.deepEqual(await readdir(foreign), ['notes.txt']);

    // A Ferry export at a repository root is still not wiped.
    await mkdir(join(target, '.git'));
    await refusal(writeBundleDir(target, header, entities), 'holds .git, which Ferry did not write');

    const empty = join(dir, `empty-${++seq}`);
    await mkdir(empty);
    assert.deepEqual(await writeBundleDir(empty, header, entities), { count: 9 });
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.tmp') || n.endsWith('.old')),
      [],
    );
  });

  test('refuses duplicate ids and a count mismatch, leaving nothing behind', async () => {
    const { header, entities } = makeWorld(6);
    const target = join(dir, `tree-${++seq}`);
    const first = entities[0];
    assert.ok(first);
    const dup = [...entities.slice(0, -1), first];
    await refusal(writeBundleDir(target, header, dup), `two entities map to ${first.type}/${first.id}.json`);
    await refusal(writeBundleDir(target, header, entities.slice(1)), 'its header says 6 entities but it holds 5');
    await assert.rejects(stat(target), { code: 'ENOENT' });
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
