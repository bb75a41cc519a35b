// zod/mini: this module is part of $default, whose cold start pays for classic zod at import.
import * as z from 'zod/mini';
import '../../../../layers/config/zod-locale.ts';
import type { Clock } from '../ports.ts';

/**
 * The call's one timer. Three things in a call must happen when nothing else does, and no serverless process may
 * sit waiting for them: a reprompt when the caller stays silent (`silence`), the end of a keypad entry when the
 * caller stops typing (`digits`), and the end of a call whose dropped socket was not reconnected within its
 * grace (`grace`). Each is a check: plain JSON, due at `dueAt`, run by an SQS delay queue in AWS and by an
 * in-process timer locally. Whether a check that comes due still has work is the turn ledger's decision
 * (engine/ledger/decide.ts); a stale one finds nothing and is dropped, so nothing is ever cancelled.
 */

const EndpointSchema = z.object({ domainName: z.optional(z.string()), stage: z.optional(z.string()) });

const common = {
  sessionId: z.string().check(z.minLength(1)),
  /** When the check is due (epoch ms). */
  dueAt: z.number(),
  /** The call's @connections endpoint: where a reprompt or a reply is posted. */
  endpoint: EndpointSchema,
};

/** The caller has said nothing since turn `turn`'s reply (and `round` reprompts). */
export const SilenceCheckSchema = z.object({
  kind: z.literal('silence'),
  ...common,
  turn: z.int().check(z.nonnegative()),
  round: z.int().check(z.nonnegative()),
});

/** A keypad entry's inter-digit timeout; `dueAt` is the deadline of the entry as the check was armed. */
export const DigitsCheckSchema = z.object({ kind: z.literal('digits'), ...common });

/** Connection generation `gen` dropped; `dueAt` is the end of its grace. */
export const GraceCheckSchema = z.object({ kind: z.literal('grace'), ...common, gen: z.int().check(z.positive()) });

export const TimerCheckSchema = z.discriminatedUnion('kind', [SilenceCheckSchema, DigitsCheckSchema, GraceCheckSchema]);

export type SilenceCheck = z.infer<typeof SilenceCheckSchema>;
export type DigitsCheck = z.infer<typeof DigitsCheckSchema>;
export type GraceCheck = z.infer<typeof GraceCheckSchema>;
export type TimerCheck = z.infer<typeof TimerCheckSchema>;

/** Runs a check at (or soon after) its `dueAt`: an SQS delay queue in AWS, an in-process timer locally. */
export interface CallTimer {
  schedule(check: TimerCheck): Promise<void>;
}

export type ParsedCheck = { ok: true; check: TimerCheck } | { ok: false; detail: string };

/**
 * A check as it comes off the queue. A silence check queued before checks had a `kind` (the messages in flight
 * during a deploy) is still a silence check; anything else that does not match is refused with the reason.
 */
export function parseTimerCheck(body: string): ParsedCheck {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { ok: false, detail: 'not JSON' };
  }
  if (typeof data === 'object' && data !== null && !Array.isArray(data) && !('kind' in data)) data = { ...data, kind: 'silence' };
  const parsed = TimerCheckSchema.safeParse(data);
  return parsed.success ? { ok: true, check: parsed.data } : { ok: false, detail: parsed.error.message };
}

/** The local timer: the same checks, run in this process on the engine's clock. */
export function inProcessCallTimer(clock: Clock, run: (check: TimerCheck) => Promise<unknown>): CallTimer {
  return {
    async schedule(check) {
      clock.setTimer(Math.max(0, check.dueAt - clock.now()), () => void run(check).catch(() => undefined));
    },
  };
}

/**
 * A check handed to $default, where turns and the LLM are (a keypad entry's timeout, a reprompt the LLM phrases):
 * marked so the handler tells it from API Gateway's events.
 */
export const CALL_TIMER_EVENT = 'cr.call-timer';

export const TimerEventSchema = z.object({ source: z.literal(CALL_TIMER_EVENT), check: z.discriminatedUnion('kind', [DigitsCheckSchema, SilenceCheckSchema]) });
export type TimerEvent = z.infer<typeof TimerEventSchema>;
/** The checks that run in $default. */
export type EngineCheck = TimerEvent['check'];

export function isTimerEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { source?: unknown }).source === CALL_TIMER_EVENT;
}
