import { parseArgs } from 'node:util';

/**
 * `npm run eval`'s command line, apart from what it runs: the entry point answers `--help` and an unknown option
 * from here before it loads the evals, the local app and the AWS SDK.
 */
export const USAGE = `Usage: npm run eval -- [options]
  --use-case ID        only this use case's evals (repeatable): apartment-search, default
  --grep PATTERN       only evals whose id or name matches (a case-insensitive regular expression)
  --repeat N           run each eval N times and report its pass rate (models that vary)
  --min-pass-rate R    pass when each eval passes at least this share of its runs (default 1)
  --concurrency N      runs at once (default 2)
  --reply-timeout MS   how long a caller waits for a reply, or for the app to end the call (default 20000)
  --junit FILE         write a JUnit XML report
  --html FILE          write an HTML report: transcripts with checks marked, judge reasons, latency, cost
  --target URL         call a deployed stack's call-setup webhook (its CallSetupUrl output) instead of a local app
  --auth-token-param NAME  SSM SecureString holding that stack's Twilio auth token (default ${'/conversation-relay/twilio-auth-token'})
  --table NAME         that stack's DynamoDB table: seeds caller profiles, reads tool calls, table effects, texts
Without OPENAI_API_KEY or OPENAI_BASE_URL the local app answers with the offline model, and judge checks and
simulated callers are skipped. EVAL_JUDGE_MODEL and EVAL_CALLER_MODEL choose their models (default OPENAI_MODEL).`;

/** The options as given; throws parseArgs' own error (unknown option, missing value) for the usage message. */
export function readEvalArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      'use-case': { type: 'string', multiple: true },
      grep: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      'min-pass-rate': { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '2' },
      'reply-timeout': { type: 'string', default: '20000' },
      junit: { type: 'string' },
      html: { type: 'string' },
      target: { type: 'string' },
      'auth-token-param': { type: 'string', default: '/conversation-relay/twilio-auth-token' },
      table: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }).values;
}
