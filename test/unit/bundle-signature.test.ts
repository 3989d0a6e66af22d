import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  fingerprintOf,
  normaliseTrustedKey,
  parseSignature,
  rawPublicKey,
  signatureFingerprint,
  signatureHolds,
  signedMessage,
} from '../../src/core/bundle-signature.js';
import { parseBundleLine } from '../../src/core/bundle.js';
import { sign } from 'node:crypto';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const raw = rawPublicKey(publicKey);
const message = signedMessage('a'.repeat(64), 2, 'b'.repeat(64));
const signature = { alg: 'ed25519' as const, key: raw.toString('base64'), value: sign(null, message, privateKey).toString('base64') };

/** The same bytes spelled differently: the 2 unused low bits of the last base64 character of a 32-byte value set. */
function respelled(b64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const i = b64.indexOf('=') - 1;
  return `${b64.slice(0, i)}${alphabet[alphabet.indexOf(b64[i]!) ^ 1]}${b64.slice(i + 1)}`;
}

describe('bundle signatures', () => {
  test('a signature holds over its message only, with the key it names', () => {
    assert.equal(signatureHolds(signature, message), true);
    assert.equal(signatureHolds(signature, signedMessage('a'.repeat(64), 3, 'b'.repeat(64))), false);
    const other = rawPublicKey(generateKeyPairSync('ed25519').publicKey).toString('base64');
    assert.equal(signatureHolds({ ...signature, key: other }, message), false);
    assert.equal(signatureFingerprint(signature), fingerprintOf(raw));
  });

  test('a key or signature spelled in non-canonical base64 (same bytes, other text) is refused as malformed', () => {
    const key = respelled(signature.key);
    assert.notEqual(key, signature.key);
    assert.ok(Buffer.from(key, 'base64').equals(raw), 'the same bytes');
    assert.equal(parseSignature({ ...signature, key }), null);
    assert.equal(parseSignature(signature)?.key, signature.key);
    const trailer = JSON.stringify({ trailer: true, count: 0, sha256: 'c'.repeat(64), signature: { ...signature, key } });
    assert.throws(() => parseBundleLine(trailer, 3), /line 3 is a malformed trailer: its signature is not/);
  });

  test('trusted keys: a fingerprint, a raw key or a PEM, all kept as the fingerprint; anything else refused naming it', () => {
    const fp = fingerprintOf(raw);
    assert.equal(normaliseTrustedKey(fp), fp);
    assert.equal(normaliseTrustedKey(signature.key), fp);
    assert.equal(normaliseTrustedKey(publicKey.export({ format: 'pem', type: 'spki' }).toString()), fp);
    assert.throws(() => normaliseTrustedKey('SHA256:short'), /"SHA256:short" is not a key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    assert.throws(() => normaliseTrustedKey(rsa), /is not a key/);
  });
});
