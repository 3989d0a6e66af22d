// `node --import tsx --import ./test/support/trace-loads.ts ...`: prints `ferry-load <url>` on stderr
// for every module the process loads through the ES module loader (a package's entry too when it is
// CommonJS), so a test can check which modules a command pulls in.
import { register } from 'node:module';

register('./trace-loads-hooks.ts', import.meta.url);
