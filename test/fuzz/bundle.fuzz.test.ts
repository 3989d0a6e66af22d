/**
 * Fuzzing the bundle reader (issue 9) with fast-check: a real signed export,
 * mutated (truncated, bits flipped in the compressed or the decompressed
 * bytes, bad gzip, long lines, deep nesting, repeated ids, wrong headers, bad
 * trailers, bad or foreign signatures), or crafted whole (lines of random
 * JSON under a matching digest, re-signed with the server's key so that the
 * checks past the signature are reached too). Each file goes to verifyBundle
 * and to an import (dry run) into an environment that trusts the server's key
 * and one that takes any bundle. Every one is accepted, or refused with a
 * FerryError of status 4xx and a message; never anything else (no INTERNAL,
 * no stack overflow); import never accepts what verify refuses; a refused
 * import writes nothing; memory stays bounded.
 *
 * `npm test` runs FERRY_FUZZ_RUNS (150) files; `npm run test:fuzz` runs 5000.
 * FERRY_FUZZ_SEED replays a run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { encodeTrailer, EntityDigest } from '../../src/core/bundle.js';
import { headerDigest, rawPublicKey, signedMessage } from '../../src/core/bundle-signature.js';
import { FerryError } from '../../src/core/errors.js';
import { exportPackage, importBundle } from '../../src/engine/bundles.js';
import { verifyBundle, type VerifiedBundle } from '../../src/engine/bundle-io.js';
import type { ServerSigningKey } from '../../src/engine/engine.js';
import { openTestEngine, type TestEngine } from '../support/engines.js';

const RUNS = Number(process.env.FERRY_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 1_000_000);
/** RSS ceiling for the whole run: a reader that buffers a bomb or recurses without end would pass it. */
const MAX_RSS = 1536 * 1024 * 1024;

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip-compressed'; at: number; bit: number }
  | { kind: 'flip-line'; line: number; at: number; bit: number; reseal: boolean }
  | { kind: 'garbage'; bytes: Uint8Array; gzipMagic: boolean }
  | { kind: 'long-line'; line: number; length: number; reseal: boolean }
  | { kind: 'deep'; depth: number; reseal: boolean }
  | { kind: 'repeat'; times: number; reseal: boolean }
  | { kind: 'header'; header: unknown; reseal: boolean }
  | { kind: 'trailer'; trailer: unknown }
  | { kind: 'signature'; signature: unknown }
  | { kind: 'lines'; lines: string[]; reseal: boolean }
  | { kind: 'after-trailer'; extra: string }
  | { kind: 'drop-line'; line: number; reseal: boolean }
  | { kind: 'signer'; signer: 'none' | 'foreign' };

const base64Of = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('base64'));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip-compressed' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('flip-line' as const), line: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 200 }), gzipMagic: fc.boolean() }),
  fc.record({ kind: fc.constant('long-line' as const), line: fc.nat(), length: fc.integer({ min: 1000, max: 2_000_000 }), reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 30, max: 200_000 }), reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 2000 }), reseal: fc.boolean() }),
  fc.record({
    kind: fc.constant('header' as const),
    header: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constant({ format: 'ferry-bundle', formatVersion: 2 }),
      fc.constant({ format: 'ferry-bundle', formatVersion: 1 }),
    ),
    reseal: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('trailer' as const),
    trailer: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ trailer: fc.constant(true), count: fc.oneof(fc.integer(), fc.double()), sha256: fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)) }),
    ),
  }),
  fc.record({
    kind: fc.constant('signature' as const),
    signature: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ alg: fc.constantFrom('ed25519', 'rsa', ''), key: fc.oneof(base64Of(32), fc.string()), value: fc.oneof(base64Of(64), fc.string()) }),
    ),
  }),
  fc.record({
    kind: fc.constant('lines' as const),
    lines: fc.array(
      fc.oneof(
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
        fc
          .record({
            type: fc.constantFrom('GROUP', 'ROLE', 'TMPL', 'NOPE', ''),
            id: fc.string({ maxLength: 8 }),
            name: fc.string({ maxLength: 8 }),
            fields: fc.jsonValue({ maxDepth: 3 }),
          })
          .map((e) => JSON.stringify(e)),
        fc.string({ maxLength: 50 }),
      ),
      { maxLength: 20 },
    ),
    reseal: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('after-trailer' as const), extra: fc.string({ maxLength: 40 }) }),
  fc.record({ kind: fc.constant('drop-line' as const), line: fc.nat(), reseal: fc.boolean() }),
  fc.record({ kind: fc.constant('signer' as const), signer: fc.constantFrom('none' as const, 'foreign' as const) }),
);

/** A key that is not the server's: what a bundle made elsewhere is signed with. */
const foreign = generateKeyPairSync('ed25519').privateKey;

