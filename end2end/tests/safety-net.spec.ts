import { expect, Page, test } from '@playwright/test';
import { follow, hydrated, openSettings, shot, startReceiver } from './helpers';

async function endTestCall(page: Page) {
  const call = page.getByRole('form', { name: 'Test call' });
  await call.getByLabel('Turn 2 text').fill('Please call me back tomorrow.');
  await call.getByRole('button', { name: 'End call' }).click();
  await expect(page).toHaveURL(/\/calls\/[0-9a-f-]+$/);
  await hydrated(page);
}

async function toSettings(page: Page, agent: string) {
  await follow(page, page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: agent }));
  await follow(page, page.getByRole('link', { name: 'Settings', exact: true }));
  await page.getByRole('button', { name: /^Webhooks/ }).click();
  return page.locator('li.webhook').filter({ hasText: 'Receiver' });
}

test('pause, a paused call, resume, "Redeliver failed…" to done, and the Deliveries tab filtered by outcome', async ({ page }, testInfo) => {
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
    await expect(page.locator('li.delivery').first()).toContainText('Receiver · paused', { timeout: 15_000 });
    expect(receiver.received).toHaveLength(0);
    await shot(page, testInfo, 'paused-delivery');

    // Resumed, then what it missed redelivered in bulk, with live progress.
    let again = await toSettings(page, 'Night desk');
    await again.getByRole('button', { name: 'Resume Receiver' }).click();
    await expect(page.getByText(/“Receiver” is sending again/)).toBeVisible();
    again = page.locator('li.webhook').filter({ hasText: 'Receiver' });
    await expect(again).not.toContainText('Paused');
    await again.getByRole('button', { name: /^Redeliver failed… of Receiver/ }).click();
    const replay = again.getByRole('form', { name: 'Redeliver failed calls of Receiver' });
    await expect(replay.getByLabel('From')).not.toHaveValue('');
    await replay.getByRole('button', { name: 'Redeliver failed calls' }).click();
    await expect(again.getByRole('status').filter({ hasText: 'Done' })).toContainText('Done: 1 of 1 delivered, 0 failed.', { timeout: 15_000 });
    await shot(page, testInfo, 'replay-done');
    await expect.poll(() => receiver.received.length).toBe(1);

    // The Deliveries tab, filtered by outcome through its address.
    await follow(page, page.getByRole('link', { name: 'Deliveries', exact: true }));
    const filters = page.getByRole('form', { name: 'Filter deliveries' });
    await filters.getByLabel('Outcome').selectOption('paused');
    await Promise.all([page.waitForEvent('load'), filters.getByRole('button', { name: 'Apply filters' }).click()]);
    await expect(page).toHaveURL(/outcome=paused/);
    await hydrated(page);
    await expect(page.locator('li.delivery')).toHaveCount(1);
    await expect(page.locator('li.delivery').first()).toContainText('Receiver · paused');
    await page.getByRole('form', { name: 'Filter deliveries' }).getByLabel('Outcome').selectOption('ok');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Apply filters' }).click()]);
    await hydrated(page);
    await expect(page.locator('li.delivery').first()).toContainText('redelivery');
    await shot(page, testInfo, 'deliveries-filtered');

    // Resumed for new calls too.
    await follow(page, page.getByRole('link', { name: 'Overview' }));
    await endTestCall(page);
    await expect(page.getByText('Sent to 1 webhook: 1 of 1 delivered.')).toBeVisible({ timeout: 15_000 });
    expect(receiver.received).toHaveLength(2);

    // Charts, drawn on the server, at 1280 and at 390 px wide, with their figures as a table.
    const row2 = await toSettings(page, 'Night desk');
    await row2.getByText('Charts of Receiver').click();
    const chart = row2.getByRole('img', { name: /Success rate and latency of Receiver over the last 24 hours/ });
    await expect(chart).toBeVisible();
    await expect.poll(() => chart.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    await row2.getByText('Figures as a table').click();
    await expect(row2.getByRole('table')).toContainText('100%');
    await chart.scrollIntoViewIfNeeded();
    await shot(page, testInfo, 'charts-1280');
    await row2.getByRole('button', { name: '30 days' }).click();
    await expect(row2.getByRole('img', { name: /over the last 30 days/ })).toBeVisible();
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(page, testInfo, 'charts-390');
  } finally {
    await receiver.close();
  }
});
