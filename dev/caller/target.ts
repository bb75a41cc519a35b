import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { processAlive } from '../local/data-dir.ts';
import type { Settings } from '../local/settings.ts';

/**
 * Which webhook a call goes to: --url when given; else the one the running `npm start` wrote into its data folder
 * (so a PORT set only for `npm start`, or PORT=0, is followed); else HOST:PORT from the settings.
 */
const RuntimeFileSchema = z.object({ pid: z.number().int(), webhookUrl: z.url() }).loose();

export interface WebhookTarget {
  url: string;
  /** Where the URL came from, for the error message when nothing answers there. */
  source: string;
}

export async function webhookTarget(settings: Settings, url: string | undefined): Promise<WebhookTarget> {
  if (url) return { url, source: '--url' };
  const file = join(settings.dataDir, 'runtime.json');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      const running = RuntimeFileSchema.safeParse(JSON.parse(text));
      if (running.success && processAlive(running.data.pid)) return { url: running.data.webhookUrl, source: `the running npm start, from ${file}` };
    } catch {
      // A half-written file: fall back to the settings.
    }
  }
  const host = settings.HOST === '0.0.0.0' ? '127.0.0.1' : settings.HOST === '::' ? '[::1]' : settings.HOST.includes(':') ? `[${settings.HOST}]` : settings.HOST;
  return { url: `http://${host}:${settings.PORT}/call-setup`, source: 'HOST and PORT from the environment and .env' };
}
