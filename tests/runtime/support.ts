import { resolve } from 'node:path';
import { readSettings } from '../../dev/local/settings.ts';
import { startLocalRuntime, type LocalRuntime, type RuntimeOptions } from '../../dev/local/runtime.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TEST_TOKEN = 'runtime-test-auth-token';

/** The real local runtime on free ports, database in memory, no keys, a fast offline model. */
export function startTestRuntime(env: Record<string, string> = {}, options: Partial<RuntimeOptions> = {}): Promise<LocalRuntime> {
  const settings = readSettings(
    { PORT: '0', TWILIO_AUTH_TOKEN: TEST_TOKEN, OFFLINE_FIRST_TOKEN_MS: '5', OFFLINE_TOKEN_GAP_MS: '1', ...env },
    ROOT,
  );
  return startLocalRuntime({ settings, rootDir: ROOT, ephemeral: true, ...options });
}
