import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { readEvalArgs, USAGE } from './cli-args.ts';

/**
 * `npm run eval`: the conversation evals (cli.ts). Quiet logs unless asked: the report is the output. `--help` and
 * an unknown option are answered before the evals and the app they call are loaded (most of the command's start).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
let help: boolean;
try {
  help = readEvalArgs(argv).help;
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (help) {
  console.log(USAGE);
  process.exit(0);
}
loadDotenv({ path: resolve(ROOT, '.env'), quiet: true });
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { evalCli } = await import('./cli.ts');
process.exitCode = await evalCli(argv, { rootDir: ROOT, env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) });
