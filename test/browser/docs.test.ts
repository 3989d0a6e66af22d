/**
 * /docs "Try it out", in a real browser against a real `ferry serve`
 * process: authorize with an API key through Swagger UI's Authorize dialog,
 * then call the API from the page as a newcomer would. Loaded from
 * 127.0.0.1 (the address the OpenAPI document names: same origin) and from
 * localhost (cross-origin: CORS preflight, content security policy).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { browserMissing, openPage, startBrowser, stopBrowser, type PageTrouble } from '../support/browser.js';
import { freePort, startServer, stopServer, type Proc } from '../support/process.js';

const KEY = 'fry_browser-docs-test-key-0123456789';
/** Generous waits: the machine is shared and a browser on it can be slow. */
const WAIT = 120_000;

/** The operation block of `method path` in Swagger UI, expanded. */
async function expand(page: Page, method: string, path: string): Promise<Locator> {
  const block = page.locator(`.opblock.opblock-${method.toLowerCase()}`).filter({
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
  await block.first().locator('.opblock-summary').first().click();
  await block.first().locator('.opblock-body').waitFor({ timeout: WAIT });
  return block.first();
}

/** "Try it out", optionally a new body, "Execute"; the live response's status and body text. */
async function tryItOut(block: Locator, body?: unknown): Promise<{ status: string; text: string }> {
  await block.locator('button.try-out__btn').click();
  if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body, null, 2));
  await block.locator('button.execute').click();
  const row = block.locator('.live-responses-table .response');
  await row.first().waitFor({ timeout: WAIT });
  const status = (await row.first().locator('.response-col_status').innerText()).trim();
  const text = await row.first().locator('.response-col_description').innerText();
  return { status, text };
}

/** Open /docs from `origin` and authorize with the key in the Authorize dialog, under one security scheme. */
async function openDocs(browser: Browser, origin: string, scheme: 'bearer' | 'apikey'): Promise<{ page: Page; trouble: PageTrouble }> {
  const opened = await openPage(browser);
  const { page } = opened;
  await page.goto(`${origin}/docs`, { timeout: WAIT });
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'Ferry native API' }).waitFor({ timeout: WAIT });
  // swagger-ui's scripts ran under the content security policy, and drew the operations of /docs/json.
  assert.ok((await page.locator('.opblock').count()) > 30, 'the operations are listed');
  await page.locator('.swagger-ui .auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor({ timeout: WAIT });
  const form = dialog.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: new RegExp(`^${scheme}$`) }) });
  await form.locator('input').first().fill(KEY);
  await form.locator('button.authorize').click();
  // Authorized: the form shows the scheme as logged in and offers "Logout".
  await form.locator('button', { hasText: 'Logout' }).waitFor({ timeout: WAIT });
  await dialog.locator('button.close-modal, button.btn-done').first().click();
  return opened;
}

const missing = browserMissing();

describe('/docs "Try it out" in a real browser', { skip: missing }, () => {
  let dir: string;
  let port: number;
  let server: Proc;
  let browser: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-browser-'));
    port = await freePort();
    server = await startServer({
      FERRY_DATA_DIR: join(dir, 'data'),
      FERRY_PORT: String(port),
      FERRY_HOST: '127.0.0.1',
      FERRY_ADMIN_API_KEY: KEY,
      FERRY_DATABASE_URL: '',
    });
    browser = await startBrowser();
  });
  after(async () => {
    await stopBrowser(browser);
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { host: '127.0.0.1', scheme: 'bearer', id: '700000001' },
    { host: 'localhost', scheme: 'bearer', id: '700000002' },
    { host: 'localhost', scheme: 'apikey', id: '700000003' },
  ] as const;
  for (const { host, scheme, id } of cases) {
    it(`authorizes with an API key (${scheme}), creates an environment and lists it (page loaded from ${host})`, async () => {
      const { page, trouble } = await openDocs(browser, `http://${host}:${port}`, scheme);
      try {
        const created = await tryItOut(await expand(page, 'POST', '/api/v1/environments'), {
          id,
          name: `Docs ${host}`,
          tier: 'development',
        });
        assert.equal(created.status, '201', created.text);
        assert.match(created.text, new RegExp(`"id": "${id}"`));

        const listed = await tryItOut(await expand(page, 'GET', '/api/v1/environments'));
        assert.equal(listed.status, '200', listed.text);
        assert.match(listed.text, new RegExp(`"id": "${id}"`));
        // The environment is really there, as another client sees it.
        const direct = await fetch(`http://127.0.0.1:${port}/api/v1/environments/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
        assert.equal(direct.status, 200);
        assert.deepEqual(trouble.errors, []);
      } finally {
        await page.context().close();
      }
    });
  }
});
