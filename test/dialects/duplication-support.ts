/**
 * Helpers of the duplication face's contract suites: sessions as the SDK
 * opens them, polling a record, a project's objects through the native API.
 */
import assert from 'node:assert/strict';
import type { DialectServer } from './harness.js';

export const DUP = '/api/projectDuplications';
const STABLE = ['EXPORTED', 'EXPORT_FAILED', 'COMPLETED', 'IMPORT_FAILED', 'CANCELLED'];

/** Log in as the SDK does (a form, loginMode 1); the X-MSTR-AuthToken header to send. */
export async function login(s: DialectServer, username: string, password: string): Promise<Record<string, string>> {
  const r = await s.http('POST', '/api/auth/login', { form: { loginMode: '1', applicationType: '76', username, password } });
  assert.equal(r.status, 204, r.text);
  return { 'x-mstr-authtoken': r.headers.get('x-mstr-authtoken')! };
}

/** Poll a record until it is stable (or in `until`); every `everyMs`. */
export async function settle(
  s: DialectServer,
  headers: Record<string, string>,
  id: string,
  opts: { until?: string[]; everyMs?: number; timeoutMs?: number } = {},
): Promise<any> {
  const until = opts.until ?? STABLE;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const seen: string[] = [];
  let last = -1;
  for (;;) {
    const r = await s.http('GET', `${DUP}/${id}`, { headers });
    assert.equal(r.status, 200, r.text);
    if (seen[seen.length - 1] !== r.json.status) seen.push(r.json.status);
    assert.ok(r.json.progress >= last, `progress went back: ${last} -> ${r.json.progress}`);
    last = r.json.progress;
    if (until.includes(r.json.status)) return { ...r.json, seen };
    if (Date.now() > deadline) throw new Error(`duplication ${id} still ${r.json.status} (${r.json.message})`);
    await new Promise((resolve) => setTimeout(resolve, opts.everyMs ?? 50));
  }
}

/** The objects of an environment (native API), as `type:id` -> {name, fields}. */
export async function objectsOf(s: DialectServer, envId: string): Promise<Map<string, { name: string; fields: Record<string, unknown> }>> {
  const out = new Map<string, { name: string; fields: Record<string, unknown> }>();
  for (let offset = 0; ; offset += 1000) {
    const page = await s.native('GET', `/environments/${envId}/objects?limit=1000&offset=${offset}`);
    for (const o of page.items) out.set(`${o.type}:${o.id}`, { name: o.name, fields: o.fields });
    if (offset + 1000 >= page.total) return out;
  }
}

/** A project's environment (the native view) by its project id (the environment's uid). */
export async function envOfProject(s: DialectServer, projectId: string): Promise<any> {
  const envs = await s.native('GET', '/environments');
  const env = envs.items.find((e: { uid: string }) => e.uid === projectId);
  assert.ok(env, `no environment with uid ${projectId}`);
  return env;
}

export const OBJECTS = [
  { type: 'SECROLE', id: 'sr-normal', name: 'Normal Users', fields: { privileges: ['read'] } },
  { type: 'USRGRP', id: 'g-everyone', name: 'Everyone', fields: {} },
  { type: 'USER', id: 'u-ann', name: 'Ann', fields: { login: 'ann', userGroupIDs: ['g-everyone'], securityRoleIDs: ['sr-normal'], passwordHash: 'dev-hash' } },
  { type: 'GROUP', id: 'grp1', name: 'Default Group', fields: { description: 'everyone' } },
  { type: 'ROLE', id: 'role1', name: 'Designer', fields: {} },
  { type: 'TMPL', id: 'tmpl1', name: 'Onboarding', fields: { groupID: 'grp1', description: '${welcome}' } },
  { type: 'TTSK', id: 'ttsk1', name: 'Brief', fields: { templateID: 'tmpl1', roleID: 'role1' } },
  { type: 'TTSK', id: 'ttsk2', name: 'Review', fields: { templateID: 'tmpl1', roleID: 'role1' } },
];

/** A POST body as the document's sample has it. */
export function duplicationBody(source: { url: string; projectId: string; name: string }, target: { url: string; name: string }, settings?: unknown) {
  return {
    source: { environment: { id: source.url, name: 'Source Environment' }, project: { id: source.projectId, name: source.name } },
    target: { environment: { id: target.url, name: 'Target Environment' }, project: { name: target.name } },
    ...(settings !== undefined ? { settings } : {}),
  };
}

export const ASYNC = { prefer: 'respond-async' };
