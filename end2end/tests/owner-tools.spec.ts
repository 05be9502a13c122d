import { expect, test } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { follow, hydrated, openSettings, Received, shot, startReceiver } from './helpers';

/** Verifies a request as a receiver would: with the published Standard Webhooks library (it
 * throws on a bad signature or a stale timestamp), and the doc's x-voicy-signature by hand. */
function verify(secret: string, got: Received) {
  const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
  const payload = new Webhook(secret).verify(got.body.toString(), headers) as Record<string, unknown>;
  expect(got.headers['x-voicy-signature']).toBe(createHmac('sha256', secret).update(got.body).digest('hex'));
  return payload;
}

test('a generated secret signs the Standard Webhooks way; test sends, health and redelivery', async ({ page }, testInfo) => {
  const receiver = await startReceiver('{"received":true}', 'application/json');
  try {
    await openSettings(page, 'Front desk', 'tools');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const form = page.getByRole('form', { name: 'Add webhook' });
    await form.getByLabel('Name', { exact: true }).fill('Receiver');
    await form.getByLabel('URL', { exact: true }).fill(receiver.url);

    // The option without a whsec_ secret is explained, and nothing typed is lost.
    await form.getByLabel('Signing Secret').fill('not-a-standard-secret');
    await form.getByLabel('Standard Webhooks signatures').check();
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(form.getByText(/need a signing secret of the form whsec_/)).toBeVisible();
    await expect(form.getByLabel('Name', { exact: true })).toHaveValue('Receiver');

    await form.getByRole('button', { name: 'Generate secret' }).click();
    await expect(form.getByText(/Copy it now/)).toBeVisible();
    // Shown and selected, ready to copy with one keystroke.
    const field = form.getByLabel('Signing Secret');
    await expect(field).toBeFocused();
    await expect(field).toHaveAttribute('type', 'text');
    expect(await field.evaluate((el: HTMLInputElement) => el.selectionEnd! - el.selectionStart!)).toBe((await field.inputValue()).length);
    const secret = await form.getByLabel('Signing Secret').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await shot(page, testInfo, 'tools-generated-secret');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(page.getByText('Webhook “Receiver” added.')).toBeVisible();
    const row = page.locator('li.webhook').filter({ hasText: 'Receiver' });
    await expect(row).toContainText('Standard Webhooks');
    await expect(row.getByRole('group', { name: 'Health of Receiver' })).toContainText('No deliveries yet');
    expect(await page.content()).not.toContain(secret);

    // Send test: this webhook only, the result inline; the library verifies it.
    await row.getByRole('button', { name: 'Send test to Receiver' }).click();
    await expect(row.getByRole('status')).toContainText(/Delivered: 200 in \d+ ms/);
    await expect(row.getByRole('status')).toContainText('{"received":true}');
    await expect(row.getByRole('group', { name: 'Health of Receiver' })).toContainText('Healthy');
    await expect(row.getByRole('group', { name: 'Health of Receiver' })).toContainText('100% of the last 1 succeeded');
    await expect(row.getByText('Recent deliveries (1)')).toBeVisible();
    await shot(page, testInfo, 'tools-test-sent');
    expect(receiver.received).toHaveLength(1);
    const sample = verify(secret, receiver.received[0]);
    expect(sample.metadata).toEqual({ test: true });

    // A test call, then its delivery redelivered from the call's page.
    await follow(page, page.getByRole('link', { name: 'Overview' }));
    const call = page.getByRole('form', { name: 'Test call' });
    await call.getByLabel('Turn 2 text').fill('Please book me in for Tuesday.');
    await call.getByRole('button', { name: 'End call' }).click();
    await expect(page).toHaveURL(/\/calls\/[0-9a-f-]+$/);
    await hydrated(page);
    await expect(page.getByText('Sent to 1 webhook: 1 of 1 delivered.')).toBeVisible({ timeout: 15_000 });
    await page.getByRole('button', { name: /^Redeliver the delivery to Receiver/ }).click();
    await expect(page.getByText(/Redelivered to “Receiver”\. Delivered: 200/)).toBeVisible();
    await expect(page.locator('li.delivery')).toHaveCount(2);
    await expect(page.locator('li.delivery').nth(1)).toContainText('redelivery');
    await shot(page, testInfo, 'tools-redelivered');

    expect(receiver.received).toHaveLength(3);
    const [event, again] = [receiver.received[1], receiver.received[2]];
    verify(secret, event);
    verify(secret, again);
    expect(again.body.equals(event.body)).toBe(true);
    expect(again.headers['webhook-id']).toBe(event.headers['webhook-id']);

    // The Overview sums up every webhook's health.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Front desk' }).click();
    const health = page.getByRole('group', { name: 'Health of Receiver' });
    await expect(health).toContainText('100% of the last 3 succeeded');
    await shot(page, testInfo, 'tools-overview-health');
  } finally {
    receiver.close();
  }
});
