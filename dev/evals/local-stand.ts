import { startLocalRuntime } from '../local/runtime.ts';
import { readSettings } from '../local/settings.ts';
import { createUsageMeter } from '../local/usage-meter.ts';
import type { Stand } from './run-evals.ts';

/** The number the eval callers dial (any number: the webhook answers every one). */
export const DIALED_NUMBER = '+14065550199';

/**
 * The app as `npm start` runs it (same handlers, gateway, tools and LLM choice), on free ports with its table in
 * memory: every eval run gets a fresh one, with the use cases loaded and nobody's bookings in it.
 */
export async function openLocalStand(rootDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Stand> {
  const settings = readSettings({ ...env, PORT: '0' }, rootDir);
  const meter = createUsageMeter();
  const runtime = await startLocalRuntime({ settings, rootDir, ephemeral: true, usageMeter: meter });
  return {
    dialer: { webhookUrl: runtime.webhookUrl, authToken: settings.TWILIO_AUTH_TOKEN, to: DIALED_NUMBER },
    table: runtime.table,
    meter,
    defaultModel: runtime.llm.model,
    stop: () => runtime.stop(),
  };
}
