import * as z from 'zod/mini';
import '../config/zod-locale.ts';
import { logger } from '../observability/logger.ts';
import { DTMF_KEY, DTMF_KEY_MESSAGE } from './keypad.ts';

/**
 * The whole vocabulary of a ConversationRelay call, as JSON text frames over the WebSocket.
 * Reading this file tells you everything that can happen on the socket.
 *
 * Inbound schemas are lenient: unknown fields pass through (Twilio adds fields), a frame of an unknown type is
 * reported as such and ignored by the engine. Outbound schemas are strict: Twilio answers anything unexpected
 * with error 64107, so an invalid outbound frame is a bug on our side and is never sent.
 *
 * Written with `zod/mini` (the functional API over the same core as `zod`): it parses every frame of a call, and its
 * bundle is a fraction of classic zod's, which cold starts of $default pay for at import. Types are inferred from
 * the schemas, as before.
 */

// ---------------------------------------------------------------------------------------------------------------
// Inbound: Twilio -> us
// ---------------------------------------------------------------------------------------------------------------

/**
 * Sent by Twilio once, right after the WebSocket opens, before any prompt. Identifies the call; the
 * `customParameters` are the `<Parameter>` children of the TwiML (never secrets).
 */
export const SetupMessageSchema = z.looseObject({
  type: z.literal('setup'),
  sessionId: z.string(),
  callSid: z.string(),
  accountSid: z.optional(z.string()),
  parentCallSid: z.optional(z.string()),
  from: z.optional(z.string()),
  to: z.optional(z.string()),
  forwardedFrom: z.optional(z.string()),
  callType: z.optional(z.string()),
  callerName: z.optional(z.string()),
  direction: z.optional(z.string()),
  callStatus: z.optional(z.string()),
  customParameters: z.optional(z.record(z.string(), z.unknown())),
});
export type SetupMessage = z.infer<typeof SetupMessageSchema>;

/**
 * Sent by Twilio when the caller has said something. With `partialPrompts` on, pieces arrive with `last: false`
 * and the final one with `last: true`; without it every prompt is final (a missing `last` means final).
 */
export const PromptMessageSchema = z.looseObject({
  type: z.literal('prompt'),
  voicePrompt: z.string(),
  lang: z.optional(z.string()),
  last: z._default(z.boolean(), true),
});
export type PromptMessage = z.infer<typeof PromptMessageSchema>;

/** Sent by Twilio when the caller presses a key (with `dtmfDetection` on). */
export const DtmfMessageSchema = z.looseObject({
  type: z.literal('dtmf'),
  digit: z.string().check(z.regex(DTMF_KEY, DTMF_KEY_MESSAGE)),
});
export type DtmfMessage = z.infer<typeof DtmfMessageSchema>;

/**
 * Sent by Twilio when the caller cut in while our reply was being spoken: `utteranceUntilInterrupt` is exactly
 * what they heard, the only text of that reply that belongs in the history. The duration has been seen as a
 * number, a decimal and a string, so it is coerced.
 */
export const InterruptMessageSchema = z.looseObject({
  type: z.literal('interrupt'),
  utteranceUntilInterrupt: z._default(z.string(), ''),
  durationUntilInterruptMs: z.catch(z.optional(z.coerce.number().check(z.nonnegative())), undefined),
});
export type InterruptMessage = z.infer<typeof InterruptMessageSchema>;

/** Sent by Twilio when something went wrong on its side (e.g. it rejected a frame of ours). */
export const ErrorMessageSchema = z.looseObject({
  type: z.literal('error'),
  description: z._default(z.string(), ''),
});
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

/** Sent by Twilio with debug information when the TwiML sets `debug`. Ignored beyond logging. */
export const InfoMessageSchema = z.looseObject({ type: z.literal('info') });
export type InfoMessage = z.infer<typeof InfoMessageSchema>;

export const InboundMessageSchema = z.discriminatedUnion('type', [
  SetupMessageSchema,
  PromptMessageSchema,
  DtmfMessageSchema,
  InterruptMessageSchema,
  ErrorMessageSchema,
  InfoMessageSchema,
]);
export type InboundMessage = z.infer<typeof InboundMessageSchema>;
export type InboundType = InboundMessage['type'];

const INBOUND_TYPES = new Set<string>(['setup', 'prompt', 'dtmf', 'interrupt', 'error', 'info']);

