import { expect, Page, test } from '@playwright/test';
import { createAgent, follow, hydrated, shot, signUp, uniqueEmail } from './helpers';

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

    await follow(page, page.getByRole('link', { name: 'Front desk with a long name that has to wrap' }));
    await expect(page.getByRole('form', { name: 'Test call' })).toBeVisible();
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-overview');

    await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));
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

    await follow(page, page.getByRole('link', { name: 'Overview' }));
    const call = page.getByRole('form', { name: 'Test call' });
    await call.getByLabel('Turn 2 text').fill('Can I move my appointment to Tuesday?');
    await call.getByRole('button', { name: 'End call' }).click();
    await expect(page).toHaveURL(/\/calls\/[0-9a-f-]+$/);
    await expect(page.locator('li.delivery').first()).toBeVisible({ timeout: 15_000 });
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-call');

    await page.goto('/account/api-keys');
    await hydrated(page);
    await fitsTheWindow(page);
    await shot(page, testInfo, 'phone-api-keys');
  });
});

test('a webhook can be added with the keyboard alone', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('keys'));
  await createAgent(page, 'Keyboard desk');
  await follow(page, page.getByRole('link', { name: 'Keyboard desk' }));
  await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));

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
  // The focus is on what happened, not lost to the top of the page.
  await expect(page.locator('#webhooks-outcome')).toBeFocused();
  await shot(page, testInfo, 'keyboard-added');

  // Escape closes a form and gives the focus back to what opened it; "Add header" goes on to
  // the new header's name.
  const edit = page.getByRole('button', { name: 'Edit Keyboard CRM' });
  await tabTo(page, edit);
  await page.keyboard.press('Enter');
  const editing = page.getByRole('form', { name: 'Edit Keyboard CRM' });
  await expect(editing.getByLabel('Name', { exact: true })).toBeFocused();
  await tabTo(page, editing.getByRole('button', { name: 'Add header' }));
  await page.keyboard.press('Enter');
  await expect(editing.getByLabel('Header 1 name')).toBeFocused();
  // A header row was added: Escape asks before throwing that away.
  let asked = '';
  page.once('dialog', (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.keyboard.press('Escape');
  await expect(editing).toHaveCount(0);
  expect(asked).toContain('Discard the changes');
  await expect(edit).toBeFocused();

  // Delete asks first, with the focus on its confirm button; Escape takes it back.
  const trash = page.getByRole('button', { name: 'Delete Keyboard CRM' });
  await tabTo(page, trash);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Delete webhook' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: 'Delete webhook' })).toHaveCount(0);
  await expect(trash).toBeFocused();
});

/** Presses Tab until `target` has the focus (at most `max` times), then checks it does. */
async function tabTo(page: Page, target: ReturnType<Page['getByRole']>, max = 60) {
  for (let i = 0; i < max && !(await target.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(target).toBeFocused();
}

test('every page is reached and used with the keyboard alone', async ({ page }, testInfo) => {
  await signUp(page, uniqueEmail('keyboard-pages'));
  await hydrated(page);
  await tabTo(page, page.getByLabel('Agent name'));
  await page.keyboard.type('Keys only desk');
  await page.keyboard.press('Enter');
  const agent = page.getByRole('link', { name: 'Keys only desk' });
  await expect(agent).toBeVisible();
  await tabTo(page, agent);
  await shot(page, testInfo, 'keyboard-agents');
  await page.keyboard.press('Enter');

  // Overview: end a test call from the keyboard; the call page opens.
  await expect(page.getByRole('form', { name: 'Test call' })).toBeVisible();
  await hydrated(page);
  await tabTo(page, page.getByLabel('Turn 2 text'), 80);
  await page.keyboard.type('Can I move my appointment to Tuesday?');
  const endCall = page.getByRole('button', { name: 'End call' });
  await tabTo(page, endCall, 10);
  await shot(page, testInfo, 'keyboard-overview');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/calls\/[0-9a-f-]+$/);
  await hydrated(page);
  const back = page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Keys only desk' });
  await tabTo(page, back);
  await shot(page, testInfo, 'keyboard-call');
  await page.keyboard.press('Enter');

  // Settings, through its tab link.
  const settings = page.getByRole('link', { name: 'Settings', exact: true });
  await tabTo(page, settings);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/settings$/);
  await hydrated(page);
  // A page load: the first Tab reaches the skip link, which leads past the header.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await tabTo(page, page.getByRole('button', { name: /^Webhooks/ }));
  await page.keyboard.press('Enter');
  await tabTo(page, page.getByRole('button', { name: 'Save processing' }), 80);
  await shot(page, testInfo, 'keyboard-settings');

  // The account menu opens with Enter (Escape closes it, back on its summary) and leads to the
  // API keys page.
  const menu = page.locator('.account-menu summary');
  await tabTo(page, menu, 120);
  await page.keyboard.press('Enter');
  const keys = page.getByRole('link', { name: 'API keys' });
  await expect(keys).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(keys).toBeHidden();
  await expect(menu).toBeFocused();
  await page.keyboard.press('Enter');
  await tabTo(page, keys, 5);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/account\/api-keys$/);
  await hydrated(page);
  await tabTo(page, page.getByRole('button', { name: /Create/ }));
  await shot(page, testInfo, 'keyboard-api-keys');

  // The API reference, from the main navigation.
  const api = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API' });
  await tabTo(page, api, 80);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/docs\/api$/);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await shot(page, testInfo, 'keyboard-reference');
});
