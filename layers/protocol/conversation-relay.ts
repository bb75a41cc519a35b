import { z } from 'zod';
import { logger } from '../observability/logger.ts';
import { DTMF_KEY, DTMF_KEY_MESSAGE } from './keypad.ts';

/**
 * The whole vocabulary of a ConversationRelay call, as JSON text frames over the WebSocket.
 * Reading this file tells you everything that can happen on the socket.
 *
 * Inbound schemas are lenient: unknown fields pass through (Twilio adds fields), a frame of an unknown type is
 * reported as such and ignored by the engine. Outbound schemas are strict: Twilio answers anything unexpected
 * with error 64107, so an invalid outbound frame is a bug on our side and is never sent.
 */

// ---------------------------------------------------------------------------------------------------------------
// Inbound: Twilio -> us
// ---------------------------------------------------------------------------------------------------------------

/**
 * Sent by Twilio once, right after the WebSocket opens, before any prompt. Identifies the call; the
 * `customParameters` are the `<Parameter>` children of the TwiML (never secrets).
 */
export const SetupMessageSchema = z
  .object({
    type: z.literal('setup'),
    sessionId: z.string(),
    callSid: z.string(),
    accountSid: z.string().optional(),
    parentCallSid: z.string().optional(),
    from: z.string().optional(),
    to: z.string().optional(),
    forwardedFrom: z.string().optional(),
    callType: z.string().optional(),
    callerName: z.string().optional(),
    direction: z.string().optional(),
    callStatus: z.string().optional(),
    customParameters: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type SetupMessage = z.infer<typeof SetupMessageSchema>;

/**
 * Sent by Twilio when the caller has said something. With `partialPrompts` on, pieces arrive with `last: false`
 * and the final one with `last: true`; without it every prompt is final (a missing `last` means final).
 */
export const PromptMessageSchema = z
  .object({
    type: z.literal('prompt'),
    voicePrompt: z.string(),
    lang: z.string().optional(),
    last: z.boolean().default(true),
  })
  .loose();
export type PromptMessage = z.infer<typeof PromptMessageSchema>;

/** Sent by Twilio when the caller presses a key (with `dtmfDetection` on). */
export const DtmfMessageSchema = z
  .object({
    type: z.literal('dtmf'),
    digit: z.string().regex(DTMF_KEY, DTMF_KEY_MESSAGE),
  })
  .loose();
export type DtmfMessage = z.infer<typeof DtmfMessageSchema>;

/**
 * Sent by Twilio when the caller cut in while our reply was being spoken: `utteranceUntilInterrupt` is exactly
 * what they heard, the only text of that reply that belongs in the history. The duration has been seen as a
 * number, a decimal and a string, so it is coerced.
 */
export const InterruptMessageSchema = z
  .object({
    type: z.literal('interrupt'),
    utteranceUntilInterrupt: z.string().default(''),
    durationUntilInterruptMs: z.coerce.number().nonnegative().optional().catch(undefined),
  })
  .loose();
export type InterruptMessage = z.infer<typeof InterruptMessageSchema>;

/** Sent by Twilio when something went wrong on its side (e.g. it rejected a frame of ours). */
export const ErrorMessageSchema = z
  .object({
    type: z.literal('error'),
    description: z.string().default(''),
  })
  .loose();
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;

/** Sent by Twilio with debug information when the TwiML sets `debug`. Ignored beyond logging. */
export const InfoMessageSchema = z.object({ type: z.literal('info') }).loose();
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
export const TextMessageSchema = z
  .object({
    type: z.literal('text'),
    token: z.string(),
    last: z.boolean(),
    lang: z.string().min(2).optional(),
    interruptible: z.boolean().optional(),
    preemptible: z.boolean().optional(),
  })
  .strict();
export type TextMessage = z.infer<typeof TextMessageSchema>;

/** Sent by us to play audio (e.g. a filler jingle while tools run). */
export const PlayMessageSchema = z
  .object({
    type: z.literal('play'),
    source: z.url(),
    loop: z.number().int().min(0).optional(),
    interruptible: z.boolean().optional(),
    preemptible: z.boolean().optional(),
  })
  .strict();
export type PlayMessage = z.infer<typeof PlayMessageSchema>;

/** Sent by us to press keys on the caller's line (e.g. an IVR menu behind a transfer). */
export const SendDigitsMessageSchema = z
  .object({
    type: z.literal('sendDigits'),
    digits: z.string().regex(/^[0-9*#wW]+$/, 'digits are 0-9, *, # and w (a half-second pause)'),
  })
  .strict();
export type SendDigitsMessage = z.infer<typeof SendDigitsMessageSchema>;

/** Sent by us to switch speech synthesis and/or recognition to another language mid-call. */
export const LanguageMessageSchema = z
  .object({
    type: z.literal('language'),
    ttsLanguage: z.string().min(2).optional(),
    transcriptionLanguage: z.string().min(2).optional(),
  })
  .strict()
  .refine((m) => m.ttsLanguage !== undefined || m.transcriptionLanguage !== undefined, {
    message: 'a language frame names ttsLanguage, transcriptionLanguage or both',
  });
export type LanguageMessage = z.infer<typeof LanguageMessageSchema>;

/**
 * Sent by us to end the ConversationRelay session; Twilio then requests the `<Connect action>` URL with
 * `HandoffData`. The data is a JSON *string*, not an object.
 */
export const EndMessageSchema = z
  .object({
    type: z.literal('end'),
    handoffData: z.string().optional(),
  })
  .strict();
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
