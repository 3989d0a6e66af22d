#!/usr/bin/env node
// Compile src/ into dist/ (tsconfig.build.json). `npm install` builds through
// `prepare`; `npm start` runs this with --if-stale and builds only when a
// source (a file or folder under src/, or a tsconfig) changed after the last
// successful build, so that a start does not wait for the compiler.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');

/** Newest modification time under `path` (folders count: a deleted or renamed file changes its folder). */
function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), st.mtimeMs);
}

function stale() {
  let built;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    return 'no build yet';
  }
  const changed = ['src', 'tsconfig.json', 'tsconfig.build.json'].find((p) => newest(join(root, p)) > built);
  return changed && `${changed} changed since the last build`;
}

if (process.argv.includes('--if-stale')) {
  const why = stale();
  if (!why) process.exit(0);
  console.error(`Ferry: building (${why})...`);
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
