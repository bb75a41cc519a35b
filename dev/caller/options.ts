import { parseArgs } from 'node:util';

/**
 * `npm run call`'s command line, apart from the call: the entry point answers `--help` and an unknown option from
 * here before it loads the caller (WebSocket client, settings, script runner).
 */
export const USAGE = `Usage: npm run call -- [options]
  --url URL        call-setup webhook (default: the running npm start's, found in DATA_DIR; else http://HOST:PORT/call-setup)
  --env FILE       read settings from FILE instead of .env (the same file npm start reads)
  --from NUMBER    caller number, E.164 (default +14065550123; a new random caller for each --script run)
  --to NUMBER      number dialled (default +14065550199)
  --use-case ID    reach this use case (local runtime only; default: a script's own folder, else the app's choice)
  --script FILE    run a scripted call, print the transcript with latencies, exit non-zero on failure
  --wpm N          speaking pace of the app's replies in words per minute (default 190; 0 = instant)
  --unsigned       send the webhook and handshake unsigned (to see them refused)
  --partials       send what you type as partial prompts word by word before the final one (preemption)
Interactive commands: /dtmf 1 (or keys: /dtmf 1204#), /lang es-US (the language your words are in), /hangup, /help
Script format (one step per line, # comments): say TEXT | speak TEXT | bargein N TEXT | dtmf KEY | expect REGEX |
  expect-end [REGEX] | wait MS | hangup | redial. See the README.`;

/** The options as given; throws parseArgs' own error (unknown option, missing value) for the usage message. */
export function readCallerArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      env: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string', default: '+14065550199' },
      script: { type: 'string' },
      'use-case': { type: 'string' },
      wpm: { type: 'string', default: '190' },
      unsigned: { type: 'boolean', default: false },
      partials: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

export type CallerArgs = ReturnType<typeof readCallerArgs>;
