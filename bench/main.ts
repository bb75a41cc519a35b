/**
 * `npm run bench`: ours against the naive baseline, the DynamoDB read, and the cold import of every bundle,
 * written to docs/BENCHMARKS.md. `npm run bench -- --calls 100 --turns 10`: the load test. Flags: bench/options.ts.
 * Exits 1 when a reply arrived incomplete or out of order, 2 on a usage error.
 */
import { BENCH_USAGE, BenchUsageError, readBenchFlags } from './args.ts';

const argv = process.argv.slice(2);

function usageError(err: unknown): never {
  console.error(`npm run bench: ${(err as Error).message}`);
  process.exit(2);
}

// `--help` and an unknown flag are answered before the bench and the engine it measures are loaded.
let help: boolean;
try {
  help = readBenchFlags(argv).help === true;
} catch (err) {
  usageError(err);
}
if (help) {
  console.log(BENCH_USAGE);
  process.exit(0);
}

// Before any module that builds a logger or a metrics instance at import time: the bench's terminal is for
// its tables (the engine's warnings and errors still print), and EMF lines would bury them.
process.env.LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { runBench } = await import('./run.ts');

try {
  process.exitCode = await runBench(argv, (line) => console.log(line));
} catch (err) {
  if (err instanceof BenchUsageError) usageError(err);
  console.error(err);
  process.exitCode = 1;
}
