import { expect, test } from '@playwright/test';
import { createAgent, follow, hydrated, shot, signUp, uniqueEmail } from './helpers';

// Pages are rendered on the server; the browser hydrates only their islands (the parts that
// answer clicks), each from a wasm chunk of its own (but the account menu, on every page, which
// is in the main module). A page downloads its own islands' code.
test('each page downloads the code of its own islands, not of the other pages', async ({ page }) => {
  await signUp(page, uniqueEmail('islands'));
  await createAgent(page, 'Island desk');
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (/\.wasm$/.test(request.url())) wasm.push(request.url());
  });
  const asked = (island: string) => wasm.some((url) => new RegExp(`split_${island}_loader`).test(url));

  await page.goto('/agents');
  await hydrated(page);
  expect(asked('agents_board'), 'the agents list and form').toBe(true);
  expect(asked('settings_sections') || asked('test_call_panel') || asked('api_keys_board'), 'no other page').toBe(false);

  wasm.length = 0;
  await follow(page, page.getByRole('link', { name: 'Island desk' }));
  expect(asked('test_call_panel'), 'the test call').toBe(true);
  expect(asked('settings_sections') || asked('call_panel'), 'no other page').toBe(false);

  // The API reference has nothing to hydrate but the account menu.
  wasm.length = 0;
  await follow(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' }));
  expect(asked('test_call_panel') || asked('agents_board'), 'no other page').toBe(false);
});

// A page whose code cannot be fetched (files missing on the server) stays as the server rendered
// it: readable, its links plain links, and its forms plain forms that still do their work.
test('a page whose code is missing on the server still works as plain HTML', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('missing'));
  await page.route(/\/pkg\/split_[^/]+\.wasm$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/agents');
  await expect(page.getByRole('heading', { name: 'Agents', exact: true })).toBeVisible();
  await page.getByLabel('Agent name').fill('Plain desk');
  await page.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.getByRole('link', { name: 'Plain desk' })).toBeVisible();
  await shot(page, testInfo, 'missing-code');
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
  await follow(page, page.getByRole('link', { name: 'Quiet desk' }));
  await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));
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
