/**
 * Names and fields are stored exactly as their owner wrote them, control
 * characters included; but a terminal or a log viewer acts on some
 * characters instead of showing them: C0 and C1 controls (an ANSI escape
 * can recolour, hide or rewrite what is on screen), DEL, the bidirectional
 * controls that reorder text ("Trojan Source"), line and paragraph
 * separators, and lone surrogates. Every place that prints user data shows
 * them escaped instead: `\x1b`, `\u202e`.
 */

/* eslint-disable no-control-regex -- control characters are exactly what these match */
/** Characters never printed raw (see above). */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same without newline and tab: for whole blocks of output that are ours, lines included. */
const UNSAFE_IN_TEXT =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Inside JSON text: what JSON.stringify leaves raw (it escapes C0 controls and lone surrogates itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/** An ANSI colour sequence (kept, when the output is ours and colours are on) or an unsafe character. */
const SGR_OR_UNSAFE = new RegExp(`(\\u001b\\[[0-9;]*m)|${UNSAFE_IN_TEXT.source}`, 'g');
/* eslint-enable no-control-regex */

const hex = (c: number, width: number) => c.toString(16).padStart(width, '0');
/** `\x1b` for a byte-sized character, `\u202e` beyond. */
const escapeChar = (ch: string) => {
  const c = ch.charCodeAt(0);
  return c <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
};
const escapeJsonChar = (ch: string) => `\\u${hex(ch.charCodeAt(0), 4)}`;

/**
 * A value as one line of text that is safe to print: every control, bidi
 * control, separator and lone surrogate escaped, newlines and tabs included.
 *
 * @example
 * printable('Bad\u001b[2JName\u202e') // 'Bad\\x1b[2JName\\u202e'
 */
export function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.replace(UNSAFE, escapeChar);
}

/**
 * A block of output (lines of our own): like printable, but newlines and tabs
 * stay, and with `keepColors` so do colour sequences (`ESC [ 1;31 m`, what
 * picocolors writes on a terminal). The last line of defence of a CLI whose
 * formatters already escape every user value with `printable`.
 */
export function printableText(text: string, opts: { keepColors?: boolean } = {}): string {
  if (!opts.keepColors) return text.replace(UNSAFE_IN_TEXT, escapeChar);
  return text.replace(SGR_OR_UNSAFE, (m: string, sgr: string | undefined) => sgr ?? escapeChar(m));
}

/**
 * JSON text with the characters JSON.stringify leaves raw escaped as
 * `\uXXXX`: still valid JSON meaning exactly the same value (they can only
 * occur inside strings), but safe on a terminal and in a log.
 */
export function printableJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escapeJsonChar);
}

/** Whether a string holds a lone surrogate (invalid UTF-16: it has no UTF-8 form and would be silently replaced). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
