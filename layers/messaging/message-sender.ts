import { z } from 'zod';

/**
 * How tools send a text message: one small interface, with an AWS implementation (invokes 04_util-send-message)
 * and a local one (runs 04's core in-process). Tools never load the twilio SDK themselves.
 */
export const E164 = /^\+[1-9]\d{6,14}$/;

export const OutgoingMessageSchema = z.object({
  to: z.string().regex(E164, 'the recipient must be an E.164 number such as +14065550123'),
  /** Twilio splits long SMS into segments; 1600 characters is its hard limit for one message. */
  body: z.string().min(1, 'the message is empty').max(1600),
  channel: z.enum(['sms', 'whatsapp']).default('sms'),
});
export type OutgoingMessage = z.input<typeof OutgoingMessageSchema>;

export const SendResultSchema = z.object({
  /** Twilio's message status (`queued`, `accepted`, `sent`...) or `not-sent` for the local outbox. */
  status: z.string(),
  sid: z.string().optional(),
  /** True only when Twilio accepted the message; false when it went to the local outbox. */
  delivered: z.boolean(),
});
export type SendResult = z.infer<typeof SendResultSchema>;

export interface MessageSender {
  send(message: OutgoingMessage): Promise<SendResult>;
}

/**
 * Twilio (or the send-message function) refused the message: an expected failure the caller should hear about,
 * e.g. 21211 for an invalid `To` number. `twilioCode` is Twilio's numeric error code when there is one.
 */
export class MessageSendError extends Error {
  readonly twilioCode: number | undefined;
  readonly status: number | undefined;

  constructor(message: string, options: { twilioCode?: number | undefined; status?: number | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'MessageSendError';
    this.twilioCode = options.twilioCode;
    this.status = options.status;
  }
}

/** What 04_util-send-message returns from a Lambda Invoke: routes never throw, so failures come back as data. */
export const SendMessageResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: SendResultSchema }),
  z.object({
    ok: z.literal(false),
    error: z.object({ message: z.string(), twilioCode: z.number().optional(), status: z.number().optional() }),
  }),
]);
export type SendMessageResponse = z.infer<typeof SendMessageResponseSchema>;
