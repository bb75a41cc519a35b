import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Settings of the local runtime and the terminal caller, from the environment and `.env` (see .env.example).
 * A bad value fails fast with a message naming the variable.
 */

/** Signs and validates requests locally when TWILIO_AUTH_TOKEN is unset. Not a secret: it guards nothing real. */
export const DEV_TWILIO_AUTH_TOKEN = 'local-development-token-not-a-secret';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

export const SettingsSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  TWILIO_AUTH_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(8).default(DEV_TWILIO_AUTH_TOKEN)),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: optionalText,
  /** Offline model pacing: time to first token and gap between tokens, in ms. */
  OFFLINE_FIRST_TOKEN_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  OFFLINE_TOKEN_GAP_MS: z.coerce.number().int().min(0).max(10_000).default(30),
  /** Simulated API Gateway round trip per @connections post, in ms. */
  POST_LATENCY_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** The use case a caller with no saved choice reaches: the demo chooser unless you are working on another. */
  DEFAULT_USE_CASE_ID: z.string().regex(/^[a-z0-9-]{1,64}$/, 'a use-case id, e.g. apartment-search').default('default'),
  AGENT_NUMBER: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number like +14065550100').default('+14065550100'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('WARN'),
});
export type Settings = z.infer<typeof SettingsSchema> & { dataDir: string };

export class SettingsError extends Error {}

export function readSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(settings)'}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new SettingsError(`Invalid settings:\n${lines.join('\n')}\nFix them in the environment or .env (see .env.example).`);
  }
  return { ...parsed.data, dataDir: resolve(cwd, parsed.data.DATA_DIR) };
}

/** Which LLM the runtime talks to, in the order the README promises. */
export type LlmChoice =
  | { kind: 'openai'; apiKey: string; baseUrl?: string; model: string }
  | { kind: 'compatible'; baseUrl: string; apiKey?: string; model: string }
  | { kind: 'offline'; model: string };

export function chooseLlm(settings: Settings): LlmChoice {
  if (settings.OPENAI_BASE_URL) {
    const choice: LlmChoice = { kind: 'compatible', baseUrl: settings.OPENAI_BASE_URL, model: settings.OPENAI_MODEL ?? 'gpt-4o-mini' };
    if (settings.OPENAI_API_KEY) choice.apiKey = settings.OPENAI_API_KEY;
    return choice;
  }
  if (settings.OPENAI_API_KEY) return { kind: 'openai', apiKey: settings.OPENAI_API_KEY, model: settings.OPENAI_MODEL ?? 'gpt-4o-mini' };
  return { kind: 'offline', model: 'offline-demo' };
}
