/**
 * Signed bundles (shared/DESIGN.md "Bundle format", SECURITY.md): a server
 * signs every bundle it exports with its Ed25519 key, in the trailer:
 *
 *   {"trailer":true,"count":N,"sha256":"<hex>",
 *    "signature":{"alg":"ed25519","key":"<base64 raw public key>","value":"<base64>"}}
 *
 * What is signed is a short text binding the header to the entities:
 * `ferry-bundle-signature/1\n<sha256 hex of the header line>\n<count>\n<sha256 hex of the entity lines>\n`.
 * Both digests are computed while the file is read anyway, so checking a
 * signature costs no second pass. The header is covered too: it carries the
 * package's removals, which an attacker must not be able to change.
 *
 * A key is named by its fingerprint, `SHA256:` and the unpadded base64 of the
 * SHA-256 of its 32 raw bytes (the form `ssh-keygen -l` prints).
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ValidationError } from './errors.js';

export const SIGNATURE_ALG = 'ed25519';
const SIGNED_PREFIX = 'ferry-bundle-signature/1';
const RAW_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export interface BundleSignature {
  alg: typeof SIGNATURE_ALG;
  /** The signer's public key: its 32 raw bytes, base64. */
  key: string;
  /** The Ed25519 signature of signedMessage(...), base64. */
  value: string;
}

/** Signs bundles; the server's key (engine/signing-key.ts), or a test's. */
export interface BundleSigner {
  readonly fingerprint: string;
  sign(message: Buffer): BundleSignature;
}

/** The bytes a bundle's signature covers. */
export function signedMessage(headerSha256: string, count: number, sha256: string): Buffer {
  return Buffer.from(`${SIGNED_PREFIX}\n${headerSha256}\n${count}\n${sha256}\n`, 'utf8');
}

/** SHA-256 hex of a header line as it is in the file (the bytes, not a re-encoding). */
export function headerDigest(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}

/** `SHA256:<base64>` of a raw 32-byte Ed25519 public key. */
export function fingerprintOf(rawPublicKey: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(rawPublicKey).digest('base64').replace(/=+$/, '')}`;
}

/** The raw 32 bytes of an Ed25519 public KeyObject. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

/** The public KeyObject of raw Ed25519 bytes. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/**
 * The `signature` member of a trailer, checked for shape only (whether it
 * verifies is decided once the digests are known). Null when it is not one.
 */
export function parseSignature(value: unknown): BundleSignature | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const { alg, key, value: sig, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || alg !== SIGNATURE_ALG) return null;
  if (typeof key !== 'string' || typeof sig !== 'string') return null;
  if (!isBase64Of(key, RAW_KEY_BYTES) || !isBase64Of(sig, SIGNATURE_BYTES)) return null;
  return { alg, key, value: sig };
}

/** The fingerprint of the key a signature names (its shape already checked). */
export function signatureFingerprint(signature: BundleSignature): string {
  return fingerprintOf(Buffer.from(signature.key, 'base64'));
}

/** Does the signature verify over `message` with the key it names? */
export function signatureHolds(signature: BundleSignature, message: Buffer): boolean {
  try {
    return verify(null, message, publicKeyFromRaw(Buffer.from(signature.key, 'base64')), Buffer.from(signature.value, 'base64'));
  } catch {
    // A 32-byte string that is not a point on the curve: not a valid signature.
    return false;
  }
}

/**
 * A trusted key as a user may give it: a fingerprint (`SHA256:...`), the
 * base64 of the 32 raw bytes, or a PEM public key. Always stored and
 * compared as the fingerprint. Throws ValidationError naming the entry.
 */
export function normaliseTrustedKey(input: string): string {
  const text = input.trim();
  if (FINGERPRINT.test(text)) return text;
  if (isBase64Of(text, RAW_KEY_BYTES)) return fingerprintOf(Buffer.from(text, 'base64'));
  if (text.startsWith('-----BEGIN PUBLIC KEY-----')) {
    try {
      const key = createPublicKey(text);
      if (key.asymmetricKeyType === 'ed25519') return fingerprintOf(rawPublicKey(key));
    } catch {
      // Worded below.
    }
  }
  const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  throw new ValidationError(
    `trusted signing key ${JSON.stringify(shown)} is not a key: give its fingerprint (SHA256:..., 43 base64 characters), its 32 raw bytes in base64, or an Ed25519 PEM public key`,
  );
}

/**
 * Canonical base64 of exactly `bytes` bytes: re-encoding gives the same
 * text, so the unused low bits of the last character cannot vary (one key,
 * one signature, one spelling).
 */
function isBase64Of(v: unknown, bytes: number): boolean {
  if (typeof v !== 'string' || v.length !== Math.ceil(bytes / 3) * 4 || !BASE64.test(v)) return false;
  const decoded = Buffer.from(v, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === v;
}
