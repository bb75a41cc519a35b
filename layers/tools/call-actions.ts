import { z } from 'zod';
import { DigitEntrySpecSchema } from '../data/digit-entry.ts';
import { CallConfigShape } from '../protocol/conversation-relay.ts';

/**
 * The ConversationRelay actions a tool may ask for besides ending the call, sending digits, switching language
 * and changing the call's tools: one schema each, so a tool Lambda's answer is checked at the boundary and the
 * in-process tools are typed by the same definition.
 */

/** A line spoken as its own piece of the reply; `interruptible`/`preemptible: false` for legal text or a read-back. */
export const SayActionSchema = z
  .object({
    type: z.literal('say'),
    text: z.string().min(1),
    interruptible: z.boolean().optional(),
    preemptible: z.boolean().optional(),
  })
  .strict();

/** Audio played as part of the reply (`loop: 0` repeats until something else is said). */
export const PlayActionSchema = z
  .object({
    type: z.literal('play'),
    source: z.url(),
    loop: z.number().int().min(0).optional(),
    interruptible: z.boolean().optional(),
    preemptible: z.boolean().optional(),
  })
  .strict();

/** Call settings to change now (voice, interruptibility...): sent as a `config` frame, recorded on the session. */
export const ConfigActionSchema = z
  .object({
    type: z.literal('config'),
    settings: z
      .object(CallConfigShape)
      .strict()
      .refine((s) => Object.values(s).some((v) => v !== undefined), { message: 'config changes at least one setting' }),
  })
  .strict();

/** Words speech recognition should expect next (unit names after "which unit?"). */
export const HintsActionSchema = z
  .object({
    type: z.literal('hints'),
    hints: z.array(z.string().min(1).max(100)).min(1).max(500),
  })
  .strict();

/** Collect a multi-digit keypad entry next (after "please type your unit number"): the digits come back as one input. */
export const CollectDigitsActionSchema = z
  .object({
    type: z.literal('collectDigits'),
    entry: DigitEntrySpecSchema,
  })
  .strict();

export type SayAction = z.infer<typeof SayActionSchema>;
export type PlayAction = z.infer<typeof PlayActionSchema>;
export type ConfigAction = z.infer<typeof ConfigActionSchema>;
export type HintsAction = z.infer<typeof HintsActionSchema>;
export type CollectDigitsAction = z.infer<typeof CollectDigitsActionSchema>;
export type CallAction = SayAction | PlayAction | ConfigAction | HintsAction | CollectDigitsAction;
