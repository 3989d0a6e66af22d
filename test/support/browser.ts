/**
 * A real browser for the suites under test/browser: the machine's Chromium
 * (Debian's `chromium` package), driven by playwright-core, which downloads
 * no browser of its own. Where Chromium is missing (a laptop), the browser
 * suites skip with one line saying how to install it; CI installs it
 * (.ci/run).
 *
 *   const missing = browserMissing();
 *   describe('...', { skip: missing }, () => {
 *     let browser: Browser;
 *     before(async () => (browser = await startBrowser()));
 *     after(() => stopBrowser(browser));
 *   });
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The Chromium the suites drive: FERRY_TEST_CHROMIUM, else Debian's. */
export const CHROMIUM_PATH = process.env.FERRY_TEST_CHROMIUM || '/usr/bin/chromium';

/** Why the browser suites cannot run here (the skip line), or undefined when they can. */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return `no Chromium at ${CHROMIUM_PATH}: install it to run the browser tests (Debian/Ubuntu: sudo apt-get install chromium), or set FERRY_TEST_CHROMIUM to a Chromium binary`;
}

/** Start a headless Chromium (no sandbox: the tests run as root in CI). */
export async function startBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--disable-dev-shm-usage', '--disable-gpu'] });
}

/** Close the browser and every page it opened; a browser never started is fine. */
export async function stopBrowser(browser: Browser | undefined): Promise<void> {
  await browser?.close();
}

/** What a page reported while it ran: console errors and refused requests (CSP, CORS and network failures land here). */
export interface PageTrouble {
  errors: string[];
}

/**
 * A fresh page (its own context: no storage shared between tests) that
 * records console errors, uncaught exceptions and failed requests, so a test
 * can assert the page ran clean.
 */
export async function openPage(browser: Browser): Promise<{ page: Page; trouble: PageTrouble }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const trouble: PageTrouble = { errors: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') trouble.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => trouble.errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => trouble.errors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? ''}`));
  return { page, trouble };
}
