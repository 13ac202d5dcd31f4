import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { createHttpServer } from '../../src/entry-points/http-server';
import { Harness, startHarness, TestUser, USERS } from '../helpers/harness';

// Debian's chromium, driven by playwright-core (which downloads no browser of its own).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = os.tmpdir();

jest.setTimeout(60_000);

let h: Harness | undefined;
let server: Server | undefined;
let browser: Browser | undefined;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: these tests need \`apt-get install -y chromium\``);
  }
  h = await startHarness();
  const listening = createHttpServer(h.services.app);
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await h?.stop();
});

/** Opens /docs in a fresh page, recording everything that went wrong while it loaded. */
async function openDocs(): Promise<{ page: Page; problems: string[]; csp: string }> {
  const page = await browser!.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
  });
  // Chromium also logs violations, but the event names the directive even if that changes.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP violation: ' + e.effectiveDirective + ' ' + e.blockedURI));`,
  });
  const response = await page.goto(`${base}/docs`);
  await page
    .locator('#operations-orders-placeOrders')
    .waitFor({ timeout: 15_000 })
    .catch((error: Error) => {
      throw new Error([error.message, ...problems].join('\n'));
    });
  return { page, problems, csp: response?.headers()['content-security-policy'] ?? '' };
}

/** Logs in through the Authorize dialog, as a reader of the page would. */
async function authorize(page: Page, user: TestUser): Promise<void> {
  await page.locator('.scheme-container button.authorize').click();
  const dialog = page.locator('.modal-ux');
  const basic = dialog.locator('form', { has: page.getByLabel('auth-basic-username') });
  await basic.getByLabel('auth-basic-username').fill(USERS[user].username);
  await basic.getByLabel('auth-basic-password').fill(USERS[user].password);
  await basic.getByRole('button', { name: 'Apply credentials' }).click();
  // Once applied, the basicAuth form shows the user name instead of the inputs.
  await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
  await dialog.getByRole('button', { name: 'Close' }).first().click();
  await dialog.waitFor({ state: 'detached' });
}

describe('Swagger UI at /docs in headless Chromium', () => {
  it('loads under the strict Content-Security-Policy without errors or violations', async () => {
    const { page, problems, csp } = await openDocs();
    expect(csp).toMatch(/(^|;)script-src 'self'(;|$)/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'docs.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('creates an order when "Try it out" on POST /orders is executed with the default body', async () => {
    const { page, problems } = await openDocs();
    await authorize(page, 'manager');
    const operation = page.locator('#operations-orders-placeOrders');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();

    const response = operation.locator('.live-responses-table .response');
    await response.waitFor();
    await response.screenshot({ path: path.join(SCREENSHOTS, 'docs-try-it-out.png') });
    expect(await response.locator('.response-col_status').textContent()).toBe('201');
    const body = JSON.parse(
      (await response.locator('.response-col_description pre').first().textContent())!,
    );
    const stored = await h!.services.repositories.orders.findOrder(body.order_id);
    expect(stored).toMatchObject({ customer_id: 'c-42', currency: 'USD', status: 'pending' });
    expect(problems).toEqual([]);
    await page.close();
  });
});
