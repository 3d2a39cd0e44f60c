import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: a safety net against a hang, not a timing assertion (CLI tests start PGlite in
    // child processes, which is slow on a busy two-core machine).
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Each file opens its own databases; two cores, so two files at a time.
    maxWorkers: 2,
    // After the usual summary, one line naming the suites not run for want of a server
    // (PostgreSQL, Dovecot, Chromium) and how to get each; see test/helpers/servers.ts.
    reporters: ['default', './test/helpers/servers-reporter.ts'],
  },
});