function describeMutation(m: Mutation): string {
  return JSON.stringify(m, (_k, v: unknown) =>
    v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}...` : v,
  );
}

describe(`fuzzing the bundle reader: ${RUNS} files (FERRY_FUZZ_SEED=${SEED})`, () => {
  let t: TestEngine;
  let dir: string;
  let original: Buffer;
  let lines: string[];
  let key: ServerSigningKey;

  before(async () => {
    t = await openTestEngine('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'ferry-bundle-fuzz-'));
    const e = t.engine;
    await e.createEnvironment({ id: 'dev', name: 'Dev', tier: 'development' });
    await e.loadObjects('dev', [
      { type: 'ROLE', id: 'r1', name: 'Planner', fields: {} },
      { type: 'GROUP', id: 'g1', name: 'Ops', fields: { description: 'x' } },
      { type: 'TMPL', id: 't1', name: 'Onboarding', fields: { groupID: 'g1' } },
      { type: 'TTSK', id: 'k1', name: 'Brief', fields: { templateID: 't1', roleID: 'r1' } },
    ]);
    const pkg = await e.createPackage({ sourceEnvId: 'dev', name: 'Fuzzed', selection: [{ type: 'TMPL', id: 't1' }] });
    await e.setPackageStatus(pkg.id, 'ACTIVE');
    key = await e.signingKey();
    await e.createEnvironment({ id: 'strict', name: 'Strict', tier: 'production', trustedSigningKeys: [key.fingerprint] });
    await e.createEnvironment({ id: 'open', name: 'Open', tier: 'production' });
    const file = join(dir, 'original.ferry');
    await exportPackage(e, pkg.id, { file });
    original = readFileSync(file);
    lines = gunzipSync(original).toString('utf8').split('\n');
    assert.equal(lines.pop(), '', 'a bundle ends with a newline');
  });
  after(async () => {
    await t?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Header, entities and a trailer whose count and SHA-256 match them, signed
   * with the server's key: only what the lines hold can refuse such a file.
   */
  function seal(header: string, entities: string[], signer: 'server' | 'none' | 'foreign' = 'server'): string[] {
    const digest = new EntityDigest();
    for (const l of entities) digest.add(l);
    const sha = digest.digest();
    const message = signedMessage(headerDigest(header), digest.count, sha);
    const signature =
      signer === 'server'
        ? key.sign(message)
        : signer === 'foreign'
          ? {
              alg: 'ed25519' as const,
              key: rawPublicKey(createPublicKey(foreign)).toString('base64'),
              value: sign(null, message, foreign).toString('base64'),
            }
          : undefined;
    return [header, ...entities, encodeTrailer(digest.count, sha, signature)];
  }

  function build(m: Mutation): Buffer {
    const header = lines[0]!;
    const entities = lines.slice(1, -1);
    const trailer = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    const out = (ls: string[]) => gzipSync(`${ls.join('\n')}\n`);
    const maybeSeal = (reseal: boolean, h: string, es: string[]) => out(reseal ? seal(h, es) : [h, ...es, lines.at(-1)!]);
    switch (m.kind) {
      case 'truncate':
        return original.subarray(0, m.at % original.length);
      case 'flip-compressed': {
        const b = Buffer.from(original);
        b[m.at % b.length]! ^= 1 << m.bit;
        return b;
      }
      case 'flip-line': {
        const all = [...lines];
        const i = m.line % all.length;
        const bytes = Buffer.from(all[i]!, 'utf8');
        if (bytes.length > 0) bytes[m.at % bytes.length]! ^= 1 << m.bit;
        all[i] = bytes.toString('latin1');
        // Written as bytes, so an invalid UTF-8 sequence reaches the reader as it is.
        const raw = Buffer.concat(all.map((l, j) => Buffer.concat([j === i ? bytes : Buffer.from(l, 'utf8'), Buffer.from('\n')])));
        if (!m.reseal || i === 0 || i === all.length - 1) return gzipSync(raw);
        const es = entities.map((l, j) => (j === i - 1 ? bytes.toString('utf8') : l));
        return out(seal(header, es));
      }
      case 'garbage':
        return Buffer.concat([m.gzipMagic ? Buffer.from([0x1f, 0x8b]) : Buffer.alloc(0), Buffer.from(m.bytes)]);
      case 'long-line': {
        const es = [...entities];
        es[m.line % es.length] = `{"fields":{"pad":"${'x'.repeat(m.length)}"},"id":"long","name":"Long","type":"GROUP"}`;
        return maybeSeal(m.reseal, header, es);
      }
      case 'deep': {
        const deep = `{"fields":${'{"a":'.repeat(m.depth)}{}${'}'.repeat(m.depth)},"id":"deep","name":"Deep","type":"GROUP"}`;
        return maybeSeal(m.reseal, header, [...entities.slice(1), deep]);
      }
      case 'repeat':
        return maybeSeal(m.reseal, header, [...entities, ...Array<string>(m.times - 1).fill(entities[0]!)]);
      case 'header':
        return maybeSeal(m.reseal, JSON.stringify(m.header) ?? 'null', entities);
      case 'trailer':
        return out([header, ...entities, JSON.stringify(m.trailer) ?? 'null']);
      case 'signature':
        return out([header, ...entities, JSON.stringify({ ...trailer, signature: m.signature })]);
      case 'lines':
        return maybeSeal(m.reseal, header, m.lines);
      case 'after-trailer':
        return out([...lines, m.extra]);
      case 'signer':
        return out(seal(header, entities, m.signer));
      case 'drop-line': {
        const all = [...lines];
        all.splice(m.line % all.length, 1);
        if (!m.reseal || all.length < 2) return out(all);
        return out(seal(all[0]!, all.slice(1, -1)));
      }
    }
  }

  /** What a refused import must not change. */
  async function fingerprint(): Promise<string> {
    const e = t.engine;
    return JSON.stringify({
      packages: (await e.listPackages()).length,
      installations: (await e.listInstallations()).length,
      envs: (await e.listEnvironments()).map((x) => [x.id, x.version]),
      objects: [(await e.listObjects('strict')).total, (await e.listObjects('open')).total],
    });
  }

  /** Accepted, or refused with a 4xx FerryError and a message; anything else fails the run. */
  async function outcome(where: string, p: Promise<unknown>, accepted?: (value: unknown) => void): Promise<string | null> {
    try {
      const value = await p;
      accepted?.(value);
      return null;
    } catch (error) {
      assert.ok(error instanceof FerryError, `${where}: not a FerryError: ${error instanceof Error ? error.stack : String(error)}`);
      assert.ok(error.status >= 400 && error.status < 500, `${where}: ${error.status} ${error.code}: ${error.message}`);
      assert.notEqual(error.code, 'INTERNAL', `${where}: ${error.message}`);
      assert.match(error.message, /[a-z]{3}/i, `${where}: no message`);
      return error.message;
    }
  }

  it('accepts or refuses every mutated or crafted bundle with a clear message; a refused import writes nothing; memory stays bounded', async () => {
    let peak = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutation, fc.constantFrom('strict', 'open'), async (m, target) => {
        const path = join(dir, `m${n++}.ferry`);
        writeFileSync(path, build(m));
        const where = `${describeMutation(m)} into ${target}`;
        let signedBy: string | null = null;
        const verified = await outcome(`verify ${where}`, verifyBundle(path), (v) => (signedBy = (v as VerifiedBundle).signedBy?.fingerprint ?? null));
        const before = await fingerprint();
        const imported = await outcome(`import ${where}`, importBundle(t.engine, path, target, { dryRun: true }));
        if (verified !== null) assert.notEqual(imported, null, `${where}: verify refused (${verified}) but the import accepted it`);
        // What an environment that trusts only this server's key takes is signed by it.
        if (target === 'strict' && imported === null) assert.equal(signedBy, key.fingerprint, `${where}: strict took a bundle signed by ${signedBy}`);
        // A signature that is not the one the server wrote never verifies; none at all is unsigned.
        if (m.kind === 'signature') {
          const original = (JSON.parse(lines.at(-1)!) as { signature: unknown }).signature;
          if (m.signature !== undefined && JSON.stringify(m.signature) !== JSON.stringify(original))
            assert.notEqual(verified, null, `${where}: a foreign signature verified`);
        }
        // A changed byte in a line, not sealed again, is always found.
        if (m.kind === 'flip-line' && !m.reseal) assert.notEqual(verified, null, `${where}: a flipped bit went unnoticed`);
        if (imported !== null) assert.equal(await fingerprint(), before, `${where}: refused (${imported}), yet something was written`);
        rmSync(path, { force: true });
        peak = Math.max(peak, process.memoryUsage().rss);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true, includeErrorInReport: true },
    );
    assert.ok(peak < MAX_RSS, `peak RSS ${Math.round(peak / 1024 / 1024)} MiB`);
  });

  it('refuses a line longer than the reader takes (a gzip bomb with no newline), in bounded memory', async () => {
    const path = join(dir, 'bomb.ferry');
    // 65 MiB of one line, a few hundred KiB compressed.
    const gz = gzipSync(Buffer.concat([Buffer.from(`${lines[0]!}\n{"fields":{"pad":"`), Buffer.alloc(65 * 1024 * 1024, 0x78)]));
    writeFileSync(path, gz);
    const message = await outcome('verify bomb', verifyBundle(path));
    assert.match(message ?? '', /line 2 is longer than 64 MiB/);
    const before = await fingerprint();
    assert.match((await outcome('import bomb', importBundle(t.engine, path, 'open', { dryRun: true }))) ?? '', /longer than 64 MiB/);
    assert.equal(await fingerprint(), before);
    assert.ok(process.memoryUsage().rss < MAX_RSS, `RSS ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MiB`);
  });
});
