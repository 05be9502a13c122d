import { expect, test } from '@playwright/test';
import { createAgent, hydrated, shot, signUp, uniqueEmail } from './helpers';

// Each page's code is a wasm chunk fetched on first use, named by a hash of its content. A tab
// opened before a new release asks for chunks that the release has replaced: the page must then
// load afresh from the server, not leave a dead app behind a link that does nothing.
test('a tab opened before a new release still opens the next page', async ({ page }, testInfo) => {
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  await signUp(page, uniqueEmail('release'));
  await createAgent(page, 'Night line');
  await page.goto('/agents');
  await hydrated(page);

  // The old release's chunks are gone: every one the tab asks for answers 404, until the tab
  // loads a page from the server again (here the same build stands in for the new release).
  let refused = 0;
  let reloaded = false;
  page.on('request', (request) => {
    if (request.isNavigationRequest()) reloaded = true;
  });
  await page.route(/\/pkg\/[^/]+\.wasm$/, async (route) => {
    if (reloaded || /\/pkg\/voicy\./.test(route.request().url())) return route.fallback();
    refused += 1;
    await route.fulfill({ status: 404, body: 'not found' });
  });
  const load = page.waitForEvent('load');
  await page.getByRole('link', { name: 'Night line' }).click();
  await load;

  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]+$/);
  await expect(page.getByRole('heading', { name: 'Night line' })).toBeVisible();
  await hydrated(page);
  expect(refused, 'the click asked for the next page\'s chunks').toBeGreaterThan(0);
  expect(crashes, 'no panic').toEqual([]);
  await shot(page, testInfo, 'after-release');

  // And the reloaded tab goes on working: its next page comes from the new bundle.
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('button', { name: /^Webhooks/ })).toBeVisible();
});

// A page whose code the server cannot give (files missing on the server) is loaded once more,
// in case a release was under way, and then left as the server rendered it: never in a loop.
test('a page whose code is missing on the server is loaded again once, not in a loop', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('missing'));
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  let loads = 0;
  page.on('request', (request) => {
    if (request.isNavigationRequest()) loads += 1;
  });
  await page.route(/\/pkg\/[^/]+\.wasm$/, (route) =>
    /\/pkg\/voicy\./.test(route.request().url()) ? route.fallback() : route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/agents');
  // The notice comes only after the second load; then nothing more may happen.
  await expect(page.getByRole('alert')).toContainText('could not be loaded', { timeout: 15000 });
  await page.waitForTimeout(1500);
  expect(loads, 'the visit and one more load').toBe(2);
  // The page stays as the server rendered it, readable, and says why it does not respond.
  await expect(page.getByRole('heading', { name: 'Agents', exact: true })).toBeVisible();
  expect(crashes, 'no panic').toEqual([]);
  await shot(page, testInfo, 'missing-code');
});

// The next page's code (and then its data) can take a moment on a slow connection: the click
// must show at once that something is happening.
test('a page that takes a moment to load says so while it loads', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('slow'));
  await createAgent(page, 'Slow line');
  await page.goto('/agents');
  await hydrated(page);
  await page.route(/\/pkg\/[^/]+\.wasm$/, async (route) => {
    await new Promise((done) => setTimeout(done, 1500));
    await route.fallback();
  });
  const status = page.locator('.route-progress[role="status"]');
  await expect(status).toHaveText('');
  await page.getByRole('link', { name: 'Slow line' }).click();
  await expect(status).toHaveText('Loading the page…');
  await expect(page.locator('.route-progress.active')).toBeVisible();
  await page.waitForTimeout(400); // past the bar's 150 ms delay and fade-in
  await page.screenshot({ path: testInfo.outputPath('loading-bar.png'), clip: { x: 0, y: 0, width: 1280, height: 120 } });
  await expect(page.getByRole('heading', { name: 'Slow line' })).toBeVisible();
  await expect(status).toHaveText('');
});

// Pointing at a link (or focusing it from the keyboard) starts fetching the next page's code, so
// the click does not wait for it.
test('a link pointed at or focused fetches its page\'s code before the click', async ({ page }) => {
  await signUp(page, uniqueEmail('ahead'));
  await createAgent(page, 'Ahead desk');
  await page.goto('/agents');
  await hydrated(page);
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (/\.wasm$/.test(request.url())) wasm.push(request.url());
  });
  const asked = (chunk: RegExp) => wasm.some((url) => chunk.test(url));
  expect(asked(/split_agent_overview_page/), 'not before').toBe(false);

  await page.getByRole('link', { name: 'Ahead desk' }).hover();
  await expect.poll(() => asked(/split_agent_overview_page/), { message: 'fetched on hover' }).toBe(true);
  await expect(page).toHaveURL(/\/agents$/);
  await page.getByRole('link', { name: 'Ahead desk' }).click();
  // Away from wherever the next page puts a link: only the focus below may fetch its code.
  await page.mouse.move(0, 0);
  await expect(page.getByRole('heading', { name: 'Ahead desk' })).toBeVisible();

  expect(asked(/split_agent_settings_page/), 'not before').toBe(false);
  await page.getByRole('link', { name: 'Settings', exact: true }).focus();
  await expect.poll(() => asked(/split_agent_settings_page/), { message: 'fetched on focus' }).toBe(true);
  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]+$/);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: /^Webhooks/ })).toBeVisible();
});

// The Webhooks section starts closed, so its content is code of its own: a first visit to
// Settings does not download it; pointing at the section's toggle starts fetching it, and
// opening it shows the list. Code that cannot be fetched is said in the section, without a panic.
test('the Webhooks section\'s code comes when it is about to be opened, not with the page', async ({ page }, testInfo) => {
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  await signUp(page, uniqueEmail('section'));
  await createAgent(page, 'Quiet desk');
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (/\.wasm$/.test(request.url())) wasm.push(request.url());
  });
  const asked = () => wasm.some((url) => /split_webhook_list/.test(url));
  await page.getByRole('link', { name: 'Quiet desk' }).click();
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page).toHaveURL(/\/settings$/);
  const settings = page.url();
  await page.goto(settings);
  await hydrated(page);
  const toggle = page.getByRole('button', { name: /^Webhooks/ });
  await expect(toggle).toContainText('0/5');
  // Never fetched before in this browser, so not served from its cache either.
  expect(asked(), 'not with the page').toBe(false);

  await toggle.hover();
  await expect.poll(asked, { message: 'fetched when pointed at' }).toBe(true);
  await toggle.click();
  await expect(page.getByText('No webhooks yet.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add webhook' })).toBeEnabled();

  // A first visit whose section code is missing on the server.
  await page.route(/split_webhook_list[^/]*\.wasm$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto(settings);
  await hydrated(page);
  await page.mouse.move(0, 0);
  await toggle.click();
  await expect(page.getByRole('alert')).toContainText('could not be shown');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  expect(crashes, 'no panic').toEqual([]);
  await shot(page, testInfo, 'section-code-missing');
  // Its button loads the page again, which mends it once the files are there.
  await page.unroute(/split_webhook_list[^/]*\.wasm$/);
  const load = page.waitForEvent('load');
  await page.getByRole('button', { name: 'Reload the page' }).click();
  await load;
  await hydrated(page);
  await toggle.click();
  await expect(page.getByText('No webhooks yet.')).toBeVisible();
});
