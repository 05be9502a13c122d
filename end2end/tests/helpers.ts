import { expect, Locator, Page, TestInfo } from '@playwright/test';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';

export const PASSWORD = 'correct horse battery';

export function uniqueEmail(label: string): string {
  return `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits for the page to hydrate (an attribute set by an effect, which runs only in the browser). */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

/** Follows a link to another page (a page load: only islands hydrate, there is no client-side
 *  router) and waits for the new page to hydrate. */
export async function follow(page: Page, link: Locator) {
  await Promise.all([page.waitForEvent('load'), link.click()]);
  await hydrated(page);
}

export async function signUp(page: Page, email: string, opts = { js: true }) {
  await page.goto('/signup');
  if (opts.js) await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/agents$/);
  await expect(page.getByRole('heading', { name: 'Agents', exact: true })).toBeVisible();
  if (opts.js) await hydrated(page);
}

export async function signIn(page: Page, email: string, password = PASSWORD, opts = { js: true }) {
  await page.goto('/signin');
  if (opts.js) await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page) {
  await page.locator('.account-menu summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
}

export async function createAgent(page: Page, name: string) {
  await page.getByLabel('Agent name').fill(name);
  await page.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.getByRole('link', { name })).toBeVisible();
}

/** A new owner with agent `agent`, on its Settings tab with the Webhooks section open. */
export async function openSettings(page: Page, agent: string, who = 'hooks') {
  await signUp(page, uniqueEmail(who));
  await createAgent(page, agent);
  await follow(page, page.getByRole('link', { name: agent }));
  await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));
  const toggle = page.getByRole('button', { name: /^Webhooks/ });
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  return toggle;
}

export async function shot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

export type Received = { headers: IncomingMessage['headers']; body: Buffer };

/** A real webhook receiver, started by the test: answers 200 with `body` and keeps what it got. */
export async function startReceiver(body = 'thanks', contentType = 'text/plain') {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': contentType }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/voicy`, received, close: () => server.close() };
}
