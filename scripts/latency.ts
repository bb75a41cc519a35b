import { parseOptions, USAGE, UsageError } from './latency/cli-options.ts';

/**
 * `npm run latency`: per-phase p50/p95/max of stored turn records, per use case, for the last N calls or one call;
 * `--html` adds a page with a per-turn waterfall. Reads the local runtime's table, or the deployed one with --aws.
 * `npm run latency -- --help` lists the options.
 */
const argv = process.argv.slice(2);
// `--help` and a bad option are answered before the report and its table readers (the AWS SDK) are loaded; the
// same checks as runLatency's, which runs them again.
try {
  if (parseOptions(argv).help) {
    console.log(USAGE);
    process.exit(0);
  }
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`${err.message}\n\n${USAGE}`);
  process.exit(2);
}
// Lambda runs Node 22; on a development machine's Node 20 the SDK's upgrade notice would bury the report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runLatency } = await import('./latency/main.ts');
process.exitCode = await runLatency(argv, {
  env: process.env,
  cwd: process.cwd(),
  out: (text) => console.log(text),
  err: (text) => console.error(text),
});
