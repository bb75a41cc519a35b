import * as z from 'zod/mini';
import '../config/zod-locale.ts';
import { DigitEntrySpecSchema } from '../data/digit-entry.ts';
import { CallConfigShape } from '../protocol/conversation-relay.ts';

/**
 * The ConversationRelay actions a tool may ask for besides ending the call, sending digits, switching language
 * and changing the call's tools: one schema each, so a tool Lambda's answer is checked at the boundary and the
 * in-process tools are typed by the same definition.
 */

/** A line spoken as its own piece of the reply; `interruptible`/`preemptible: false` for legal text or a read-back. */
export const SayActionSchema = z.strictObject({
  type: z.literal('say'),
  text: z.string().check(z.minLength(1)),
  interruptible: z.optional(z.boolean()),
  preemptible: z.optional(z.boolean()),
});

/** Audio played as part of the reply (`loop: 0` repeats until something else is said). */
export const PlayActionSchema = z.strictObject({
  type: z.literal('play'),
  source: z.url(),
  loop: z.optional(z.int().check(z.minimum(0))),
  interruptible: z.optional(z.boolean()),
  preemptible: z.optional(z.boolean()),
});

/** Call settings to change now (voice, interruptibility...): sent as a `config` frame, recorded on the session. */
export const ConfigActionSchema = z.strictObject({
  type: z.literal('config'),
  settings: z
    .strictObject(CallConfigShape)
    .check(z.refine((s) => Object.values(s).some((v) => v !== undefined), { message: 'config changes at least one setting' })),
});

/** Words speech recognition should expect next (unit names after "which unit?"). */
export const HintsActionSchema = z.strictObject({
  type: z.literal('hints'),
  hints: z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.minLength(1), z.maxLength(500)),
});

/** Collect a multi-digit keypad entry next (after "please type your unit number"): the digits come back as one input. */
export const CollectDigitsActionSchema = z.strictObject({
  type: z.literal('collectDigits'),
  entry: DigitEntrySpecSchema,
});

export type SayAction = z.infer<typeof SayActionSchema>;
export type PlayAction = z.infer<typeof PlayActionSchema>;
export type ConfigAction = z.infer<typeof ConfigActionSchema>;
export type HintsAction = z.infer<typeof HintsActionSchema>;
export type CollectDigitsAction = z.infer<typeof CollectDigitsActionSchema>;
export type CallAction = SayAction | PlayAction | ConfigAction | HintsAction | CollectDigitsAction;
