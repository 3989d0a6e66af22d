import { hash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

// Canonical JSON: sorted keys, no whitespace. `undefined` members are dropped
// like JSON.stringify does; circular structures cannot occur in parsed JSON.
const stable = configure({ deterministic: true, circularValue: Error, bigint: false });

/** Canonical JSON text of a value (sorted keys), the form every hash is taken over. */
export function canonicalJson(value: unknown): string {
  const text = stable(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

export function sha256(text: string): string {
  // One-shot crypto.hash (Node >= 20.12): half the cost of a Hash object per call.
  return hash('sha256', text, 'hex');
}

/**
 * Content hash of an object: its name and fields, not its id or type, so that
 * the same content in two environments hashes alike once refs are translated.
 */
export function contentHash(name: string, fields: Record<string, unknown>): string {
  return sha256(canonicalJson({ fields, name })).slice(0, 32);
}

/**
 * `contentHash` together with the canonical JSON of the fields it hashes, for
 * callers that store the fields as text as well: one serialization instead of
 * two. `canonicalJson({fields, name})` is exactly `{"fields":<fields>,"name":<name>}`
 * (sorted keys, JSON string escaping), so the hash is the same.
 */
export function contentHashAndFields(name: string, fields: Record<string, unknown>): { hash: string; fieldsJson: string } {
  const fieldsJson = canonicalJson(fields);
  return { hash: sha256(`{"fields":${fieldsJson},"name":${JSON.stringify(name)}}`).slice(0, 32), fieldsJson };
}
