/**
 * Where a JSON text stops being JSON, as a line and column, for the message
 * that refuses it. Node 20's JSON.parse names a position for some mistakes
 * only, and never a line; this scanner runs only after JSON.parse has
 * refused a text, walks it once without recursion (a body may nest
 * thousands of levels) and reports the first offending character.
 */

export interface JsonSyntaxProblem {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  /** What was expected there, e.g. `expected ',' or '}' after a property value`. */
  reason: string;
}

type State = 'value' | 'firstKey' | 'key' | 'colon' | 'firstItem' | 'after';

const WS = new Set([' ', '\t', '\n', '\r']);

/** The first syntax error in `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | null {
  const stack: ('{' | '[')[] = [];
  let state: State = 'value';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const at = (offset: number, reason: string): JsonSyntaxProblem => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < offset && k < text.length; k++) {
      if (text[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    return { line, column: offset - lineStart + 1, reason };
  };
  const show = (c: string | undefined) => (c === undefined ? 'the end of the text' : c === "'" ? 'a single quote (JSON needs double quotes)' : `'${c}'`);

  /** Scan a string starting at the quote at `i`: its end + 1, or a problem. */
  const string = (): number | JsonSyntaxProblem => {
    let k = i + 1;
    while (k < text.length) {
      const c = text[k]!;
      if (c === '"') return k + 1;
      if (c === '\\') {
        const e = text[k + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(k + 2, k + 6))) return at(k, 'a \\u escape needs four hex digits');
          k += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return at(k, `invalid escape \\${e ?? ''} in a string`);
        k += 2;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) return at(k, 'a control character (such as a line break) inside a string must be escaped');
      k++;
    }
    return at(i, 'this string is never closed');
  };

  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

  for (;;) {
    while (i < text.length && WS.has(text[i]!)) i++;
    const c = text[i];
    const top = stack.at(-1);
    switch (state) {
      case 'value':
      case 'firstItem': {
        if (state === 'firstItem' && c === ']') {
          stack.pop();
          i++;
          state = 'after';
          break;
        }
        if (c === '{') {
          stack.push('{');
          i++;
          state = 'firstKey';
        } else if (c === '[') {
          stack.push('[');
          i++;
          state = 'firstItem';
        } else if (c === '"') {
          const end = string();
          if (typeof end !== 'number') return end;
          i = end;
          state = 'after';
        } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
          NUMBER.lastIndex = i;
          const m = NUMBER.exec(text);
          if (!m) return at(i, 'expected a number');
          i += m[0].length;
          const next = text[i];
          if (next !== undefined && /[0-9.eE+-]/.test(next)) return at(i, `unexpected ${show(next)} in a number`);
          state = 'after';
        } else {
          const word = /^[A-Za-z_]+/.exec(text.slice(i, i + 20))?.[0];
          if (word === 'true' || word === 'false' || word === 'null') {
            i += word.length;
            state = 'after';
          } else {
            const what = word ? `'${word}' (strings need double quotes; the literals are true, false and null)` : show(c);
            return at(i, `expected a value, found ${what}`);
          }
        }
        break;
      }
      case 'firstKey':
      case 'key': {
        if (state === 'firstKey' && c === '}') {
          stack.pop();
          i++;
          state = 'after';
          break;
        }
        if (c !== '"')
          return at(
            i,
            `expected a property name in double quotes${state === 'firstKey' ? " or '}'" : ''}, found ${show(c)}${c === '}' ? ' (a trailing comma?)' : ''}`,
          );
        const end = string();
        if (typeof end !== 'number') return end;
        i = end;
        state = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') return at(i, `expected ':' after a property name, found ${show(c)}`);
        i++;
        state = 'value';
        break;
      case 'after':
        if (top === undefined) return c === undefined ? null : at(i, `unexpected ${show(c)} after the end of the JSON value`);
        if (c === ',') {
          i++;
          if (top === '{') state = 'key';
          else {
            state = 'value';
            while (i < text.length && WS.has(text[i]!)) i++;
            if (text[i] === ']') return at(i, "expected a value, found ']' (a trailing comma?)");
          }
        } else if ((top === '{' && c === '}') || (top === '[' && c === ']')) {
          stack.pop();
          i++;
        } else {
          return at(i, `expected ',' or '${top === '{' ? '}' : ']'}' after ${top === '{' ? 'a property value' : 'an array item'}, found ${show(c)}`);
        }
        break;
    }
  }
}

/** `line 3, column 7: expected ...` for a text JSON.parse refused (its own message when the scanner finds nothing). */
export function describeJsonSyntaxError(text: string, parseError: unknown): string {
  const p = findJsonSyntaxError(text);
  if (p) return `line ${p.line}, column ${p.column}: ${p.reason}`;
  return parseError instanceof Error ? parseError.message : String(parseError);
}
