import * as z from 'zod/mini';
import './zod-locale.ts';

/**
 * Non-secret settings of the TwiML API (call setup and the `<Connect action>` callback), read from the
 * environment once and validated, so a missing or malformed value names its variable at the first call instead
 * of turning into a broken TwiML. The same names are set by the SAM template in AWS and by the local runtime.
 */
const optional = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.transform((v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)),
    z.optional(schema),
  );

const TwimlApiEnvSchema = z.object({
  /** The ConversationRelay WebSocket URL without query string (02 stack export; the local runtime's ws:// URL). */
  WEBSOCKET_URL: optional(z.string().check(z.regex(/^wss?:\/\/[^?#\s]+$/, 'WEBSOCKET_URL must be a ws:// or wss:// URL without query string'))),
  /** Custom domain or local runtime base (e.g. https://voice.example.com); else rebuilt from each request. */
  PUBLIC_BASE_URL: optional(z.string().check(z.regex(/^https?:\/\/[^?#\s]+$/, 'PUBLIC_BASE_URL must be an http(s) URL without query string'))),
  DEFAULT_USE_CASE_ID: optional(z.string().check(z.regex(/^[a-z0-9-]{1,64}$/))),
  /** Where live-agent handoffs are dialed: an E.164 number or a sip: URI. */
  AGENT_NUMBER: optional(z.string().check(z.regex(/^(\+[1-9]\d{6,14}|sips?:\S+)$/, 'AGENT_NUMBER must be E.164 (+15551234567) or a sip: URI'))),
  /** The function that texts the handoff summary to the agent (connect action only). */
  AGENT_SMS_FUNCTION: optional(z.string().check(z.regex(/^[A-Za-z0-9_:.-]{1,170}$/, 'AGENT_SMS_FUNCTION must be a Lambda function name or ARN'))),
  /** 04_util-send-message's function (the agent-SMS function only). */
  SEND_MESSAGE_FUNCTION: optional(z.string().check(z.regex(/^[A-Za-z0-9_:.-]{1,170}$/, 'SEND_MESSAGE_FUNCTION must be a Lambda function name or ARN'))),
});

export interface TwimlApiSettings {
  /**
   * Needed by call setup only. Used verbatim: `$connect` rebuilds the signed URL from the same value, so it must
   * not be normalised here.
   */
  websocketUrl?: string;
  publicBaseUrl?: string;
  defaultUseCaseId: string;
  agentNumber?: string;
  agentSmsFunction?: string;
  sendMessageFunction?: string;
}

export const DEFAULT_USE_CASE_ID = 'default';

export function twimlApiSettings(env: NodeJS.ProcessEnv = process.env): TwimlApiSettings {
  const parsed = TwimlApiEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`TwiML API settings: ${problems}`);
  }
  const { WEBSOCKET_URL, PUBLIC_BASE_URL, DEFAULT_USE_CASE_ID: useCase, AGENT_NUMBER, AGENT_SMS_FUNCTION, SEND_MESSAGE_FUNCTION } = parsed.data;
  const settings: TwimlApiSettings = { defaultUseCaseId: useCase ?? DEFAULT_USE_CASE_ID };
  if (WEBSOCKET_URL) settings.websocketUrl = WEBSOCKET_URL;
  if (PUBLIC_BASE_URL) settings.publicBaseUrl = PUBLIC_BASE_URL.replace(/\/+$/, '');
  if (AGENT_NUMBER) settings.agentNumber = AGENT_NUMBER;
  if (AGENT_SMS_FUNCTION) settings.agentSmsFunction = AGENT_SMS_FUNCTION;
  if (SEND_MESSAGE_FUNCTION) settings.sendMessageFunction = SEND_MESSAGE_FUNCTION;
  return settings;
}
