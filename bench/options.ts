import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * `npm run bench -- [flags]`. Two modes:
 * - design (default): ours against the naive baseline over post latencies and reply lengths, plus one DynamoDB
 *   read and the cold import of every bundle; writes docs/BENCHMARKS.md unless --no-doc;
 * - load (`--calls N`): N simultaneous calls of --turns turns each against the whole local runtime.
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
  'token-gap-ms': whole(0, 10_000).default(10),
  'import-runs': whole(1, 100).default(5),
  'read-samples': whole(1, 10_000).default(200),
  'skip-imports': z.boolean().default(false),
  'imports-only': z.boolean().default(false),
  counts: z.boolean().default(false),
  baseline: z.string().min(1).optional(),
  'write-baseline': z.boolean().default(false),
  'no-doc': z.boolean().default(false),
  doc: z.string().min(1).default('docs/BENCHMARKS.md'),
});

export type BenchOptions =
  | {
      mode: 'design';
      postLatenciesMs: number[];
      replyTokens: number[];
      turns: number;
      firstTokenMs: number;
      tokenGapMs: number;
      importRuns: number;
      readSamples: number;
      skipImports: boolean;
      /** Only the cold imports (no design runs, no document). */
      importsOnly: boolean;
      /** Git ref built and timed beside the current bundles; undefined: the committed baseline's commit. */
      baseline: string | undefined;
      /** Record this run's figures (and HEAD) as the committed baseline. */
      writeBaseline: boolean;
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
      doc: string | undefined;
    };

export const DESIGN_DEFAULTS = { postLatenciesMs: [0, 10, 25, 50], replyTokens: [20, 120], turns: 6 };
export const LOAD_DEFAULTS = { turns: 10, tokens: 40, postLatencyMs: 10 };
// A reply of about 40 tokens (two spoken sentences) with PostToConnection at 25 ms, about what it takes in a region.
export const COUNTS_DEFAULTS = { turns: 10, tokens: 40, postLatencyMs: 25 };

export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: string[]): BenchOptions {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        calls: { type: 'string' },
        turns: { type: 'string' },
        'post-latencies': { type: 'string' },
        'post-latency': { type: 'string' },
        tokens: { type: 'string' },
        'first-token-ms': { type: 'string' },
        'token-gap-ms': { type: 'string' },
        'import-runs': { type: 'string' },
        'read-samples': { type: 'string' },
        'skip-imports': { type: 'boolean' },
        'imports-only': { type: 'boolean' },
        counts: { type: 'boolean' },
        baseline: { type: 'string' },
        'write-baseline': { type: 'boolean' },
        'no-doc': { type: 'boolean' },
        doc: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new BenchUsageError((err as Error).message);
  }
  const parsed = FlagsSchema.safeParse(values);
  if (!parsed.success) throw new BenchUsageError(z.prettifyError(parsed.error));
  const f = parsed.data;
  const doc = f['no-doc'] ? undefined : f.doc;
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
    return {
      mode: 'load',
      calls: f.calls,
      turns: f.turns ?? LOAD_DEFAULTS.turns,
      tokens: f.tokens?.[0] ?? LOAD_DEFAULTS.tokens,
      postLatencyMs: f['post-latency'] ?? LOAD_DEFAULTS.postLatencyMs,
      firstTokenMs: f['first-token-ms'],
      tokenGapMs: f['token-gap-ms'],
      doc,
    };
  }
  if (f['imports-only'] && f['skip-imports']) throw new BenchUsageError('--imports-only and --skip-imports exclude each other');
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
