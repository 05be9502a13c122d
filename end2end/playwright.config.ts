import { defineConfig } from '@playwright/test';

// The server is started by `make test` (a fresh temporary database, a free port) and its URL
// handed over in BASE_URL. Playwright never downloads a browser: it drives Debian's Chromium.
const baseURL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  workers: 1,
  forbidOnly: true,
  // One retry, so that a test that fails once on a loaded machine does not hide the rest; a test
  // that needed it is reported as flaky by name at the end of `make e2e` (failures.mjs).
  retries: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'test-results/report.json' }]],
  globalSetup: './global-setup.ts',
  use: {
    baseURL,
    trace: 'retain-on-first-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'hydrated', testIgnore: /\.nojs\.spec\.ts$/ },
    { name: 'no-javascript', testMatch: /\.nojs\.spec\.ts$/, use: { javaScriptEnabled: false } },
  ],
});
