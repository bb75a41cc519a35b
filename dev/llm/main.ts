import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OFFLINE_MODEL_TIMING } from './offline/timing.ts';

/**
 * `npm run offline-llm -- [--port N] [--host H] [--root DIR] [--first-token-ms N] [--token-gap-ms N]`
 * Serves the offline model standalone, for any OpenAI client: point its base URL at the printed address.
 * `--help` and a bad option are answered before the model server and the logger are loaded.
 */

const usage =
  'usage: npm run offline-llm -- [--port N] [--host 127.0.0.1] [--root DIR] ' +
  `[--first-token-ms ${OFFLINE_MODEL_TIMING.firstTokenMs}] [--token-gap-ms ${OFFLINE_MODEL_TIMING.tokenGapMs}]`;

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, got "${value}"\n${usage}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        root: { type: 'string' },
        'first-token-ms': { type: 'string' },
        'token-gap-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const rootDir = resolve(values.root ?? process.cwd());
  const port = numberOption('port', values.port);
  const firstTokenMs = numberOption('first-token-ms', values['first-token-ms']);
  const tokenGapMs = numberOption('token-gap-ms', values['token-gap-ms']);

  const { startOfflineModel } = await import('./offline/start-offline-model.ts');
  const model = await startOfflineModel({
    rootDir,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
    timing: { ...(firstTokenMs !== undefined ? { firstTokenMs } : {}), ...(tokenGapMs !== undefined ? { tokenGapMs } : {}) },
  });
  console.log(`Offline demo model (a scripted stand-in, not an assistant) at ${model.baseUrl}`);
  console.log(model.scriptFiles.length ? `Scripts:\n  ${model.scriptFiles.join('\n  ')}` : `No offline-model.json under ${rootDir}/0*_use-case-*/`);
  console.log("Use it with: new OpenAI({ baseURL: '" + model.baseUrl + "', apiKey: 'offline' })");

  const stop = () => {
    model.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(async (error: unknown) => {
  const { logger } = await import('../../layers/observability/logger.ts');
  logger.error('offline model failed to start', { error });
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
