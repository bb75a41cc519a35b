import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { TurnCountsResult } from '../bench/turn-counts.ts';
import { DEFAULT_ASSUMPTIONS, loadModel, renderLoadModel, type Assumptions } from './lib/load-model.ts';

/**
 * `npm run scaling [-- --calls 1000,10000 --turn-interval 10 ...]`: the load model of docs/SCALING.md from the
 * counts `npm run bench -- --counts` wrote to bench/turn-counts.json. Prints it; docs/SCALING.md (tracked) has its
 * generated section rewritten only with --write-docs.
 */
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const Phase = z.object({ invocations: z.number().min(0), reads: z.number().min(0), writes: z.number().min(0), posts: z.number().min(0), commands: z.record(z.string(), z.number()) });
const CountsSchema = z.object({
  measuredAt: z.string(),
  settings: z.object({ turns: z.number(), tokens: z.number(), firstTokenMs: z.number(), tokenGapMs: z.number(), postLatencyMs: z.number() }),
  callStart: Phase,
  callSetupWrites: z.number().min(0),
  turn: Phase.extend({ lambdaMs: z.number().positive(), replyMs: z.number().min(0) }),
  callEnd: Phase,
});

export const SCALING_USAGE = `Usage: npm run scaling -- [options]
  (default)                   the load model from bench/turn-counts.json (npm run bench -- --counts), printed
  --calls LIST                simultaneous calls to model (default 1000,10000)
  --call-seconds S            length of a call (default ${DEFAULT_ASSUMPTIONS.callSeconds})
  --turn-interval S           seconds between a caller's turns (default ${DEFAULT_ASSUMPTIONS.turnIntervalSeconds})
  --llm-first-token-ms MS     the LLM's time to first token (default ${DEFAULT_ASSUMPTIONS.llmFirstTokenMs})
  --llm-tokens-per-second N   the LLM's output rate (default ${DEFAULT_ASSUMPTIONS.llmTokensPerSecond})
  --reply-tokens N            tokens per reply (default ${DEFAULT_ASSUMPTIONS.replyTokens})
  --counts FILE               the counts to read (default bench/turn-counts.json)
  --write-docs                also rewrite the generated section of docs/SCALING.md
  -h, --help                  show this help`;

const positive = z.coerce.number().positive();
const FlagsSchema = z.object({
  calls: z.string().regex(/^\d+(,\d+)*$/, 'a comma-separated list of call counts').default('1000,10000'),
  'call-seconds': positive.optional(),
  'turn-interval': positive.optional(),
  'llm-first-token-ms': positive.optional(),
  'llm-tokens-per-second': positive.optional(),
  'reply-tokens': positive.optional(),
  'write-docs': z.boolean().default(false),
  counts: z.string().default('bench/turn-counts.json'),
  help: z.boolean().default(false),
});
const BOOLEAN_FLAGS = new Set(['write-docs', 'help']);

export async function runScaling(argv: string[]): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(Object.keys(FlagsSchema.shape).map((k) => [k, { type: BOOLEAN_FLAGS.has(k) ? 'boolean' : 'string' }])),
      help: { type: 'boolean', short: 'h' },
    } as never,
  });
  const flags = FlagsSchema.safeParse(values);
  if (!flags.success) throw new Error(z.prettifyError(flags.error));
  const f = flags.data;
  if (f.help) return SCALING_USAGE;
  const path = resolve(ROOT, f.counts);
  const parsed = CountsSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${f.counts}: ${z.prettifyError(parsed.error)} (measure again: npm run bench -- --counts)`);
  const counts = parsed.data as TurnCountsResult;
  const a: Assumptions = {
    ...DEFAULT_ASSUMPTIONS,
    ...(f['call-seconds'] ? { callSeconds: f['call-seconds'] } : {}),
    ...(f['turn-interval'] ? { turnIntervalSeconds: f['turn-interval'] } : {}),
    ...(f['llm-first-token-ms'] ? { llmFirstTokenMs: f['llm-first-token-ms'] } : {}),
    ...(f['llm-tokens-per-second'] ? { llmTokensPerSecond: f['llm-tokens-per-second'] } : {}),
    ...(f['reply-tokens'] ? { replyTokens: f['reply-tokens'] } : {}),
  };
  const models = f.calls.split(',').map((c) => loadModel(counts, Number(c), a));
  const text = renderLoadModel(counts, models, a);
  // The tracked document changes only when asked: a run to try other assumptions must not rewrite it.
  if (f['write-docs']) {
    // Only here: the bench's report module brings the bundle tooling (esbuild) with it, which the model never needs.
    const { writeDocSection } = await import('../bench/report.ts');
    await writeDocSection(resolve(ROOT, 'docs/SCALING.md'), 'model', text, '# Scaling\n');
  }
  return f['write-docs'] ? text : `${text}\n\n(docs/SCALING.md unchanged; --write-docs records this model there)`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runScaling(process.argv.slice(2)).then(
    (text) => console.log(text),
    (err: unknown) => {
      console.error(`scaling: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
