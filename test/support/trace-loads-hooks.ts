// Loader hooks for trace-loads.ts.
import type { LoadHook } from 'node:module';

export const load: LoadHook = async (url, context, next) => {
  process.stderr.write(`ferry-load ${url}\n`);
  return next(url, context);
};
