import { expect, test } from '@playwright/test';
import { hydrated, shot } from './helpers';

test('the API reference renders from the OpenAPI document, with nothing loaded from elsewhere', async ({ page, baseURL }, testInfo) => {
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(baseURL!)) elsewhere.push(request.url());
  });
  await page.goto('/docs/api');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Voicy Webhooks API', level: 1 })).toBeVisible();
  const test_send = page.getByRole('article', { name: 'POST /agents/{agent_id}/webhooks/{webhook_id}/test' });
  await expect(test_send).toContainText('Sends a test event to one webhook. One call_ended request with a sample call ("metadata":{"test":true}) to this draft webhook only');
  await expect(test_send.getByRole('list', { name: /^Responses of/ })).toContainText('201');
  await expect(page.getByRole('table', { name: 'Fields of DeliveryView' })).toContainText('redelivery_of');
  await page.getByRole('navigation', { name: 'Contents' }).getByRole('link', { name: 'verify a webhook' }).click();
  await expect(page.getByRole('heading', { name: 'Verify a webhook' })).toBeInViewport();
  await expect(page.getByText("import { Webhook } from 'standardwebhooks';")).toBeVisible();
  await shot(page, testInfo, 'reference-verify');
  await page.goto('/docs/api');
  await shot(page, testInfo, 'reference');
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shot(page, testInfo, 'reference-390px');
  expect(elsewhere).toEqual([]);
});
