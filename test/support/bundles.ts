import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, encodeHeader, encodeTrailer, EntityDigest, type BundleHeader } from '../../src/core/bundle.js';

/**
 * Write a well-formed but hostile `.ferry` file: a valid header counting
 * `counts`, the given entity lines as they are, and a trailer whose count and
 * SHA-256 match them, so every integrity check passes and only what the
 * lines hold can refuse it (as a bundle crafted by an attacker would).
 */
export function craftBundle(path: string, counts: Record<string, number>, lines: Iterable<string>): void {
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: '2025-01-02T03:04:05.000Z',
    catalogVersion: '2026.1',
    source: { envId: '123456789', uid: '0123456789abcdef0123456789abcdef', name: 'dev', tier: 'development', url: 'https://dev.example.test' },
    package: {
      id: `crafted-${Math.random().toString(16).slice(2)}`,
      name: 'Crafted',
      description: '',
      version: 1,
      status: 'ACTIVE',
      objectCollections: [],
      removals: [],
      metadata: { installOrder: Object.keys(counts), displayOrder: Object.keys(counts), deferredRefs: 0 },
    },
    counts,
    entityCount: Object.values(counts).reduce((a, b) => a + b, 0),
  };
  const digest = new EntityDigest();
  const body: string[] = [encodeHeader(header)];
  for (const line of lines) {
    digest.add(line);
    body.push(line);
  }
  body.push(encodeTrailer(digest.count, digest.digest()));
  writeFileSync(path, gzipSync(`${body.join('\n')}\n`));
}

/** An entity line whose fields nest `depth` levels (fields itself is level 1). */
export function deepEntityLine(id: string, depth: number): string {
  return `{"fields":${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)},"id":"${id}","name":"Deep","type":"GROUP"}`;
}

/** `n` entity lines with one and the same id. */
export function* sameIdLines(n: number): Generator<string> {
  for (let i = 0; i < n; i++) yield `{"fields":{"n":${i}},"id":"same","name":"Same","type":"GROUP"}`;
}
