/**
 * A child process for fresh-schema.test.ts: loads Ferry, says `ready`,
 * waits for a line on stdin, then opens the engine on FERRY_DATABASE_URL /
 * FERRY_DATABASE_SCHEMA as `ferry serve` does at start (schema, migrations,
 * signing key), OPENERS times at once as OPENERS processes would, and prints
 * each signing key's fingerprint, or the error. The line lets several of
 * them start on one schema at the same instant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openEngine } from '../../src/engine/open.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ferry-fresh-'));
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await new Promise((resolve) => lines.once('line', resolve));
lines.close();
const openers = Number(process.env.OPENERS ?? 1);
try {
  const opened = await Promise.allSettled(
    Array.from({ length: openers }, () =>
      openEngine({
        dataDir,
        databaseUrl: process.env.FERRY_DATABASE_URL,
        databaseSchema: process.env.FERRY_DATABASE_SCHEMA,
        publicUrl: 'http://ferry.test',
      }),
    ),
  );
  for (const r of opened) {
    if (r.status === 'fulfilled') {
      process.stdout.write(`opened ${(await r.value.signingKey()).fingerprint}\n`);
      await r.value.store.close();
    } else {
      process.stdout.write(`failed ${r.reason instanceof Error ? r.reason.message : String(r.reason)}\n`);
      process.exitCode = 1;
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
