import { parseArgs } from 'node:util';

/**
 * `npm run bench`'s command line as typed, apart from its checks (options.ts, zod) and what it runs: the entry point
 * answers `--help` and an unknown option from here before it loads the bench.
 */
export const BENCH_USAGE = `Usage: npm run bench -- [options]
  (default)               ours against the naive baseline, side by side, plus the DynamoDB read and cold imports
  --calls N --turns T     the load test: N simultaneous calls of T turns each against the whole local runtime
  --post-latencies LIST   design mode: simulated post latencies in ms (default 0,10,25,50)
  --post-latency MS       load and counts modes: the simulated post latency (default 10; 25 with --counts)
  --think-ms MS           load mode: each caller's pause after a reply (default 250; 0 = at once)
  --interrupts P          load mode: percent of turns cut off by an interrupt (default 30)
  --supersedes P          load mode: percent of turns cut off by a newer prompt (default 10)
  --seed N                load mode: which turns are cut off (default 1)
  --tokens LIST           reply lengths in tokens (default 20,120; one number with --calls or --counts)
  --first-token-ms MS     the LLM stand-in's time to first token (default 200)
  --token-gap-ms MS       its gap between tokens (default 10)
  --counts [--turns T]    requests per call and per turn, written to bench/turn-counts.json (npm run scaling)
  --import-runs N         cold imports per bundle (default 5); --skip-imports skips them
  --imports-only          only the cold imports of every bundle, beside the baseline commit's, and the hot
                          bundles taken apart (CPU profiles, each large piece's cost)
  --baseline REF          git ref whose bundles are timed beside the current ones (default: bench/cold-start-baseline.json's)
  --write-baseline        record this run's cold imports (and HEAD) as bench/cold-start-baseline.json
  --read-samples N        DynamoDB reads measured (default 200)
  --preempt-only          only the preemption comparison (with and without, final equal or different)
  --preempt-turns N       utterances per preemption scenario (default 10; 0 skips it in the design mode)
  --preempt-first-token-ms MS  the LLM's time to first token in that comparison (default 300)
  --write-docs            also rewrite this mode's section of docs/BENCHMARKS.md (--doc FILE: another file)
  -h, --help              show this help`;

export class BenchUsageError extends Error {}

/** The flags as given, unchecked; an unknown flag or a missing value is a BenchUsageError. */
export function readBenchFlags(argv: string[]): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      options: {
        calls: { type: 'string' },
        turns: { type: 'string' },
        'post-latencies': { type: 'string' },
        'post-latency': { type: 'string' },
        tokens: { type: 'string' },
        'first-token-ms': { type: 'string' },
        'think-ms': { type: 'string' },
        interrupts: { type: 'string' },
        supersedes: { type: 'string' },
        seed: { type: 'string' },
        'token-gap-ms': { type: 'string' },
        'import-runs': { type: 'string' },
        'read-samples': { type: 'string' },
        'preempt-turns': { type: 'string' },
        'preempt-first-token-ms': { type: 'string' },
        'skip-imports': { type: 'boolean' },
        'imports-only': { type: 'boolean' },
        counts: { type: 'boolean' },
        baseline: { type: 'string' },
        'write-baseline': { type: 'boolean' },
        'preempt-only': { type: 'boolean' },
        'write-docs': { type: 'boolean' },
        doc: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new BenchUsageError((err as Error).message);
  }
}
