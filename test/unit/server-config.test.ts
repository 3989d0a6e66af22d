/** The server's settings read from the environment (src/server/config.ts): FERRY_PUBLIC_URL. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverConfigFromEnv } from '../../src/server/config.js';

describe('FERRY_PUBLIC_URL', () => {
  it('empty counts as unset: the default address, not an empty one', () => {
    const c = serverConfigFromEnv({}, { FERRY_PUBLIC_URL: '', FERRY_PORT: '8123' });
    assert.equal(c.publicUrl, 'http://localhost:8123');
    assert.equal(c.publicUrlSet, false);
  });

  it('a given http(s) URL is used and marked as given', () => {
    const c = serverConfigFromEnv({}, { FERRY_PUBLIC_URL: 'https://ferry.example.com' });
    assert.equal(c.publicUrl, 'https://ferry.example.com');
    assert.equal(c.publicUrlSet, true);
  });

  it('anything else stops the start with a message naming the variable', () => {
    for (const bad of ['ferry.example.com', 'ftp://ferry.example.com', 'http//x']) {
      assert.throws(
        () => serverConfigFromEnv({}, { FERRY_PUBLIC_URL: bad }),
        (e: Error) => e.message.includes('FERRY_PUBLIC_URL') && e.message.includes(bad),
      );
    }
  });
});
