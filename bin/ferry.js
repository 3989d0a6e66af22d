#!/usr/bin/env node
// The compiled, bundled CLI lives in dist/bundle/ (built by `npm install` through the `prepare` script; scripts/build.mjs).
import { main } from '../dist/bundle/main.js';
main(process.argv).then((code) => {
  process.exitCode = code;
});
