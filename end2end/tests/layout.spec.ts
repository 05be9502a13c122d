import { expect, Page, test } from '@playwright/test';
import { createAgent, hydrated, shot, signUp, uniqueEmail } from './helpers';

/** Nothing on the page is wider than the window (no sideways scrolling). */
async function fitsTheWindow(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test.describe('at 390 px wide', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('every page fits a phone screen', async ({ page }, testInfo) => {
    await page.goto('/signin');
    await hydrated(page);
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-signin');

    await signUp(page, uniqueEmail('phone'));
    await createAgent(page, 'Front desk with a long name that has to wrap');
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-agents');

    await page.getByRole('link', { name: 'Front desk with a long name that has to wrap' }).click();
    await expect(page.getByRole('form', { name: 'Test call' })).toBeVisible();
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-overview');

    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('button', { name: /^Webhooks/ }).click();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const form = page.getByRole('form', { name: 'Add webhook' });
    await form.getByLabel('Name', { exact: true }).fill('CRM');
    await form.getByLabel('URL', { exact: true }).fill('https://crm.example.com/hooks/a/rather/long/path/for/a/small/screen');
    await form.getByRole('button', { name: 'Add header' }).click();
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-webhook-form');
    await form.getByLabel('Header 1 name').fill('Authorization');
    await form.getByLabel('Header 1 value').fill('Bearer token');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByText('Webhook “CRM” added.')).toBeVisible();
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-settings');
  });
});

test('a webhook can be added with the keyboard alone', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('keys'));
  await createAgent(page, 'Keyboard desk');
  await page.getByRole('link', { name: 'Keyboard desk' }).click();
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await hydrated(page);

  // Tab to the section's disclosure and open it, then to "Add webhook".
  const toggle = page.getByRole('button', { name: /^Webhooks/ });
  for (let i = 0; i < 40 && !(await toggle.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(toggle).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const add = page.getByRole('button', { name: 'Add webhook' });
  for (let i = 0; i < 20 && !(await add.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(add).toBeFocused();
  await page.keyboard.press('Enter');

  // The form takes the focus where it starts; every field is reached with Tab.
  const form = page.getByRole('form', { name: 'Add webhook' });
  await expect(form.getByLabel('Name', { exact: true })).toBeFocused();
  await page.keyboard.type('Keyboard CRM');
  await page.keyboard.press('Tab');
  await expect(form.getByLabel('URL', { exact: true })).toBeFocused();
  await page.keyboard.type('https://crm.example.com/keys');
  await page.keyboard.press('Tab');
  await expect(form.getByLabel('Signing Secret')).toBeFocused();
  await shot(page, testInfo, 'keyboard-form');
  await page.keyboard.press('Enter'); // submits the form
  await expect(page.getByText('Webhook “Keyboard CRM” added.')).toBeVisible();
  await shot(page, testInfo, 'keyboard-added');
});
