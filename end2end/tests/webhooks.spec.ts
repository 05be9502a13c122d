import { expect, Page, test } from '@playwright/test';
import { hydrated, openSettings, shot } from './helpers';

async function addWebhook(page: Page, name: string, url: string, secret = '', headers: [string, string][] = []) {
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const form = page.getByRole('form', { name: 'Add webhook' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('URL', { exact: true }).fill(url);
  if (secret) await form.getByLabel('Signing Secret').fill(secret);
  for (const [i, [header, value]] of headers.entries()) {
    await form.getByRole('button', { name: 'Add header' }).click();
    await form.getByLabel(`Header ${i + 1} name`).fill(header);
    await form.getByLabel(`Header ${i + 1} value`).fill(value);
  }
  await form.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByText(`Webhook “${name}” added.`)).toBeVisible();
  await expect(form).toHaveCount(0);
}

function row(page: Page, name: string) {
  return page.locator('li.webhook').filter({ has: page.getByText(name, { exact: true }) });
}

test('owners add, edit, delete and deploy webhooks from the Settings tab', async ({ page }, testInfo) => {
  const toggle = await openSettings(page, 'Support line');
  await expect(toggle).toContainText('0/5');
  await expect(page.getByText('Not deployed yet')).toBeVisible();
  await shot(page, testInfo, 'webhooks-empty');

  await addWebhook(page, 'CRM', 'https://crm.example.com/hooks/voicy', 'whsec_first', [['Authorization', 'Bearer abc123']]);
  await addWebhook(page, 'Analytics', 'https://analytics.example.com/in');
  await expect(toggle).toContainText('2/5');
  await expect(row(page, 'CRM')).toContainText('Secret set');
  await expect(row(page, 'CRM')).toContainText('Authorization');
  await expect(row(page, 'Analytics')).toContainText('No secret');
  // The deploy bar says what Deploy would change.
  const plan = page.getByRole('list', { name: 'Deploy will:' });
  await expect(plan).toContainText('Add webhook “CRM”');
  await expect(plan).toContainText('Add webhook “Analytics”');
  await shot(page, testInfo, 'webhooks-two');
  // Stored values never reach the page.
  expect(await page.content()).not.toContain('whsec_first');
  expect(await page.content()).not.toContain('Bearer abc123');

  // Edit with a blank secret: the secret is kept.
  await page.getByRole('button', { name: 'Edit CRM' }).click();
  const edit = page.getByRole('form', { name: 'Edit CRM' });
  await expect(edit.getByLabel('Name', { exact: true })).toHaveValue('CRM');
  await expect(edit.getByLabel('Signing Secret (a secret is set)')).toHaveValue('');
  await expect(edit.getByLabel('Header 1 name')).toHaveValue('Authorization');
  await expect(edit.getByLabel('Header 1 value')).toHaveValue('');
  await shot(page, testInfo, 'webhooks-editing');
  // Another host would get the kept secret and header values: the form says so, then not once
  // the host is the stored one again.
  const hostNote = edit.getByRole('status').filter({ hasText: 'a different host' });
  await edit.getByLabel('URL', { exact: true }).fill('https://elsewhere.example.net/in');
  await expect(hostNote).toContainText('stored signing secret and header values will be sent to elsewhere.example.net');
  await shot(page, testInfo, 'webhooks-host-changed');
  await edit.getByLabel('URL', { exact: true }).fill('https://crm.example.com/hooks/v2');
  await expect(hostNote).toBeHidden();
  // Add a header, remove the old one.
  await edit.getByRole('button', { name: 'Add header' }).click();
  await edit.getByLabel('Header 2 name').fill('X-Team');
  await edit.getByLabel('Header 2 value').fill('support');
  await edit.getByRole('button', { name: 'Remove header 1' }).click();
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Webhook “CRM” saved.')).toBeVisible();
  await expect(row(page, 'CRM')).toContainText('Secret set');
  await expect(row(page, 'CRM')).toContainText('https://crm.example.com/hooks/v2');
  await expect(row(page, 'CRM')).toContainText('X-Team');
  await expect(row(page, 'CRM')).not.toContainText('Authorization');

  // Delete, with a confirmation.
  await page.getByRole('button', { name: 'Delete Analytics' }).click();
  await page.getByRole('button', { name: 'Delete webhook' }).click();
  await expect(page.getByText('Webhook “Analytics” deleted.')).toBeVisible();
  await expect(toggle).toContainText('1/5');

  // Fill to five: + is disabled and says why.
  for (const n of [2, 3, 4, 5]) await addWebhook(page, `Hook ${n}`, `https://h${n}.example.com/`);
  await expect(toggle).toContainText('5/5');
  await expect(page.getByRole('button', { name: 'Add webhook' })).toBeDisabled();
  await expect(page.getByText('Limit reached: 5 of 5 webhooks.')).toBeVisible();
  await shot(page, testInfo, 'webhooks-full');

  // Deploy: the undeployed indicator goes, the version shows.
  await expect(page.getByText('Undeployed changes')).toBeVisible();
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await expect(page.getByText('Deployed version 1.')).toBeVisible();
  await expect(page.getByText('Deployed: version 1')).toBeVisible();
  await expect(page.getByText('Undeployed changes')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Deploy', exact: true })).toBeDisabled();
  await shot(page, testInfo, 'webhooks-deployed');

  // Edit again: the indicator returns.
  await page.getByRole('button', { name: 'Edit Hook 5' }).click();
  const again = page.getByRole('form', { name: 'Edit Hook 5' });
  await again.getByLabel('Name', { exact: true }).fill('Slack');
  await again.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Webhook “Slack” saved.')).toBeVisible();
  await expect(page.getByText('Undeployed changes')).toBeVisible();
  await expect(page.getByRole('list', { name: 'Deploy will:' })).toContainText('Rename webhook “Hook 5” to “Slack”.');
  await shot(page, testInfo, 'webhooks-undeployed-again');

  // The history lists version 1; restoring it undoes the rename in the draft, after a confirmation.
  const history = page.getByRole('list', { name: 'Version history' });
  await expect(history).toContainText('v1');
  await history.getByRole('button', { name: 'Restore version 1 to the draft' }).click();
  await page.getByRole('group', { name: 'Confirm restoring version 1' }).getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByText('Version 1 restored to the draft.')).toBeVisible();
  await expect(row(page, 'Hook 5')).toBeVisible();
  await expect(page.getByRole('list', { name: 'Deploy will:' })).toHaveCount(0);
  // The draft is version 1 again, so nothing waits to be deployed.
  await expect(page.getByText('Undeployed changes')).toHaveCount(0);
  await shot(page, testInfo, 'webhooks-restored');

  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, testInfo, 'webhooks-390px');
});

