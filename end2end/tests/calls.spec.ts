import { expect, test } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { follow, hydrated, openSettings, shot, startReceiver } from './helpers';

test('a test call from the dashboard reaches the webhook and its delivery shows 200', async ({ page }, testInfo) => {
  const receiver = await startReceiver();
  try {
    await openSettings(page, 'Test desk', 'caller');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const form = page.getByRole('form', { name: 'Add webhook' });
    await form.getByLabel('Name', { exact: true }).fill('Receiver');
    await form.getByLabel('URL', { exact: true }).fill(receiver.url);
    await form.getByLabel('Signing Secret').fill('e2e-signing-secret');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByText('Webhook “Receiver” added.')).toBeVisible();

    // A variable to extract, saved to the draft (a bad pattern first: explained, nothing lost).
    const processing = page.getByRole('form', { name: 'Post-call processing' });
    await processing.getByRole('button', { name: 'Add variable' }).click();
    await processing.getByLabel('Variable 1 name').fill('day');
    await processing.getByLabel('Variable 1 pattern').fill('(Tuesday');
    await processing.getByRole('button', { name: 'Save processing' }).click();
    await expect(processing.getByText(/Not a valid pattern/)).toBeVisible();
    await processing.getByLabel('Variable 1 pattern').fill('(Monday|Tuesday)');
    await processing.getByRole('button', { name: 'Save processing' }).click();
    await expect(processing.getByText('Saved to the draft.')).toBeVisible();
    await shot(page, testInfo, 'processing');

    await follow(page, page.getByRole('link', { name: 'Overview' }));
    const call = page.getByRole('form', { name: 'Test call' });
    await call.getByLabel('Turn 2 text').fill('I would like to book a cleaning on Tuesday.');
    await call.getByRole('button', { name: 'Add turn' }).click();
    // Straight on to the new turn's text.
    await expect(call.getByLabel('Turn 3 text')).toBeFocused();
    await call.getByLabel('Turn 3 text').fill('You are booked for Tuesday at 10.');
    await shot(page, testInfo, 'test-call');
    await call.getByRole('button', { name: 'End call' }).click();

    await expect(page).toHaveURL(/\/agents\/[0-9a-f-]+\/calls\/[0-9a-f-]+$/);
    await expect(page.getByText('Sent to 1 webhook: 1 of 1 delivered.')).toBeVisible({ timeout: 15_000 });
    // The breadcrumb names the agent and leads back to it.
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
    await expect(crumbs).toContainText('Agents / Test desk / Call');
    const delivery = page.locator('li.delivery').first();
    await expect(delivery).toContainText('Receiver · 200');
    await expect(page.getByText('day: Tuesday')).toBeVisible();
    await delivery.locator('summary').click();
    await expect(delivery).toContainText('x-voicy-signature');
    await expect(delivery).toContainText('thanks');
    await shot(page, testInfo, 'call-page');

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0];
    expect(got.headers['x-voicy-event']).toBe('call_ended');
    const expected = createHmac('sha256', 'e2e-signing-secret').update(got.body).digest('hex');
    expect(got.headers['x-voicy-signature']).toBe(expected);
    const body = JSON.parse(got.body.toString());
    expect(body.type).toBe('web');
    expect(body.transcript).toHaveLength(3);

    // The delivery also appears under the webhook in Settings.
    await page.goto(page.url().replace(/\/calls\/.*$/, '/settings'));
    await hydrated(page);
    await page.getByRole('button', { name: /^Webhooks/ }).click();
    await page.getByText('Recent deliveries (1)').click();
    await expect(page.locator('li.webhook li.delivery')).toContainText('200');
    await shot(page, testInfo, 'webhook-recent-deliveries');
  } finally {
    receiver.close();
  }
});

test("an owner deletes a call's data from its page, after confirming", async ({ page }, testInfo) => {
  await openSettings(page, 'Erase desk', 'eraser');
  await follow(page, page.getByRole('link', { name: 'Overview' }));
  const call = page.getByRole('form', { name: 'Test call' });
  await call.getByLabel('Turn 2 text').fill('My account number is 4417-2290.');
  await call.getByRole('button', { name: 'End call' }).click();
  await expect(page).toHaveURL(/\/agents\/[0-9a-f-]+\/calls\/[0-9a-f-]+$/);
  await hydrated(page);
  const transcript = page.getByRole('region', { name: 'Transcript' });
  await expect(transcript).toContainText('My account number is 4417-2290.', { timeout: 15_000 });

  // Asked first; Escape keeps everything and gives the button its focus back.
  await page.getByRole('button', { name: 'Delete call data…' }).click();
  const confirm = page.getByRole('group', { name: "Confirm deleting the call's data" });
  await expect(confirm.getByRole('button', { name: 'Delete for good' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: 'Delete call data…' })).toBeFocused();
  await expect(transcript).toContainText('My account number is 4417-2290.');

  await page.getByRole('button', { name: 'Delete call data…' }).click();
  await confirm.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByText(/personal data was deleted on/)).toBeVisible();
  await expect(page.locator('main')).not.toContainText('4417-2290');
  await shot(page, testInfo, 'call-data-deleted');
  // For good: a fresh load shows the same.
  await page.reload();
  await hydrated(page);
  await expect(page.getByText(/personal data was deleted on/)).toBeVisible();
  await expect(page.locator('main')).not.toContainText('4417-2290');
});
