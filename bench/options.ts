import { z } from 'zod';
import { BENCH_USAGE, BenchUsageError, readBenchFlags } from './args.ts';

export { BENCH_USAGE, BenchUsageError };

/**
 * `npm run bench -- [flags]`. Three modes:
 * - design (default): ours against the naive baseline over post latencies and reply lengths, plus one DynamoDB
 *   read and the cold import of every bundle beside a baseline commit's (--imports-only: the cold imports alone);
 * - load (`--calls N`): N simultaneous calls of --turns turns each against the whole local runtime; --interrupts
 *   and --supersedes (percent of all turns, default 30 and 10) are cut off by an `interrupt` or a newer `prompt`,
 *   --think-ms (default 250; 0 = the next prompt right after `last: true`) paces each caller, --seed picks which;
 * - preemption only (`--preempt-only`): the preemption comparison the design mode also runs, in its own section;
 * - counts (`--counts`): requests per call and per turn on the real handlers, written to bench/turn-counts.json.
 * Results print to the terminal; docs/BENCHMARKS.md (tracked) is rewritten only with --write-docs.
 */

const list = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'a comma-separated list of whole numbers')
  .transform((s) => s.split(',').map(Number));
const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const FlagsSchema = z.object({
  calls: whole(1, 1_000).optional(),
  turns: whole(1, 1_000).optional(),
  'post-latencies': list.optional(),
  'post-latency': whole(0, 10_000).optional(),
  tokens: list.optional(),
  'first-token-ms': whole(0, 60_000).default(200),
  'think-ms': whole(0, 60_000).optional(),
  interrupts: whole(0, 100).optional(),
  supersedes: whole(0, 100).optional(),
  seed: whole(0, 2 ** 31).optional(),
  'token-gap-ms': whole(0, 10_000).default(10),
  'import-runs': whole(1, 100).default(5),
  'read-samples': whole(1, 10_000).default(200),
  'preempt-turns': whole(0, 1_000).default(10),
  'preempt-first-token-ms': whole(0, 60_000).default(300),
  'skip-imports': z.boolean().default(false),
  'imports-only': z.boolean().default(false),
  counts: z.boolean().default(false),
  baseline: z.string().min(1).optional(),
  'write-baseline': z.boolean().default(false),
  'preempt-only': z.boolean().default(false),
  'write-docs': z.boolean().default(false),
  doc: z.string().min(1).optional(),
  help: z.boolean().default(false),
});

export type BenchOptions =
  | { mode: 'help' }
  | {
      mode: 'design';
      postLatenciesMs: number[];
      replyTokens: number[];
      turns: number;
      firstTokenMs: number;
      tokenGapMs: number;
      importRuns: number;
      readSamples: number;
      preemptTurns: number;
      preemptFirstTokenMs: number;
      skipImports: boolean;
      /** Only the cold imports (no design runs); their section of the document only with --write-docs. */
      importsOnly: boolean;
      /** Git ref built and timed beside the current bundles; undefined: the committed baseline's commit. */
      baseline: string | undefined;
      /** Record this run's figures (and HEAD) as the committed baseline. */
      writeBaseline: boolean;
      doc: string | undefined;
    }
  | {
      mode: 'preempt';
      turns: number;
      firstTokenMs: number;
      tokenGapMs: number;
      doc: string | undefined;
    }
  | {
      /** Requests per call and per turn (bench/turn-counts.json), the input of docs/SCALING.md. */
      mode: 'counts';
      turns: number;
      tokens: number;
      postLatencyMs: number;
      firstTokenMs: number;
      tokenGapMs: number;
    }
  | {
      mode: 'load';
      calls: number;
      turns: number;
      tokens: number;
      postLatencyMs: number;
      firstTokenMs: number;
      tokenGapMs: number;
      thinkMs: number;
      /** Shares of all turns, 0..1. */
      interruptShare: number;
      supersedeShare: number;
      seed: number;
      doc: string | undefined;
    };

export const DESIGN_DEFAULTS = { postLatenciesMs: [0, 10, 25, 50], replyTokens: [20, 120], turns: 6 };
export const LOAD_DEFAULTS = { turns: 10, tokens: 40, postLatencyMs: 10, thinkMs: 250, interruptPercent: 30, supersedePercent: 10, seed: 1 };
// A reply of about 40 tokens (two spoken sentences) with PostToConnection at 25 ms, about what it takes in a region.
export const COUNTS_DEFAULTS = { turns: 10, tokens: 40, postLatencyMs: 25 };

