import { expect, test } from '@playwright/test';
import { createAgent, follow, hydrated, PASSWORD, shot, signIn, signOut, signUp, uniqueEmail } from './helpers';

test('an owner signs up, creates an agent, opens its Settings, and finds it again after signing back in', async ({ page }, testInfo) => {
  const email = uniqueEmail('owner');
  await page.goto('/signup');
  await shot(page, testInfo, 'signup');
  await signUp(page, email);
  await shot(page, testInfo, 'agents-empty');

  await createAgent(page, 'Front desk');
  await shot(page, testInfo, 'agents-list');

  await follow(page, page.getByRole('link', { name: 'Front desk' }));
  await expect(page.getByRole('heading', { name: 'Front desk' })).toBeVisible();
  await shot(page, testInfo, 'agent-overview');

  await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));
  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]+\/settings$/);
  await expect(page.getByRole('button', { name: /Webhooks/ })).toBeVisible();
  await shot(page, testInfo, 'agent-settings');

  await signOut(page);
  await shot(page, testInfo, 'signin');
  await signIn(page, email);
  await expect(page).toHaveURL(/\/agents$/);
  await expect(page.getByRole('link', { name: 'Front desk' })).toBeVisible();
});

test('another signed-in user gets 404 for the first user’s agent URL', async ({ browser }) => {
  const owner = await browser.newPage();
  await signUp(owner, uniqueEmail('alice'));
  await createAgent(owner, 'Alice private agent');
  await follow(owner, owner.getByRole('link', { name: 'Alice private agent' }));
  await expect(owner.getByRole('heading', { name: 'Alice private agent' })).toBeVisible();
  const agentUrl = owner.url();

  const intruder = await browser.newPage();
  await signUp(intruder, uniqueEmail('mallory'));
  for (const url of [agentUrl, `${agentUrl}/settings`]) {
    const response = await intruder.goto(url);
    expect(response?.status()).toBe(404);
    await expect(intruder.getByRole('heading', { name: 'Agent not found' })).toBeVisible();
    await expect(intruder.getByText('Alice private agent')).toHaveCount(0);
  }
});

test('anonymous visitors are sent to sign-in', async ({ page }) => {
  await page.goto('/agents');
  await expect(page).toHaveURL(/\/signin$/);
  await page.goto('/account/api-keys');
  await expect(page).toHaveURL(/\/signin$/);
});

test('a wrong password and an unknown email get the same message', async ({ page }) => {
  const email = uniqueEmail('bob');
  await signUp(page, email);
  await signOut(page);

  await signIn(page, email, 'wrong password!!');
  const wrongPassword = await page.getByRole('alert').textContent();
  await signIn(page, uniqueEmail('nobody'), PASSWORD);
  const unknownEmail = await page.getByRole('alert').textContent();
  expect(wrongPassword).toContain('do not match');
  expect(unknownEmail).toBe(wrongPassword);
});

test('sign-up explains a short password beside the field', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(uniqueEmail('short'));
  // Bypass the browser's own minlength check so the server's message is what we see.
  await page.getByLabel('Password').evaluate((el) => el.removeAttribute('minlength'));
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByText('Use at least 10 characters for the password.')).toBeVisible();
});

test('API keys are created, shown once, and revoked from the account menu', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('keys'));
  await page.locator('.account-menu summary').click();
  await follow(page, page.getByRole('link', { name: 'API keys' }));
  await expect(page.getByRole('heading', { name: 'API keys', exact: true })).toBeVisible();
  await page.getByLabel('Key name').fill('Telephony');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByLabel('Your new key')).toHaveValue(/^vk_[0-9a-f]{64}$/);
  // Shown focused and selected, for a copy with one keystroke.
  await expect(page.getByLabel('Your new key')).toBeFocused();
  await expect(page.getByText('Telephony', { exact: true })).toBeVisible();
  await shot(page, testInfo, 'api-keys');
  // Revoking asks first; saying no changes nothing.
  page.once('dialog', (dialog) => dialog.dismiss());
  await page.getByRole('button', { name: 'Revoke Telephony' }).click();
  await expect(page.getByText('Telephony', { exact: true })).toBeVisible();
  page.once('dialog', (dialog) => {
    expect(dialog.message()).toContain('Revoke “Telephony”?');
    return dialog.accept();
  });
  await page.getByRole('button', { name: 'Revoke Telephony' }).click();
  await expect(page.getByText('API key revoked.')).toBeVisible();
  await expect(page.getByText('No API keys yet.')).toBeVisible();
  // The revoked key is no longer on the screen, and the focus is on what happened.
  await expect(page.getByLabel('Your new key')).toHaveCount(0);
  await expect(page.locator('#keys-outcome')).toBeFocused();
});
