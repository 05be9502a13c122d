import { defineConfig } from '@playwright/test';

// The server is started by `make test` (a fresh temporary database, a free port) and its URL
// handed over in BASE_URL. Playwright never downloads a browser: it drives Debian's Chromium.
const baseURL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  workers: 1,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  globalSetup: './global-setup.ts',
  use: {
    baseURL,
    trace: 'retain-on-failure',
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
