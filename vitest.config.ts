import { defineConfig } from 'vitest/config';

/**
 * Four projects, run one after the other by `npm test` (sequence.groupOrder), so each has both cores to itself:
 * - unit: the deterministic engine tier (in-memory store, scripted LLM, manual clock) and pure functions. No
 *   socket, server, child process or table; milliseconds per test.
 * - wire: everything over real sockets and local DynamoDB (gateway, runtime, handlers, LLM server, data layer,
 *   the Store contract...). A new test file lands here unless it is listed under unit or lives in tests/deploy.
 * - wire-env: the wire files that configure a handler entry point through process.env, each with its own graph of
 *   our modules (see WIRE_OWN_ENV).
 * - deploy: templates, bundles and IAM (cfn-lint, esbuild, SAM's role); CPU-heavy, so it does not run alongside
 *   the tests above.
 * `npx vitest run --project unit` runs one of them.
 */
const UNIT = [
  'tests/engine/tier/**/*.test.ts',
  'tests/**/*.tier.test.ts',
  'tests/engine/heard.test.ts',
  'tests/engine/ledger-decide.test.ts',
  'tests/engine/protocol.test.ts',
  'tests/protocol/mini-messages.test.ts',
  'tests/engine/setup-warms-directory.test.ts',
  'tests/engine/tool-arguments.test.ts',
  'tests/cost/call-cost.test.ts',
  'tests/cost/latency-cost.test.ts',
  'tests/evals/eval-files.test.ts',
  'tests/latency/percentiles.test.ts',
  'tests/latency/phases.test.ts',
  'tests/llm/offline-scripts.test.ts',
  'tests/observability/turn-metrics.test.ts',
  'tests/security/webhook.test.ts',
  'tests/tools/define-tool.test.ts',
  'tests/tools/in-process-invoker.test.ts',
  'tests/twiml/render.test.ts',
  'tests/twiml/relay-attributes.test.ts',
  'tests/use-cases/authoring-docs.test.ts',
  'layers/runtime/lazy.test.ts',
];
const DEPLOY = ['tests/deploy/**/*.test.ts'];
/**
 * Wire tests that set process.env and then import a handler entry point: the entry points build their AWS deps
 * once per module graph from the environment (as a Lambda container does), so each of these files needs a graph
 * of our modules of its own (tests/support/fresh-modules.ts resets it before each file; the packages stay loaded
 * in the worker, which a process per file paid for again each time). Every other wire file shares one graph per
 * worker, which halves the project's CPU (its imports were most of it).
 */
const WIRE_OWN_ENV = [
  'tests/continuity/disconnect-entry-point.test.ts',
  'tests/evals/target.test.ts',
  'tests/messaging/send-message.test.ts',
  'tests/observability/continuation-failures.test.ts',
  'tests/observability/error-metrics.test.ts',
  'tests/observability/handler-logs.test.ts',
  'tests/runtime/warm-transfer.test.ts',
  'tests/tools/lambda-handler.test.ts',
  'tests/twiml/agent-sms.test.ts',
  'tests/twiml/aws-handlers.test.ts',
];
const ALL = ['tests/**/*.test.ts', '0*/**/*.test.ts', 'layers/**/*.test.ts', 'dev/**/*.test.ts'];

/** What every project runs with. Not through `extends`: that would also hand each project the global setup. */
const shared = {
  // Limits that catch a hang, not speed checks: beside other CPU-heavy work a healthy wire test has taken 16 s.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  // How long `expect.poll` waits for something that must happen (a row landing in the table...): vitest's 1 s
  // default failed on a busy machine while the test was still right.
  expect: { poll: { timeout: 15_000 } },
  env: {
    // Tests assert behaviour, not log lines: keep the output readable. LOG_LEVEL=DEBUG npm test shows everything.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    // Lambda runs Node 22; the SDK's notice about this machine's Node 20 is noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  },
};

export default defineConfig({
  test: {
    // Once, at the root: one DynamoDB server per backend for the whole run, its endpoints provided to every project.
    globalSetup: ['tests/support/global-setup.ts'],
    // Transformed modules kept on disk between runs (keyed by content): a rerun skips most of the TypeScript work.
    experimental: { fsModuleCache: true },
    reporters: ['default', './tests/support/summary-reporter.ts'],
    // Two cores in CI; the projects run one after the other, each with both.
    maxWorkers: 2,
    projects: [
      // No socket, table, env or module state to leak between files: one module graph per worker instead of one
      // per file halves the project's CPU (the imports were most of it).
      { test: { ...shared, name: 'unit', include: UNIT, testTimeout: 30_000, isolate: false, sequence: { groupOrder: 0 } } },
      // Its global setup bundles every npm command's entry point once, for the tests that start one as a process.
      {
        test: {
          ...shared,
          name: 'wire',
          include: ALL,
          exclude: [...UNIT, ...DEPLOY, ...WIRE_OWN_ENV],
          isolate: false,
          globalSetup: ['tests/support/entry-bundles-setup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      { test: { ...shared, name: 'wire-env', include: WIRE_OWN_ENV, isolate: false, setupFiles: ['tests/support/fresh-modules.ts'], sequence: { groupOrder: 2 } } },
      // Bundling and SAM's stand-in runs take seconds each; the limit only catches a hang.
      // Its global setup bundles, analyses and translates once per run what several files read. Worker threads:
      // its files set no process state (their commands get their environment passed in), and a thread per file
      // costs less than a process per file.
      {
        test: { ...shared, name: 'deploy', include: DEPLOY, pool: 'threads', globalSetup: ['tests/deploy/global-setup.ts'], testTimeout: 60_000, sequence: { groupOrder: 3 } },
      },
    ],
  },
});
