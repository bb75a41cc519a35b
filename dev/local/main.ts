import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEnvFile } from '../cli/env-file.ts';
import { configureTerminal } from './terminal-mode.ts';

/**
 * `npm start`: the whole app on this machine. This entry only reads the command line and `.env` and decides what
 * the terminal shows; the app is imported afterwards, because the logger and metrics configure themselves from the
 * environment when their modules load.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const USAGE = `Usage: npm start -- [options]
  --json        print the structured JSON logs and EMF metric lines (as Lambda would) instead of readable lines
  --env FILE    read settings from FILE instead of .env
  -h, --help    show this help
Settings come from the environment and .env (see .env.example): PORT, HOST, DATA_DIR, TWILIO_AUTH_TOKEN,
OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL, LOG_LEVEL (DEBUG also prints EMF), ...
The web console is served on the same port: open the URL the ready banner prints.`;

function readArgs(): { json: boolean; env: string | undefined } | number {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: { json: { type: 'boolean', default: false }, env: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    return { json: values.json, env: values.env };
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
}

const args = readArgs();
if (typeof args === 'number') {
  process.exit(args);
}
try {
  loadEnvFile(ROOT, args.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const mode = configureTerminal(process.env, { json: args.json });
const { serve } = await import('./serve.ts');
process.exit(await serve({ rootDir: ROOT, mode }));
