#!/usr/bin/env node
// Compile src/ into dist/ (tsconfig.build.json), then bundle the CLI into
// dist/bundle/ (bin/ferry.js loads it). `npm install` builds through
// `prepare`; `npm start` runs this with --if-stale and builds only when a
// source (a file or folder under src/, a tsconfig or this script) changed
// after the last successful build, or there is no bundle yet, so that a
// start does not wait for the compiler.
//
// Why a bundle: `ferry env list` spent most of its start resolving and
// loading Kysely's ESM build (262 files) and Ferry's own modules one file at
// a time. esbuild puts Ferry's code and Kysely into one entry file plus shared
// chunks; `splitting` keeps each lazy import() (server, HTTP client, progress
// bars) a separate chunk loaded only by the commands that need it. Only the
// plain-JavaScript packages a local command loads are bundled (INSIDE); the
// others stay imports from node_modules as before: better-sqlite3 is native,
// some (Fastify's plugins) read files beside themselves, and they load only
// on the lazy paths. tsc above still type-checks
// and emits dist/ (dist/server/start.js is still a way to start a server).
// dist/bundle/ sits one level below dist/ like dist/cli/, so the
// `new URL('../../package.json', import.meta.url)` reads still find
// package.json; offload-thread.js is an entry of its own because
// src/engine/offload.ts starts the worker from `./offload-thread.js` beside it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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
  // A build from before the bundle existed has no dist/bundle/; this script changing changes the output too.
  if (!existsSync(join(root, 'dist', 'bundle', 'main.js'))) return 'no bundle yet';
  const changed = ['src', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'].find((p) => newest(join(root, p)) > built);
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

const { build } = await import('esbuild');
const bundleDir = join(root, 'dist', 'bundle');
// Not emptied first: a process started from the previous build (a server)
// may still import() one of its chunks (hashed names) after this build.
const INSIDE = ['kysely', 'zod', 'commander', 'picocolors', 'safe-stable-stringify'];
const inside = (path) => INSIDE.some((p) => path === p || path.startsWith(`${p}/`));
await build({
  entryPoints: [join(root, 'dist/cli/main.js'), join(root, 'dist/engine/offload-thread.js')],
  outdir: bundleDir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // commander is CommonJS: its require() of Node's built-ins needs a real require in an ESM bundle.
  banner: { js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [
    {
      name: 'packages-outside',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (inside(args.path) ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
writeFileSync(stamp, `${new Date().toISOString()}\n`);