export type ParsedInbound =
  | { ok: true; message: InboundMessage }
  /** Not JSON, not an object, or no string `type`. */
  | { ok: false; reason: 'malformed'; detail: string }
  /** Well-formed, but a type this code does not know (Twilio may add some). */
  | { ok: false; reason: 'unknown-type'; type: string }
  /** A known type with missing or mistyped fields. */
  | { ok: false; reason: 'invalid'; type: string; detail: string };

/** Parses one text frame from Twilio. Never throws: every failure is a value the caller logs and ignores. */
export function parseInbound(raw: string | null | undefined): ParsedInbound {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'malformed', detail: 'empty frame' };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `not JSON: ${(err as Error).message}` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: 'malformed', detail: 'not a JSON object' };
  }
  const type = (data as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, reason: 'malformed', detail: 'no string `type`' };
  if (!INBOUND_TYPES.has(type)) return { ok: false, reason: 'unknown-type', type };
  const parsed = InboundMessageSchema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: 'invalid', type, detail: z.prettifyError(parsed.error) };
  return { ok: true, message: parsed.data };
}

// ---------------------------------------------------------------------------------------------------------------
// Outbound: us -> Twilio
// ---------------------------------------------------------------------------------------------------------------

/**
 * Sent by us to have text spoken. A reply is streamed as several of these; exactly one, the final piece, carries
 * `last: true`. An empty `token` is allowed (a bare end-of-reply marker).
 */
export const TextMessageSchema = z.strictObject({
  type: z.literal('text'),
  token: z.string(),
  last: z.boolean(),
  lang: z.optional(z.string().check(z.minLength(2))),
  interruptible: z.optional(z.boolean()),
  preemptible: z.optional(z.boolean()),
});
export type TextMessage = z.infer<typeof TextMessageSchema>;

/** Sent by us to play audio (e.g. a filler jingle while tools run). */
export const PlayMessageSchema = z.strictObject({
  type: z.literal('play'),
  source: z.url(),
  loop: z.optional(z.int().check(z.minimum(0))),
  interruptible: z.optional(z.boolean()),
  preemptible: z.optional(z.boolean()),
});
export type PlayMessage = z.infer<typeof PlayMessageSchema>;

/** Sent by us to press keys on the caller's line (e.g. an IVR menu behind a transfer). */
export const SendDigitsMessageSchema = z.strictObject({
  type: z.literal('sendDigits'),
  digits: z.string().check(z.regex(/^[0-9*#wW]+$/, 'digits are 0-9, *, # and w (a half-second pause)')),
});
export type SendDigitsMessage = z.infer<typeof SendDigitsMessageSchema>;

/** Sent by us to switch speech synthesis and/or recognition to another language mid-call. */
export const LanguageMessageSchema = z
  .strictObject({
    type: z.literal('language'),
    ttsLanguage: z.optional(z.string().check(z.minLength(2))),
    transcriptionLanguage: z.optional(z.string().check(z.minLength(2))),
  })
  .check(
    z.refine((m) => m.ttsLanguage !== undefined || m.transcriptionLanguage !== undefined, {
      message: 'a language frame names ttsLanguage, transcriptionLanguage or both',
    }),
  );
export type LanguageMessage = z.infer<typeof LanguageMessageSchema>;

/**
 * Sent by us to end the ConversationRelay session; Twilio then requests the `<Connect action>` URL with
 * `HandoffData`. The data is a JSON *string*, not an object.
 */
export const EndMessageSchema = z.strictObject({
  type: z.literal('end'),
  handoffData: z.optional(z.string()),
});
export type EndMessage = z.infer<typeof EndMessageSchema>;

export const OutboundMessageSchema = z.union([
  TextMessageSchema,
  PlayMessageSchema,
  SendDigitsMessageSchema,
  LanguageMessageSchema,
  EndMessageSchema,
]);
export type OutboundMessage = TextMessage | PlayMessage | SendDigitsMessage | LanguageMessage | EndMessage;

export type EncodedOutbound = { ok: true; frame: string } | { ok: false; error: string };

/**
 * Validates an outbound frame and serialises it. An invalid frame is a bug on our side: it is logged and comes
 * back as an error, and the caller must not send it (Twilio would answer 64107).
 */
export function encodeOutbound(message: OutboundMessage): EncodedOutbound {
  const parsed = OutboundMessageSchema.safeParse(message);
  if (!parsed.success) {
    const error = z.prettifyError(parsed.error);
    logger.error('invalid outbound frame not sent', { frameType: (message as { type?: unknown }).type, error });
    return { ok: false, error };
  }
  return { ok: true, frame: JSON.stringify(parsed.data) };
}
