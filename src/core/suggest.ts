/**
 * "Did you mean": the known names closest to a mistyped one, for messages
 * that refuse an unknown environment id or type code.
 */

/** Edits (insert, delete, substitute one character) from `a` to `b` (Levenshtein). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The names of `known` fewest edits away from `input` (up to `max` of
 * them, case ignored), provided that is only a few edits (a third of its
 * length, at least 2).
 *
 * @example
 * closest('10000001', ['100000001', '100000002', 'prod']) // ['100000001']
 */
export function closest(input: string, known: readonly string[], max = 3): string[] {
  const needle = input.toLowerCase().slice(0, 200);
  const within = Math.max(2, Math.floor(needle.length / 3));
  const scored = known.map((k) => ({ k, d: editDistance(needle, k.toLowerCase().slice(0, 200)) }));
  const best = Math.min(...scored.map((c) => c.d));
  if (best > within) return [];
  return scored
    .filter((c) => c.d === best)
    .map((c) => c.k)
    .sort()
    .slice(0, max);
}

/** ` (did you mean A or B?)`, or nothing when none is close. */
export function didYouMean(input: string, known: readonly string[]): string {
  const near = closest(input, known);
  if (near.length === 0) return '';
  return ` (did you mean ${near.length === 1 ? near[0] : `${near.slice(0, -1).join(', ')} or ${near.at(-1)}`}?)`;
}
