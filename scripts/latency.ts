import { runLatency } from './latency/main.ts';

/**
 * `npm run latency`: per-phase p50/p95/max of stored turn records, per use case, for the last N calls or one call;
 * `--html` adds a page with a per-turn waterfall. Reads the local runtime's table, or the deployed one with --aws.
 * `npm run latency -- --help` lists the options.
 */
// Lambda runs Node 22; on a development machine's Node 20 the SDK's upgrade notice would bury the report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await runLatency(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (text) => console.log(text),
  err: (text) => console.error(text),
});
