import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the fault tests (workers killed, PostgreSQL restarted, a misbehaving
// SMTP relay, IMAP connections dropped). Slow and heavy: one file at a time, long timeouts.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.faults.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
