import { readFile } from 'node:fs/promises';
import type { Action } from '../core/types.js';
import { ValidationError } from '../core/errors.js';
import type { Override } from '../core/plan.js';
import { parseJsonText } from '../core/json-syntax.js';

/**
 * Parsing of command-line values and input files. Kept free of the engine
 * and the store, so a command pays for them only when it runs.
 */

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {}

/** Run a parser of the core, turning its ValidationError into bad usage (exit 2). */
export function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new UsageError(e.message);
    throw e;
  }
}

export function positiveInt(v: string, name: string, zeroOk = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new UsageError(`${name} must be a ${zeroOk ? 'non-negative' : 'positive'} integer`);
  return n;
}

export function parseParams(list: string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`bad --param "${p}": expected name=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export function parseTargetOwned(list: string[] | undefined): Record<string, string[]> | undefined {
  if (!list) return undefined;
  const out: Record<string, string[]> = {};
  for (const p of list) {
    const m = /^([A-Za-z][A-Za-z0-9_]*):([A-Za-z0-9_.-]+)$/.exec(p);
    if (!m) throw new UsageError(`bad --target-owned "${p}": expected TYPE:field`);
    const t = m[1]!.toUpperCase();
    (out[t] ??= []).push(m[2]!);
  }
  return out;
}

/** `TYPE:id=ACTION[@targetId]`. */
export function parseOverrides(list: readonly string[]): Override[] {
  return list.map((s) => {
    const m = /^([A-Za-z][A-Za-z0-9_]*):([^=]+)=([A-Za-z]+)(?:@(.+))?$/.exec(s.trim());
    if (!m) throw new UsageError(`bad --set "${s}": expected TYPE:id=ACTION or TYPE:id=USEEXISTING@targetId`);
    const action = m[3]!.toUpperCase() as Action;
    if (!['CREATE', 'UPDATE', 'USEEXISTING', 'MERGE', 'IGNORE'].includes(action)) {
      throw new UsageError(`bad --set "${s}": action must be CREATE, UPDATE, USEEXISTING, MERGE or IGNORE`);
    }
    return { type: m[1]!.toUpperCase(), sourceId: m[2]!, action, targetId: m[4] ?? null };
  });
}

/** The objects of `ferry objects load`: a JSON array, or NDJSON; a syntax error names the line and column. */
export async function readObjectsFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ValidationError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      return parseJsonText(text);
    } catch (e) {
      throw new ValidationError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
  // Loaded here only: the engine's input shapes bring zod.
  const { parseNdjson } = await import('../engine/validate-input.js');
  try {
    return parseNdjson(text);
  } catch (e) {
    throw new ValidationError(`${file} is not valid NDJSON (${(e as Error).message})`);
  }
}
