import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Separate processes: each test file runs its own server instances against the shared redis-server.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Timing is never asserted; retries would hide real failures.
    retry: 0,
  },
});
