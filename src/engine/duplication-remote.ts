/**
 * The target side of a cross-server duplication talks to the source server
 * over HTTP, with the source's own duplication API: it reads the source's
 * record and downloads the package (`GET /api/projectDuplications/{id}` and
 * `.../backup`). It only talks to servers it trusts: FERRY_TRUSTED_SOURCES
 * maps each source's base URL to the API key this server uses there.
 */
import { Readable } from 'node:stream';
import { FerryError, ValidationError } from '../core/errors.js';

/** The FERRY_TRUSTED_SOURCES variable: `{"http://source:8080": "<API key there>", ...}`. */
export const TRUSTED_SOURCES_VARIABLE = 'FERRY_TRUSTED_SOURCES';

/**
 * A server's base URL in one spelling: scheme and host lower case, no
 * trailing slash, no query, and cut before `/api` as the vendor's SDK cuts
 * its base URL (so `http://h:8080/api` and `http://H:8080/` are one server).
 * Null when it is not an http(s) URL.
 */
export function normalizeServerUrl(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  let path = url.pathname;
  const api = path.search(/\/api(\/|$)/);
  if (api !== -1) path = path.slice(0, api);
  path = path.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/** Parse FERRY_TRUSTED_SOURCES; a malformed value is refused with a message naming the variable. */
export function parseTrustedSources(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return out;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ValidationError(`${TRUSTED_SOURCES_VARIABLE} is not valid JSON; it maps source base URLs to API keys: {"http://source:8080": "<key>"}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ValidationError(`${TRUSTED_SOURCES_VARIABLE} must be a JSON object mapping source base URLs to API keys`);
  }
  for (const [url, key] of Object.entries(json)) {
    const norm = normalizeServerUrl(url);
    if (!norm) throw new ValidationError(`${TRUSTED_SOURCES_VARIABLE}: "${url}" is not an http(s) URL`);
    if (typeof key !== 'string' || key.trim() === '')
      throw new ValidationError(`${TRUSTED_SOURCES_VARIABLE}: the API key for ${norm} must be a non-empty string`);
    out.set(norm, key.trim());
  }
  return out;
}

/** What the target reads of the source's record (the document's shape). */
export interface RemoteRecord {
  id: string;
  status: string;
  message: string;
  source: Record<string, unknown>;
  target: Record<string, unknown>;
  settings: unknown;
}

/** How long one call to the source may take before it counts as unanswered. */
const CALL_TIMEOUT_MS = 30_000;

/** A source server this one trusts, and the calls the target side makes there. */
export class SourceServer {
  private constructor(
    readonly url: string,
    private readonly key: string,
  ) {}

  /** The trusted source at `url`, or a 400 saying it is not trusted (or not a URL). */
  static trusted(url: string, env: NodeJS.ProcessEnv = process.env): SourceServer {
    const norm = normalizeServerUrl(url);
    if (!norm) throw new ValidationError(`source.environment.id "${url}" is not the base URL of a server (http:// or https://)`);
    const key = parseTrustedSources(env[TRUSTED_SOURCES_VARIABLE]).get(norm);
    if (!key) {
      throw new ValidationError(
        `the source server ${norm} is not trusted by this server: only the servers listed in ${TRUSTED_SOURCES_VARIABLE} (with the API key to use there) can be duplicated from`,
      );
    }
    return new SourceServer(norm, key);
  }

  private async call(id: string, suffix: string, signal?: AbortSignal): Promise<Response> {
    const path = `/api/projectDuplications/${encodeURIComponent(id)}${suffix}`;
    const timeout = AbortSignal.timeout(CALL_TIMEOUT_MS);
    const s = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      // No redirects: a trusted URL must not hand the key on to another host.
      res = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.key}`, accept: 'application/json' }, redirect: 'error', signal: s });
    } catch (e) {
      signal?.throwIfAborted();
      throw new FerryError(
        'SOURCE_UNREACHABLE',
        400,
        `the source server ${this.url} did not answer: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`,
      );
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    if (res.status === 404) throw new FerryError('NOT_FOUND', 404, `duplication ${id} not found on the source server ${this.url}`);
    if (res.status === 401 || res.status === 403) {
      throw new FerryError(
        'SOURCE_REFUSED',
        400,
        `the source server ${this.url} refused the API key ${TRUSTED_SOURCES_VARIABLE} gives for it (${res.status}: ${message})`,
      );
    }
    throw new FerryError('SOURCE_ERROR', 400, `the source server ${this.url} answered ${res.status}: ${message}`);
  }

  /** The source's record of duplication `id`. */
  async record(id: string, signal?: AbortSignal): Promise<RemoteRecord> {
    const res = await this.call(id, '', signal);
    const json = (await res.json().catch(() => null)) as Partial<RemoteRecord> | null;
    if (!json || typeof json.status !== 'string')
      throw new FerryError('SOURCE_ERROR', 400, `the source server ${this.url} did not answer with a duplication record`);
    return {
      id: String(json.id ?? id),
      status: json.status.toUpperCase(),
      message: typeof json.message === 'string' ? json.message : '',
      source: json.source ?? {},
      target: json.target ?? {},
      settings: json.settings,
    };
  }

  /** The package of duplication `id`, as a stream (the caller stores it). */
  async package(id: string, signal?: AbortSignal): Promise<Readable> {
    const res = await this.call(id, '/backup', signal);
    if (!res.body) throw new FerryError('SOURCE_ERROR', 400, `the source server ${this.url} sent an empty package`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
}
