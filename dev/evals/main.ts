import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';

/** `npm run eval`: the conversation evals (cli.ts). Quiet logs unless asked: the report is the output. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
loadDotenv({ path: resolve(ROOT, '.env'), quiet: true });
process.env.LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { evalCli } = await import('./cli.ts');
process.exitCode = await evalCli(process.argv.slice(2), { rootDir: ROOT, env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) });
