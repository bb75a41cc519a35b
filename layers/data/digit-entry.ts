import * as z from 'zod/mini';
import '../config/zod-locale.ts';

/**
 * A multi-digit keypad entry (a unit number, a PIN): N digits, or digits until the finish key, with a limit on
 * the pause between two keys. A use case starts one from a key of its keypad map, a tool from an action. Each key
 * is its own frame and its own invocation, so the entry lives in the turn ledger (engine/ledger/decide.ts decides
 * every step); nothing waits in memory for the next key.
 */
export const DEFAULT_DIGIT_TIMEOUT_MS = 5_000;
export const DEFAULT_FINISH_KEY = '#';

export const DigitEntrySpecSchema = z.strictObject({
  /** What the digits are, in words; the LLM reads it with them ("the unit number the caller typed"). */
  description: z.string().check(z.minLength(1)),
  /** The entry is complete after this many digits (the finish key ends it earlier). */
  maxDigits: z.optional(z.int().check(z.minimum(1), z.maximum(32))),
  /** Ends the entry; not part of the digits. `#` unless set. */
  finishOnKey: z.optional(z.enum(['#', '*'])),
  /** The longest pause between two keys before the entry ends with what it has (5 s unless set). */
  timeoutMs: z.optional(z.int().check(z.minimum(1_000), z.maximum(60_000))),
  /** The tool the LLM must call with the digits (tool_choice); otherwise the LLM decides. */
  tool: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9_-]{1,64}$/))),
  /**
   * With `maxDigits`: said when the entry times out short of them, and the entry opens once more for the whole
   * number. Without it (or after that second try), what was typed goes to the LLM, which may ask again (`tool`
   * is not forced with a partial number).
   */
  incompleteLine: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
});
export type DigitEntrySpec = z.infer<typeof DigitEntrySpecSchema>;

/** An entry in progress, as the ledger keeps it. */
export const DigitEntrySchema = z.object({
  spec: DigitEntrySpecSchema,
  digits: z.string(),
  /** When each digit reached us: keys are separate invocations that may land out of order. */
  ats: z.optional(z.array(z.number())),
  /** When the entry started, or its last key arrived: the timeout runs from here. */
  lastAt: z.number(),
  /**
   * The call timer owns the timeout: it ends the entry at the deadline, and a key that lands before it does is
   * still part of the entry. Without a timer the next frame after the deadline ends it (and a late key is not part).
   */
  timed: z.optional(z.boolean()),
  /** This is the second try after `incompleteLine` (a short entry is then passed on as it is). */
  retry: z.optional(z.boolean()),
});
export type DigitEntry = z.infer<typeof DigitEntrySchema>;

/** When a pending entry times out. */
export function digitEntryDeadline(entry: DigitEntry): number {
  return entry.lastAt + (entry.spec.timeoutMs ?? DEFAULT_DIGIT_TIMEOUT_MS);
}

export type DigitEntryEnd = 'length' | 'finish-key' | 'timeout' | 'spoke';

/** A timed-out entry short of the digits it needs. */
export function isIncomplete(spec: DigitEntrySpec, digits: string, reason: DigitEntryEnd): boolean {
  return reason === 'timeout' && spec.maxDigits !== undefined && digits.length < spec.maxDigits;
}

/** The entry as the caller's turn: what the LLM reads and the history keeps. */
export function digitEntryText(spec: DigitEntrySpec, digits: string, reason: DigitEntryEnd): string {
  const how =
    reason === 'timeout'
      ? digits
        ? `typed ${digits} on the keypad, then stopped (the entry timed out)`
        : 'started a keypad entry but typed nothing before it timed out'
      : reason === 'spoke'
        ? `typed ${digits || 'nothing'} on the keypad, then spoke instead`
        : `typed ${digits} on the keypad`;
  return `(${how}) ${spec.description}`;
}
