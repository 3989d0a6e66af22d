/**
 * What the dev2prod contract suites share: a source tenant set up through
 * the native API (objects, a package), and a client that drives only the
 * face's HTTP routes, each call as 000 and 001 spell it.
 */
import assert from 'node:assert/strict';
import type { DialectServer, HttpRes } from './harness.js';

export const SOURCE = '123456789';
export const PASSWORD = 'a long password for dev2prod';

/** The catalog's part of every type, read through the native API. */
export async function partsByType(s: DialectServer): Promise<Record<string, string>> {
  const cat = await s.native('GET', '/catalog');
  const types = (cat.types ?? cat) as Record<string, { part: string }> | { code: string; part: string }[];
  const list = Array.isArray(types) ? types : Object.entries(types).map(([code, t]) => ({ code, part: t.part }));
  return Object.fromEntries(list.map((t) => [t.code, t.part]));
}

/** Objects of a tenant counted by catalog part, through the native API. */
export async function presentByPart(s: DialectServer, tenant: string): Promise<Record<string, number>> {
  const parts = await partsByType(s);
  const r = await s.native('GET', `/environments/${tenant}/objects?limit=10000`);
  const out: Record<string, number> = {};
  for (const o of r.items as { type: string }[]) out[parts[o.type]!] = (out[parts[o.type]!] ?? 0) + 1;
  return out;
}

/**
 * The source tenant's objects: 000's workflow (a template with tasks), its
 * groups and roles (metadata), a category with a parameter (formLayouts) and
 * an external section whose URL is a `${statusBase}` parameter of the target
 * (uiComponentConfig).
 */
export const SOURCE_OBJECTS = [
  { type: 'GROUP', id: 'g-default', name: 'Default Group', fields: { description: 'Everyone', isActive: true } },
  { type: 'GROUP', id: 'g-creative', name: 'Creative', fields: { parentID: 'g-default', description: 'Designers and writers', isActive: true } },
  { type: 'ROLE', id: 'r-curator', name: 'DAM Curator', fields: { billingPerHour: 90, isActive: true } },
  { type: 'ROLE', id: 'r-copy', name: 'Copywriter', fields: { billingPerHour: 80, isActive: true } },
  { type: 'TMPL', id: 't-onboard', name: 'New Agency Onboarding', fields: { groupID: 'g-creative', description: 'Steps to onboard a new agency' } },
  { type: 'TTSK', id: 'k-contracts', name: 'Collect contracts', fields: { templateID: 't-onboard', roleID: 'r-curator', duration: 2 } },
  { type: 'TTSK', id: 'k-brief', name: 'Write welcome brief', fields: { templateID: 't-onboard', roleID: 'r-copy', duration: 1 } },
  { type: 'TASSGN', id: 'a-brief', name: 'Copywriter on brief', fields: { templateTaskID: 'k-brief', roleID: 'r-copy', assignmentPercent: 100 } },
  { type: 'TPRED', id: 'p-1', name: 'Contracts before brief', fields: { successorID: 'k-brief', predecessorID: 'k-contracts', predecessorType: 'fs' } },
  { type: 'EXTSEC', id: 'x-status', name: 'Agency status page', fields: { url: '${statusBase}/agencies', height: 400 } },
  { type: 'PARAM', id: 'pa-size', name: 'Agency size', fields: { dataType: 'TEXT' } },
  { type: 'POPT', id: 'po-small', name: 'Small', fields: { parameterID: 'pa-size' } },
  { type: 'CTGY', id: 'c-intake', name: 'Agency intake', fields: { catObjCode: 'PROJ', isActive: true } },
  { type: 'CTGYPA', id: 'cp-size', name: 'Agency size on intake', fields: { categoryID: 'c-intake', parameterID: 'pa-size' } },
];

/** The selection of the package: the template, the external section, the category. */
const SELECTION = [
  { objCode: 'TMPL', entities: [{ ID: 't-onboard' }] },
  { objCode: 'EXTSEC', entities: [{ ID: 'x-status' }] },
  { objCode: 'CTGY', entities: [{ ID: 'c-intake' }] },
];

/** 000's prerequisite: a package on the source tenant, assembled and set ACTIVE, through the native API. */
export async function sourcePackage(
  s: DialectServer,
  tenant = SOURCE,
  status = 'ACTIVE',
): Promise<{ id: string; entityCount: number; countsByType: Record<string, number> }> {
  const created = await s.native('POST', '/packages', { sourceEnvId: tenant, name: 'Agency onboarding', objectCollections: SELECTION });
  const op = await s.waitOp(created.operation.id);
  assert.equal(op.status, 'COMPLETED', JSON.stringify(op.error));
  const pkg =
    status === 'DRAFT' ? await s.native('GET', `/packages/${created.package.id}`) : await s.native('PATCH', `/packages/${created.package.id}`, { status });
  return { id: pkg.id, entityCount: pkg.entityCount, countsByType: pkg.countsByType };
}

