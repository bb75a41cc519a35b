import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCallerArgs, USAGE, type CallerArgs } from './options.ts';

/**
 * `npm run call`: a terminal caller that plays ConversationRelay's part against the local runtime (or any
 * deployment whose auth token you have). Type to speak; typing while the app talks cuts in, like a caller would.
 * `--help` and a usage error are answered before the caller itself (call.ts) is loaded.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let values: CallerArgs;
try {
  values = readCallerArgs(process.argv.slice(2));
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const { runCall } = await import('./call.ts');
process.exit(await runCall(values, ROOT));
