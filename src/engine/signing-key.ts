/**
 * The server's bundle signing key (issue 9 "Signed bundles"): Ed25519, made
 * at first start and kept in the database (`server_keys`), so every server
 * process on one database signs with the same key and a restart keeps it.
 * Its public half is served at `GET /api/v1/signing-key`; environments trust
 * keys by fingerprint (`trustedSigningKeys`).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { fingerprintOf, rawPublicKey, SIGNATURE_ALG, type BundleSigner, type BundleSignature } from '../core/bundle-signature.js';
import type { Store } from '../store/store.js';
import { now } from './context.js';

const KEY_NAME = 'bundle-signing';

/** The server's key: signs bundles, and says what it is. */
export interface ServerSigningKey extends BundleSigner {
  readonly algorithm: typeof SIGNATURE_ALG;
  /** The 32 raw bytes of the public key, base64 (what a bundle's trailer names). */
  readonly publicKey: string;
  /** The same key as a PEM (SPKI) document, for tools such as openssl. */
  readonly publicKeyPem: string;
  readonly createdAt: string;
}

/**
 * The stored key, or a new one stored first: when two processes start at
 * once on an empty database, one insert wins and both use its key.
 */
export async function loadSigningKey(store: Store): Promise<ServerSigningKey> {
  const existing = await store.serverKeys.get(KEY_NAME);
  const row =
    existing ??
    (await store.serverKeys.getOrInsert({
      name: KEY_NAME,
      algorithm: SIGNATURE_ALG,
      ...newKeyPair(),
      createdAt: now(),
    }));
  if (row.algorithm !== SIGNATURE_ALG) throw new Error(`the stored signing key is ${row.algorithm}, this Ferry signs with ${SIGNATURE_ALG}`);
  const privateKey = createPrivateKey({ key: Buffer.from(row.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  return signingKey(privateKey, row.createdAt);
}

function newKeyPair(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: rawPublicKey(publicKey).toString('base64'),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
  };
}

function signingKey(privateKey: KeyObject, createdAt: string): ServerSigningKey {
  const publicKeyObject = createPublicKey(privateKey);
  const raw = rawPublicKey(publicKeyObject);
  const publicKey = raw.toString('base64');
  return {
    algorithm: SIGNATURE_ALG,
    publicKey,
    publicKeyPem: publicKeyObject.export({ format: 'pem', type: 'spki' }).toString(),
    fingerprint: fingerprintOf(raw),
    createdAt,
    sign(message: Buffer): BundleSignature {
      return { alg: SIGNATURE_ALG, key: publicKey, value: sign(null, message, privateKey).toString('base64') };
    },
  };
}
