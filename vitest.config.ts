import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', '0*/**/*.test.ts', 'layers/**/*.test.ts', 'dev/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    reporters: ['default', './tests/support/summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores in CI: files in parallel, but not so many that timing-sensitive streaming tests starve.
    maxWorkers: 2,
    env: {
      // Tests assert behaviour, not log lines: keep the output readable. LOG_LEVEL=DEBUG npm test shows everything.
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      // Lambda runs Node 22; the SDK's notice about this machine's Node 20 is noise here.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
