// Prints the tests that failed or needed a retry, with their first error lines, from the JSON
// report of the last run. `make e2e` calls it last, so a CI log cut to its tail still names them.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? 'test-results/report.json', 'utf8'));
const lines = [];
const walk = (suite, path) => {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests) {
      const failed = test.results.filter((r) => r.status !== 'passed' && r.status !== 'skipped');
      if (failed.length === 0) continue;
      const verdict = test.status === 'flaky' ? 'FLAKY (passed on retry)' : 'FAILED';
      lines.push(`${verdict}: ${[...path, spec.title].join(' › ')} (${spec.file}:${spec.line})`);
      const first = failed[0];
      const message = (first.error?.message ?? first.status).replace(/\u001b\[[0-9;]*m/g, '');
      lines.push(`    failed ${failed.length} of ${test.results.length} runs; the first one's error:`);
      lines.push(...message.split('\n').slice(0, 8).map((l) => `    ${l}`));
      const at = first.error?.location;
      if (at) lines.push(`    at ${at.file.replace(/.*\/end2end\//, '')}:${at.line}`);
    }
  }
  for (const child of suite.suites ?? []) walk(child, suite.title ? [...path, suite.title] : path);
};
for (const suite of report.suites ?? []) walk(suite, []);
console.log(lines.length ? lines.join('\n') : 'every test passed on its first run');
