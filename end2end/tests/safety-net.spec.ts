import { expect, test } from '@playwright/test';
import { Page } from '@playwright/test';
import { follow, hydrated, openSettings, shot, startReceiver } from './helpers';

async function endTestCall(page: Page) {
  const call = page.getByRole('form', { name: 'Test call' });
  await call.getByLabel('Turn 2 text').fill('Please call me back tomorrow.');
  await call.getByRole('button', { name: 'End call' }).click();
}

test('a paused webhook logs the call as paused and sends nothing; resumed, it sends again; retries are chosen in the form', async ({ page }, testInfo) => {
  const receiver = await startReceiver();
  try {
    await openSettings(page, 'Night desk', 'pause');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const form = page.getByRole('form', { name: 'Add webhook' });
    await form.getByLabel('Name', { exact: true }).fill('Receiver');
    await form.getByLabel('URL', { exact: true }).fill(receiver.url);
    await expect(form.getByLabel('Retries')).toHaveValue('none');
    await form.getByLabel('Retries').selectOption('backoff');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByText('Webhook “Receiver” added.')).toBeVisible();
    const row = page.locator('li.webhook').filter({ hasText: 'Receiver' });
    await expect(row).toContainText('Retries');

    await row.getByRole('button', { name: 'Pause Receiver' }).click();
    await expect(page.getByText(/“Receiver” is paused/)).toBeVisible();
    await expect(row).toContainText('Paused');
    await expect(row.getByRole('button', { name: 'Resume Receiver' })).toBeFocused();
    await shot(page, testInfo, 'paused-webhook');

    // A test call while paused: logged as paused, nothing reaches the receiver.
    await follow(page, page.getByRole('link', { name: 'Overview' }));
    await endTestCall(page);
    await expect(page).toHaveURL(/\/calls\/[0-9a-f-]+$/);
    await hydrated(page);
    await expect(page.locator('li.delivery').first()).toContainText('Receiver · paused', { timeout: 15_000 });
    expect(receiver.received).toHaveLength(0);
    await shot(page, testInfo, 'paused-delivery');

    // Resumed: the paused delivery is redelivered by hand, and the next call is sent.
    await follow(page, page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Night desk' }));
    await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));
    await page.getByRole('button', { name: /^Webhooks/ }).click();
    const again = page.locator('li.webhook').filter({ hasText: 'Receiver' });
    await again.getByRole('button', { name: 'Resume Receiver' }).click();
    await expect(page.getByText(/“Receiver” is sending again/)).toBeVisible();
    await expect(again).not.toContainText('Paused');
    await follow(page, page.getByRole('link', { name: 'Overview' }));
    await endTestCall(page);
    await expect(page).toHaveURL(/\/calls\/[0-9a-f-]+$/);
    await expect(page.getByText('Sent to 1 webhook: 1 of 1 delivered.')).toBeVisible({ timeout: 15_000 });
    expect(receiver.received).toHaveLength(1);
  } finally {
    await receiver.close();
  }
});
