import { parseArgs } from 'node:util';
import { z } from 'zod';

export const USAGE = `Usage: npm run latency -- [options]
  --calls N         the last N calls that have turn records (default 20)
  --call ID         one call, by session id or Twilio CallSid
  --use-case ID     only turns of this use case
  --days D          how many UTC days back to look for calls, today included (default 2)
  --html FILE       also write a page with the summary and a per-turn waterfall chart
  --json            print the report as JSON instead of a table
  --aws             read the deployed table (profile from AWS_PROFILE or aws-profile.profile)
  --table NAME      with --aws: the table name, instead of the 01_dynamodb stack's TableName output
Locally the report reads DYNAMODB_ENDPOINT + TABLE_NAME, else the running app (<DATA_DIR>/runtime.json), else
DATA_DIR itself when the app is not running.`;

const count = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(1, `${name} must be at least 1`)
    .max(10_000, `${name} must be at most 10000`)
    .default(fallback);

export const OptionsSchema = z
  .object({
    calls: count('--calls', 20),
    call: z.string().min(1).optional(),
    useCase: z.string().min(1).optional(),
    days: count('--days', 2),
    html: z.string().min(1).optional(),
    json: z.boolean().default(false),
    aws: z.boolean().default(false),
    table: z.string().min(1).optional(),
    help: z.boolean().default(false),
  })
  .refine((o) => o.table === undefined || o.aws, { message: '--table is for --aws (locally set TABLE_NAME)', path: ['table'] });
export type Options = z.infer<typeof OptionsSchema>;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseOptions(argv: string[]): Options {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        calls: { type: 'string' },
        call: { type: 'string' },
        'use-case': { type: 'string' },
        days: { type: 'string' },
        html: { type: 'string' },
        json: { type: 'boolean' },
        aws: { type: 'boolean' },
        table: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const parsed = OptionsSchema.safeParse({ ...values, useCase: values['use-case'] });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** The selection in words, for the report header. */
export function describeSelection(options: Options): string {
  const scope = options.call !== undefined ? `call ${options.call}` : `the last ${options.calls} call(s) of the last ${options.days} day(s)`;
  return options.useCase !== undefined ? `${scope}, use case ${options.useCase}` : scope;
}