export function parseBenchArgs(argv: string[]): BenchOptions {
  const values = readBenchFlags(argv);
  const parsed = FlagsSchema.safeParse(values);
  if (!parsed.success) throw new BenchUsageError(z.prettifyError(parsed.error));
  const f = parsed.data;
  if (f.help) return { mode: 'help' };
  // The tracked document changes only when asked: a run to try something out must not rewrite it.
  const doc = f['write-docs'] || f.doc ? (f.doc ?? 'docs/BENCHMARKS.md') : undefined;
  if (f.counts) {
    if (f.calls !== undefined) throw new BenchUsageError('--counts and --calls exclude each other');
    if (f.tokens && f.tokens.length !== 1) throw new BenchUsageError('--tokens takes one number with --counts');
    return {
      mode: 'counts',
      turns: f.turns ?? COUNTS_DEFAULTS.turns,
      tokens: f.tokens?.[0] ?? COUNTS_DEFAULTS.tokens,
      postLatencyMs: f['post-latency'] ?? COUNTS_DEFAULTS.postLatencyMs,
      firstTokenMs: f['first-token-ms'],
      tokenGapMs: f['token-gap-ms'],
    };
  }
  if (f.calls !== undefined) {
    if (f.tokens && f.tokens.length !== 1) throw new BenchUsageError('--tokens takes one number with --calls');
    const interrupts = f.interrupts ?? LOAD_DEFAULTS.interruptPercent;
    const supersedes = f.supersedes ?? LOAD_DEFAULTS.supersedePercent;
    if (interrupts + supersedes > 100) throw new BenchUsageError('--interrupts and --supersedes are shares of all turns: together at most 100');
    const tokens = f.tokens?.[0] ?? LOAD_DEFAULTS.tokens;
    if (interrupts + supersedes > 0 && tokens < 4) throw new BenchUsageError('--tokens: a reply that is cut off needs at least 4 tokens');
    return {
      mode: 'load',
      calls: f.calls,
      turns: f.turns ?? LOAD_DEFAULTS.turns,
      tokens,
      postLatencyMs: f['post-latency'] ?? LOAD_DEFAULTS.postLatencyMs,
      firstTokenMs: f['first-token-ms'],
      tokenGapMs: f['token-gap-ms'],
      thinkMs: f['think-ms'] ?? LOAD_DEFAULTS.thinkMs,
      interruptShare: interrupts / 100,
      supersedeShare: supersedes / 100,
      seed: f.seed ?? LOAD_DEFAULTS.seed,
      doc,
    };
  }
  for (const flag of ['think-ms', 'interrupts', 'supersedes', 'seed'] as const) {
    if (f[flag] !== undefined) throw new BenchUsageError(`--${flag} belongs to the load mode (--calls N)`);
  }
  if (f['preempt-only']) {
    return { mode: 'preempt', turns: f['preempt-turns'], firstTokenMs: f['preempt-first-token-ms'], tokenGapMs: f['token-gap-ms'], doc };
  }
  if (f.tokens?.some((t) => t < 2)) throw new BenchUsageError('--tokens: a reply needs at least 2 tokens');
  return {
    mode: 'design',
    postLatenciesMs: f['post-latencies'] ?? DESIGN_DEFAULTS.postLatenciesMs,
    replyTokens: [...new Set(f.tokens ?? DESIGN_DEFAULTS.replyTokens)].sort((a, b) => a - b),
    turns: f.turns ?? DESIGN_DEFAULTS.turns,
    firstTokenMs: f['first-token-ms'],
    tokenGapMs: f['token-gap-ms'],
    importRuns: f['import-runs'],
    readSamples: f['read-samples'],
    preemptTurns: f['preempt-turns'],
    preemptFirstTokenMs: f['preempt-first-token-ms'],
    skipImports: f['skip-imports'],
    importsOnly: f['imports-only'],
    baseline: f.baseline,
    writeBaseline: f['write-baseline'],
    doc,
  };
}

/** The command that reproduces a run, for the document. */
export function commandFor(argv: string[]): string {
  return argv.length ? `npm run bench -- ${argv.join(' ')}` : 'npm run bench';
}
