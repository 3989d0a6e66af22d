import pino from 'pino';
import { printableJson } from '../core/printable.js';

/**
 * Query parameters that carry a credential in some client or document
 * (`apikey`, `sessionID`, `token`, `password`, `key`, `authorization`...), compared
 * case-insensitively. URLs are written to access logs, proxy logs and
 * browser histories: such a parameter is refused unless a route opts in
 * (`config: { queryCredentials: true }`), and is redacted from every URL
 * the server logs either way.
 */
export const CREDENTIAL_PARAMS: ReadonlySet<string> = new Set([
  'apikey',
  'api_key',
  'api-key',
  'key',
  'token',
  'access_token',
  'authtoken',
  'x-mstr-authtoken',
  'smax_auth_token',
  'sessionid',
  'jsessionid',
  'authorization',
  'password',
]);

/**
 * A value in Ferry's own credential format (an API key `fry_...` or a session
 * token `frs_...`, alone or after `Bearer `), whatever the parameter is called:
 * `?authorization=Bearer%20fry_...` or `?q=fry_...` leaks it just the same.
 */
const CREDENTIAL_VALUE = /(?:^|\s)fr[ys]_[A-Za-z0-9_-]{16,}/;

const isCredential = (name: string, value = '') => CREDENTIAL_PARAMS.has(name.trim().toLowerCase()) || CREDENTIAL_VALUE.test(value);

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * The URL with the value of every credential parameter replaced by
 * `[REDACTED]` (names compared decoded, so `%61pikey` is caught too).
 *
 * @example
 * redactUrl('/api/v1/x?apikey=fry_123&limit=5') // '/api/v1/x?apikey=[REDACTED]&limit=5'
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && isCredential(decode(name), decode(pair.slice(eq + 1))) ? `${name}=[REDACTED]` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${redacted}${hash === -1 ? '' : url.slice(hash)}`;
}

/** The first credential parameter a parsed query string holds, or null. */
export function credentialParamIn(query: unknown): string | null {
  if (query === null || typeof query !== 'object') return null;
  for (const [name, value] of Object.entries(query)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (isCredential(name) || values.some((v) => typeof v === 'string' && isCredential(name, v))) return name;
  }
  return null;
}

/**
 * A log destination whose lines never carry raw control characters: pino
 * escapes C0 controls and lone surrogates (JSON does), but leaves DEL, C1
 * controls, bidirectional controls and line separators raw, which a terminal
 * tailing the log would act on. They can only occur inside JSON strings, so
 * escaping them as `\uXXXX` keeps every line valid JSON with the same values.
 */
export function printableLogStream(target: { write(line: string): unknown }): { write(line: string): void } {
  return {
    write(line: string) {
      target.write(printableJson(line));
    },
  };
}

/**
 * Standard output for the log, written without blocking: on Linux every
 * write to process.stdout (a file or a pipe) is a synchronous system call,
 * and the access log's one line per request was 17% of a status poll's CPU
 * under load. Lines are gathered here, as text, until LOG_BATCH_CHARS are
 * waiting, and handed to pino's asynchronous destination (SonicBoom) as one
 * piece, which it writes with one call; every LOG_FLUSH_MS what waits is
 * handed over too, so a quiet server's last lines show within that time.
 * What is still waiting is written when the process exits (SIGTERM
 * included); only a SIGKILL can lose the last LOG_FLUSH_MS of lines.
 *
 * Gathered here rather than in SonicBoom (its minLength): given each line,
 * it measures the whole batch waiting at every line as text (3 µs a line),
 * or, given bytes, encodes and merges every line apart; either cost a status
 * poll 3 to 5 µs more than one array push a line (bench/http.ts, server CPU
 * per request, before and after).
 */
export function stdoutLogStream(): { write(line: string): unknown } {
  if (stdoutLog) return stdoutLog;
  const destination = pino.destination({ dest: 1, sync: false });
  let waiting: string[] = [];
  let chars = 0;
  const handOver = () => {
    if (chars === 0) return;
    const batch = waiting.join('');
    waiting = [];
    chars = 0;
    destination.write(batch);
  };
  setInterval(handOver, LOG_FLUSH_MS).unref();
  process.once('exit', () => {
    try {
      handOver();
      destination.flushSync();
    } catch {
      // Standard output closed or broken: nothing more can be written.
    }
  });
  stdoutLog = {
    write: (line: string) => {
      waiting.push(line);
      chars += line.length;
      if (chars >= LOG_BATCH_CHARS) handOver();
    },
  };
  return stdoutLog;
}
const LOG_BATCH_CHARS = 16 * 1024;
const LOG_FLUSH_MS = 200;
/** One per process, whatever number of servers it builds. */
let stdoutLog: { write(line: string): unknown } | undefined;
