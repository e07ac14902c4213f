import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Emulator and fake-server suites own ports and child processes; files run in parallel
    // but each keeps its own servers, so no shared state crosses files.
    pool: 'forks',
  },
});