const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** A client of the face, with the credential it logged in with (the SMAX_AUTH_TOKEN cookie) or any other. */
export class Dev2Prod {
  constructor(
    readonly s: DialectServer,
    readonly headers: Record<string, string>,
  ) {}

  /** Log in as the product's scripts do: the token is the raw body, sent back as the SMAX_AUTH_TOKEN cookie. */
  static async login(s: DialectServer, login: string, password = PASSWORD): Promise<Dev2Prod> {
    const r = await s.http('POST', '/auth/authentication-endpoint/authenticate/token', { json: { login, password } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    return new Dev2Prod(s, { cookie: `SMAX_AUTH_TOKEN=${r.text}` });
  }

  call(method: string, path: string, opts: { json?: unknown; body?: FormData | Buffer; headers?: Record<string, string> } = {}): Promise<HttpRes> {
    return this.s.http(method, path, { ...opts, headers: { ...this.headers, ...opts.headers } });
  }

  /** Step 1: `POST /rest/{tenant_id}/dev2prod/export/types/{id}` with `{}`: the export id. */
  async exportPackage(tenant: string, packageId: string): Promise<string> {
    const r = await this.call('POST', `/rest/${tenant}/dev2prod/export/types/${packageId}`, { json: {} });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['Id']);
    return r.json.Id as string;
  }

  /** Step 2: poll `GET /rest/{tenant_id}/dev2prod/export/{id}` until it ends. */
  async waitExport(tenant: string, id: string): Promise<any> {
    return this.poll(`/rest/${tenant}/dev2prod/export/${id}`);
  }

  /** Step 3: `GET /rest/{tenant_id}/ces/attachment/{attachment_id}` (or 000's `/dev2prod/ces/...` spelling). */
  async download(tenant: string, fileId: string, spelling: 'ces' | 'dev2prod/ces' = 'ces'): Promise<Buffer> {
    const r = await this.call('GET', `/rest/${tenant}/${spelling}/attachment/${fileId}`);
    assert.equal(r.status, 200, r.text);
    return r.bytes;
  }

  /** Step 4: `POST /rest/{tenant_id}/ces/attachment`, multipart `Files[]`, User-Agent as 000 sets it: the file's Id. */
  async upload(tenant: string, bytes: Buffer, userAgent = 'Apache-HttpClient/4.4.1'): Promise<string> {
    const form = new FormData();
    form.append('Files[]', new Blob([bytes]), 'package.ferry');
    const r = await this.call('POST', `/rest/${tenant}/ces/attachment`, { body: form, headers: { 'user-agent': userAgent } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['Id']);
    return r.json.Id as string;
  }

  /** Steps 5 and 7: `POST /rest/{tenant_id}/dev2prod/import[?dryRun=true]` with `{"FileId"}`: the import id. */
  async startImport(tenant: string, fileId: string, dryRun: boolean): Promise<string> {
    const r = await this.call('POST', `/rest/${tenant}/dev2prod/import${dryRun ? '?dryRun=true' : ''}`, { json: { FileId: fileId } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['Id']);
    return r.json.Id as string;
  }

  /** Step 6: poll `GET /rest/{tenant_id}/dev2prod/import/{id}` until it ends. */
  async waitImport(tenant: string, id: string): Promise<any> {
    return this.poll(`/rest/${tenant}/dev2prod/import/${id}`);
  }

  /** Start an import and wait for its end. */
  async importFile(tenant: string, fileId: string, dryRun: boolean): Promise<any> {
    return this.waitImport(tenant, await this.startImport(tenant, fileId, dryRun));
  }

  private async poll(path: string, timeoutMs = 60_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.call('GET', path);
      assert.equal(r.status, 200, r.text);
      if (FINISHED.includes(r.json.Status)) return r.json;
      if (Date.now() > until) throw new Error(`${path} still ${r.json.Status} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }
}

/** The counts of an import's Results, by part: `[Added, Modified, Removed, Failed, Skipped]`. */
export function resultCounts(status: { Results: { PackageName: string; Statistics: Record<string, number> }[] }): Record<string, number[]> {
  return Object.fromEntries(
    status.Results.map((r) => [
      r.PackageName,
      [r.Statistics.Added!, r.Statistics.Modified!, r.Statistics.Removed!, r.Statistics.Failed!, r.Statistics.Skipped!],
    ]),
  );
}
