/**
 * Where a JSON text stops being JSON, as line and column.
 *
 * Node 20's `JSON.parse` says "Unexpected token ',', "[1,\n2,,3]" is not
 * valid JSON": no position for most mistakes, and the whole input echoed
 * back. A user fixing a file of thousands of objects needs the line and the
 * column, so after `JSON.parse` refuses a text this scanner walks the same
 * grammar (RFC 8259) and names the first place it breaks. It runs only on
 * text already refused, never on the happy path, and keeps an explicit stack
 * so deep nesting cannot overflow the call stack.
 */
export interface JsonSyntaxProblem {
  /** Offset (UTF-16 code units) of the first character that breaks the grammar; the text's length at a premature end. */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, counted in characters from the start of the line. */
  column: number;
  /** What was wrong there, e.g. "expected ',' or ']' after an array element, found ','". */
  message: string;
}

/**
 * The first syntax error in `text`, or null when it is valid JSON.
 *
 * @example
 * findJsonSyntaxError('[1,\n2,,3]') // { line: 2, column: 3, message: "expected a value, found ','", offset: 6 }
 */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | null {
  const offset = scan(text);
  if (offset === null) return null;
  return { ...offset, ...lineAndColumn(text, offset.offset) };
}

/**
 * Why a key named `__proto__` is refused. JSON.parse keeps it as a plain key,
 * but the first copy of the object (`copy[key] = value`, as schema parsing
 * does) sets the copy's prototype instead: the field would vanish without a
 * word. The server's JSON body parser refuses it too.
 */
export const PROTO_KEY_REFUSED = 'a key named "__proto__" is refused (it would set the prototype of the object read, not add a field)';

/**
 * `JSON.parse` that refuses a `__proto__` key anywhere. The reviver (a slower
 * parse) runs only on text that can spell one: literally (with `__`) or
 * through a `\u` escape.
 */
export function parseJsonRefusingProto(text: string): unknown {
  if (!text.includes('__') && !text.includes('\\u')) return JSON.parse(text) as unknown;
  return JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__') throw new SyntaxError(PROTO_KEY_REFUSED);
    return value;
  }) as unknown;
}

/** `JSON.parse`, refusing with a SyntaxError whose message starts `line L, column C: ...`; a `__proto__` key is refused too. */
export function parseJsonText(text: string): unknown {
  try {
    return parseJsonRefusingProto(text);
  } catch (e) {
    const p = findJsonSyntaxError(text);
    // The scanner and V8 agree on the grammar; should they ever not, V8's word stands.
    throw new SyntaxError(p ? `line ${p.line}, column ${p.column}: ${p.message}` : (e as Error).message, { cause: e });
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

function describe(text: string, i: number): string {
  if (i >= text.length) return 'the end of the input';
  const c = text.codePointAt(i)!;
  // The character as JSON would escape it: a control character or a quote cannot garble the message.
  return c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) ? `\\u${c.toString(16).padStart(4, '0')}` : `'${String.fromCodePoint(c)}'`;
}

const WS = new Set([' ', '\t', '\n', '\r']);

function scan(text: string): { offset: number; message: string } | null {
  let i = 0;
  const stack: ('[' | '{')[] = [];
  const fail = (message: string) => ({ offset: i, message: `${message}, found ${describe(text, i)}` });
  const ws = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  /** Advance past a string starting at i (a '"'); an error, or null. */
  const string = (): { offset: number; message: string } | null => {
    i++;
    for (;;) {
      if (i >= text.length) return { offset: i, message: 'the string is not closed' };
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return fail('a control character inside a string (escape it, e.g. \\n)');
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) {
              i += k;
              return fail('expected 4 hex digits after \\u');
            }
          }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else return fail('an unknown escape (use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)');
      } else i++;
    }
  };
  const digits = () => {
    const s = i;
    while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i > s;
  };
  const number = (): { offset: number; message: string } | null => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (!digits()) return fail('expected a digit');
    if (text[i] === '.') {
      i++;
      if (!digits()) return fail('expected a digit after the decimal point');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!digits()) return fail('expected a digit in the exponent');
    }
    return null;
  };

  let mode: 'value' | 'after' | 'key' = 'value';
  ws();
  for (;;) {
    if (mode === 'value') {
      ws();
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        ws();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          mode = 'after';
        } else {
          stack.push(c);
          mode = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      let err: { offset: number; message: string } | null = null;
      if (c === '"') err = string();
      else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) err = number();
      else {
        const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
        if (word) i += word.length;
        else return fail(stack.length || i > 0 ? 'expected a value' : 'expected a JSON value');
      }
      if (err) return err;
      mode = 'after';
    } else if (mode === 'key') {
      ws();
      if (text[i] !== '"') return fail('expected a property name in double quotes');
      const err = string();
      if (err) return err;
      ws();
      if (text[i] !== ':') return fail("expected ':' after the property name");
      i++;
      mode = 'value';
    } else {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) return i < text.length ? fail('expected the end of the input after the JSON value') : null;
      const close = top === '[' ? ']' : '}';
      if (text[i] === ',') {
        i++;
        mode = top === '[' ? 'value' : 'key';
      } else if (text[i] === close) {
        i++;
        stack.pop();
      } else return fail(`expected ',' or '${close}' after ${top === '[' ? 'an array element' : 'a property value'}`);
    }
  }
}

/** `line 3, column 7: expected ...` for a text JSON.parse refused (its own message when the scanner finds nothing). */
export function describeJsonSyntaxError(text: string, parseError: unknown): string {
  const p = findJsonSyntaxError(text);
  if (p) return `line ${p.line}, column ${p.column}: ${p.message}`;
  return parseError instanceof Error ? parseError.message : String(parseError);
}
