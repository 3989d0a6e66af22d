/** Names and free text of sample objects: unique, combined and deliberately repeating names, and filler padding. */
import type { Rng } from './random.js';
import { CATEGORY_NAMES, DASHBOARD_KIND, DASHBOARDS, FILLER, REPORT_CUT, REPORT_SUBJECT, TEMPLATE_KIND, TEMPLATE_WORK } from './words.js';

/** Index k of a unique-name type: the list first, then numbered rounds ("Marketing 2"). */
export function uniqueName(list: readonly string[], k: number): string {
  const base = list[k % list.length]!;
  return k < list.length ? base : `${base} ${Math.floor(k / list.length) + 1}`;
}

/** A combination of two lists visited in a seed-dependent, non-sequential order. */
export function combo(a: readonly string[], b: readonly string[], i: number, salt: number): { text: string; round: number } {
  const p = a.length * b.length;
  const k = (i * 7 + salt) % p; // 7 is coprime with every p used here: a full cycle before repeating
  return { text: `${a[k % a.length]!} ${b[Math.floor(k / a.length) % b.length]!}`, round: Math.floor(i / p) };
}

/** Non-unique names repeat on purpose: every `every`-th object reuses its predecessor's name. */
function repeating(i: number, every: number, make: (j: number) => string): string {
  return i > 0 && i % every === every - 1 ? make(i - 1) : make(i);
}

export function templateName(i: number, salt: number): string {
  return repeating(i, 9, (j) => `${combo(TEMPLATE_KIND, TEMPLATE_WORK, j, salt).text} ${j + 1}`);
}
export function reportName(i: number, salt: number): string {
  return repeating(i, 7, (j) => {
    const c = combo(REPORT_SUBJECT, REPORT_CUT, j, salt);
    return c.round ? `${c.text} (${c.round + 1})` : c.text;
  });
}
export function dashboardName(i: number, salt: number): string {
  return repeating(i, 6, (j) => {
    const c = combo(DASHBOARDS, DASHBOARD_KIND, j, salt);
    return c.round ? `${c.text} ${c.round + 1}` : c.text;
  });
}
export function plainName(list: readonly string[], i: number): string {
  return repeating(i, 5, (j) => (j < list.length ? list[j]! : `${list[j % list.length]!} (${Math.floor(j / list.length) + 1})`));
}
export function categoryName(c: number): string {
  return uniqueName(CATEGORY_NAMES, c);
}

/**
 * Extends text with filler sentences to about `extra` more characters, cut at
 * a sentence or word end. Sentences are walked with a stride coprime to the
 * list length, so one text never repeats a sentence.
 */
export function padText(rng: Rng, base: string, extra: number): string {
  const limit = base.length + extra;
  let s = base;
  let at = rng.int(FILLER.length);
  const stride = FILLER_STRIDES[rng.int(FILLER_STRIDES.length)]!;
  for (let used = 0; s.length < limit && used < FILLER.length; used++, at = (at + stride) % FILLER.length) s += (s ? ' ' : '') + FILLER[at]!;
  if (s.length > limit) {
    const dot = s.lastIndexOf('.', limit - 1);
    const space = s.lastIndexOf(' ', limit);
    s = dot > limit - 40 && dot > base.length ? s.slice(0, dot + 1) : space > base.length ? s.slice(0, space) : s.slice(0, limit);
  }
  return s;
}
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
const FILLER_STRIDES = Array.from({ length: FILLER.length - 1 }, (_, i) => i + 1).filter((k) => gcd(k, FILLER.length) === 1);
