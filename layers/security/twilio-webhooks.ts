import { createRequire } from 'node:module';
import { lazy } from '../runtime/lazy.ts';

/**
 * Twilio's request-signing helpers, loaded on first use from the webhooks module alone: the full `twilio` import
 * costs ~70 ms of cold start, this module ~3 ms. Loaded through createRequire (not bundled by esbuild), so in
 * Lambda `twilio` must be resolvable at run time (a dependencies layer under /opt/nodejs/node_modules is on
 * NODE_PATH, which createRequire honours).
 */
const requireCjs = createRequire(import.meta.url);
export type TwilioWebhooks = typeof import('twilio/lib/webhooks/webhooks.js');

export const twilioWebhooks: () => TwilioWebhooks = lazy(() => requireCjs('twilio/lib/webhooks/webhooks.js') as TwilioWebhooks);

/** Case-insensitive header lookup (API Gateway lower-cases HTTP API headers, not WebSocket ones). */
export function headerValue(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
