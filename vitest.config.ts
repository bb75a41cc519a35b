import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', '0*/**/*.test.ts', 'layers/**/*.test.ts', 'dev/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores in CI: files in parallel, but not so many that timing-sensitive streaming tests starve.
    maxWorkers: 2,
  },
});
