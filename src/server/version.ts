import { readFileSync } from 'node:fs';

/** The package version, shown by /api/v1/health and the OpenAPI document. Read once: src/ and dist/ both sit two levels below package.json. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