test('invalid input is explained beside each field and nothing is lost', async ({ page }, testInfo) => {
  await openSettings(page, 'Validation agent');
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const form = page.getByRole('form', { name: 'Add webhook' });
  await form.getByLabel('URL', { exact: true }).fill('example.com/hooks');
  await form.getByRole('button', { name: 'Add header' }).click();
  await form.getByLabel('Header 1 name').fill('Host');
  await form.getByLabel('Header 1 value').fill('evil.example');
  await form.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(form.getByText('Enter a name.')).toBeVisible();
  await expect(form.getByText(/Enter a full URL that starts with https:\/\//)).toBeVisible();
  await expect(form.getByText('Host is set by Voicy and cannot be overridden.')).toBeVisible();
  await expect(form.getByLabel('URL', { exact: true })).toHaveValue('example.com/hooks');
  await shot(page, testInfo, 'webhooks-invalid');

  await form.getByLabel('Name', { exact: true }).fill('Fixed');
  await form.getByLabel('URL', { exact: true }).fill('https://example.com/hooks');
  await form.getByLabel('Header 1 name').fill('X-Api-Key');
  await form.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByText('Webhook “Fixed” added.')).toBeVisible();
});

test('opening another form does not throw away an unsaved edit without asking', async ({ page }) => {
  await openSettings(page, 'Careful desk');
  await addWebhook(page, 'CRM', 'https://crm.example.com/hooks/voicy');
  await page.getByRole('button', { name: 'Edit CRM' }).click();
  const edit = page.getByRole('form', { name: 'Edit CRM' });
  await edit.getByLabel('URL', { exact: true }).fill('https://crm.example.com/hooks/v2');

  // Asked; "Cancel" keeps the edit, typed value and all.
  let asked = '';
  page.once('dialog', (dialog) => { asked = dialog.message(); void dialog.dismiss(); });
  await page.getByRole('button', { name: 'Add webhook' }).click();
  expect(asked).toContain('unsaved changes');
  await expect(edit.getByLabel('URL', { exact: true })).toHaveValue('https://crm.example.com/hooks/v2');
  await expect(page.getByRole('form', { name: 'Add webhook' })).toHaveCount(0);

  // "OK" discards it and opens the new form; an untouched form is left without a question.
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Add webhook' }).click();
  await expect(page.getByRole('form', { name: 'Add webhook' })).toBeVisible();
  await expect(edit).toHaveCount(0);
  page.once('dialog', () => { throw new Error('asked about a form without changes'); });
  await page.getByRole('button', { name: 'Edit CRM' }).click();
  await expect(page.getByRole('form', { name: 'Edit CRM' })).toBeVisible();
});

// A page viewed again with nothing changed is sent as it was kept (server side, with a fresh
// script nonce): it must come to life like a freshly rendered one, and a change must show.
test('a Settings page viewed again hydrates, works, and shows the latest change', async ({ page }) => {
  const refused: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) refused.push(m.text()); });
  const crashes: string[] = [];
  page.on('pageerror', (e) => crashes.push(e.message));
  await openSettings(page, 'Kept line', 'kept');
  await addWebhook(page, 'Ledger', 'https://ledger.example.com/in');

  for (let view = 0; view < 3; view++) {
    await page.reload();
    await hydrated(page);
    const toggle = page.getByRole('button', { name: /^Webhooks/ });
    await expect(toggle).toContainText('1/5');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await expect(row(page, 'Ledger')).toContainText('https://ledger.example.com/in');
  }

  await page.getByRole('button', { name: 'Edit Ledger' }).click();
  const edit = page.getByRole('form', { name: 'Edit Ledger' });
  await edit.getByLabel('URL', { exact: true }).fill('https://ledger.example.com/v2');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Webhook “Ledger” saved.')).toBeVisible();
  await page.reload();
  await hydrated(page);
  await page.getByRole('button', { name: /^Webhooks/ }).click();
  await expect(row(page, 'Ledger')).toContainText('https://ledger.example.com/v2');
  expect(refused, 'no script refused by the page\'s policy').toEqual([]);
  expect(crashes).toEqual([]);
});
