import { expect, test } from '@playwright/test';
import { PASSWORD, signIn, uniqueEmail } from './helpers';

// JavaScript is disabled in this project: the forms must work as plain HTML form posts.

test('sign-up, agent creation, sign-out and sign-in work without JavaScript', async ({ page }) => {
  const email = uniqueEmail('nojs');
  await page.goto('/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/agents$/);

  await page.getByLabel('Agent name').fill('No-JS agent');
  await page.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.getByRole('link', { name: 'No-JS agent' })).toBeVisible();

  await page.locator('.account-menu summary').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, email, PASSWORD, { js: false });
  await expect(page).toHaveURL(/\/agents$/);
  await expect(page.getByRole('link', { name: 'No-JS agent' })).toBeVisible();
});

test('a failed sign-in without JavaScript shows why', async ({ page }) => {
  await signIn(page, uniqueEmail('ghost'), 'not the password', { js: false });
  await expect(page.getByRole('alert')).toContainText('do not match');
});
