// `bin/ferry.js` for tests: the same CLI from the TypeScript sources (through tsx), no build needed.
import { main } from '../../src/cli/main.js';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
