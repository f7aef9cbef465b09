import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at once: most suites wait on servers and child processes; vitest ran one at a time
    // here by default (two 5 s sleeping files: 12.0 s, 6.7 s with two workers).
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
