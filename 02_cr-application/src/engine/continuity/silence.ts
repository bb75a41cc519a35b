// zod/mini: this module is part of $default, whose cold start pays for classic zod at import.
import * as z from 'zod/mini';
import type { ChatMessage, Session } from '../../../../layers/data/index.ts';
import { createIdFactory } from '../../../../layers/data/ids.ts';
import type { AppLogger } from '../../../../layers/observability/logger.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext } from '../messages/context.ts';
import type { Clock, ConnectionsEndpoint, Sink, Store } from '../ports.ts';
import type { TurnEnd } from '../turn.ts';

/**
 * A silent caller: once a reply has been spoken and the caller says nothing for `afterSeconds`, a reprompt; after
 * `reprompts` of them, a goodbye and the end of the call. Whether a timer that fires still has something to do is
 * decided by the turn ledger (`silence-arm` and `silence-due` in engine/ledger/decide.ts): any caller input clears
 * the silence, so a stale timer finds nothing and is dropped. There is nothing to cancel.
 */

/** One pending silence check: plain JSON, so it can wait in a queue. */
export const SilenceCheckSchema = z.object({
  sessionId: z.string().check(z.minLength(1)),
  turn: z.int().check(z.nonnegative()),
  round: z.int().check(z.nonnegative()),
  dueAt: z.number(),
  endpoint: z.object({ domainName: z.optional(z.string()), stage: z.optional(z.string()) }),
});
export type SilenceCheck = z.infer<typeof SilenceCheckSchema>;

/** Runs a silence check at (or soon after) its `dueAt`: an SQS delay queue in AWS, an in-process timer locally. */
export interface SilenceTimer {
  schedule(check: SilenceCheck): Promise<void>;
}

/**
 * Speaking pace used to estimate when text-to-speech finishes a reply: about 150 words a minute, 6 characters a
 * word with its space. Erring long only delays a reprompt; erring short would talk over the end of the reply.
 */
export const SPEAKING_CHARS_PER_SECOND = 15;

export function speakingMs(text: string): number {
  return Math.ceil((text.trim().length / SPEAKING_CHARS_PER_SECOND) * 1000);
}

export interface SpokenReply {
  turn: number;
  /** Everything the turn said. */
  text: string;
  /** When its first words were posted (speech starts then); absent when nothing was posted. */
  firstPostedAt?: number | undefined;
  lastPostedAt?: number | undefined;
}

export interface ArmDeps {
  store: Pick<Store, 'readLedger' | 'compareAndSetLedger'>;
  timer: SilenceTimer | undefined;
  clock: Pick<Clock, 'now'>;
  log: AppLogger;
}

/** After a reply the caller heard in full: the silence counts from when its speech should end. Never throws. */
export async function armSilence(deps: ArmDeps, session: Session, reply: SpokenReply, endpoint: ConnectionsEndpoint): Promise<void> {
  const settings = session.silence;
  if (!settings || !deps.timer || reply.firstPostedAt === undefined) return;
  try {
    const spokenUntil = Math.max(reply.firstPostedAt + speakingMs(reply.text), reply.lastPostedAt ?? 0);
    const dueAt = spokenUntil + settings.afterSeconds * 1000;
    const { verdict } = await applyToLedger(deps.store, session.sessionId, { type: 'silence-arm', turn: reply.turn, dueAt });
    if (verdict.type !== 'silence-armed') return;
    await deps.timer.schedule({ sessionId: session.sessionId, turn: reply.turn, round: 0, dueAt: verdict.dueAt, endpoint });
  } catch (err) {
    deps.log.warn('silence timer not armed; the call goes on without it', { error: err as Error });
  }
}

/** After a turn a frame ran: a reply that ended normally arms the silence timer. */
export async function armAfterTurn(ctx: FrameContext, session: Session, end: TurnEnd): Promise<void> {
  if (end.handedOff || end.record.outcome !== 'completed' || !ctx.silenceTimer) return;
  const { record } = end;
  await armSilence(
    { store: ctx.store, timer: ctx.silenceTimer, clock: ctx.clock, log: ctx.log },
    session,
    { turn: record.turn, text: end.spoken, firstPostedAt: record.firstTokenPostedAt, lastPostedAt: record.lastTokenPostedAt },
    ctx.endpoint,
  );
}

export interface SilenceDeps {
  store: Pick<Store, 'loadConversation' | 'readLedger' | 'compareAndSetLedger' | 'appendMessages' | 'endSession'>;
  sinkFor: (endpoint: ConnectionsEndpoint) => Sink;
  timer: SilenceTimer;
  clock: Pick<Clock, 'now'>;
  log: AppLogger;
}

export type SilenceOutcome = 'cancelled' | 'rescheduled' | 'reprompted' | 'hung-up';

/** What the call's `end` carries when silence ended it: the goodbye was said, Twilio only has to hang up. */
export const SILENCE_HANDOFF = { reason: 'silence', goodbyeSaid: true } as const;

const newId = createIdFactory();

/** A silence check is due: a reprompt, the goodbye, or nothing when the caller has spoken since. */
export async function onSilenceDue(deps: SilenceDeps, check: SilenceCheck): Promise<SilenceOutcome> {
  const { store, clock, log } = deps;
  const { session } = await store.loadConversation(check.sessionId, 1);
  const settings = session.silence;
  if (!settings || session.status === 'ended') return 'cancelled';
  const at = clock.now();
  const line = settings.lines[Math.min(check.round, settings.lines.length - 1)] as string;
  const nextDueAt = at + speakingMs(line) + settings.afterSeconds * 1000;
  const { verdict } = await applyToLedger(
    store,
    check.sessionId,
    { type: 'silence-due', turn: check.turn, round: check.round, at, maxReprompts: settings.reprompts, nextDueAt },
    { ledger: session.ledger, status: session.status },
  );
  const sink = deps.sinkFor(check.endpoint);
  switch (verdict.type) {
    case 'silence-not-yet':
      await deps.timer.schedule({ ...check, dueAt: verdict.dueAt });
      return 'rescheduled';
    case 'reprompt': {
      const posted = await sink.post(verdict.connectionId, { type: 'text', token: line, last: true });
      log.info('silent caller reprompted', { round: verdict.round, posted: posted.status });
      await remember(store, check, line);
      await deps.timer.schedule({ ...check, round: verdict.round, dueAt: verdict.dueAt });
      return 'reprompted';
    }
    case 'silence-hang-up': {
      const handoffData = JSON.stringify(SILENCE_HANDOFF);
      await sink.post(verdict.connectionId, { type: 'text', token: settings.goodbye, last: true });
      const ended = await sink.post(verdict.connectionId, { type: 'end', handoffData });
      log.info('silent caller: goodbye and hang-up', { posted: ended.status });
      await remember(store, check, settings.goodbye);
      await store.endSession(check.sessionId, 'silence', { handoffData });
      return 'hung-up';
    }
    default:
      return 'cancelled';
  }
}

/** The agent's line joins the history, so the LLM knows it asked whether the caller was still there. */
async function remember(store: Pick<Store, 'appendMessages'>, check: SilenceCheck, line: string): Promise<ChatMessage[]> {
  return store.appendMessages(check.sessionId, [{ messageId: newId(), role: 'assistant', content: line, turn: check.turn }]);
}

/** The local timer: the same checks, run in this process on the engine's clock. */
export function inProcessSilenceTimer(clock: Clock, run: (check: SilenceCheck) => Promise<unknown>): SilenceTimer {
  return {
    async schedule(check) {
      clock.setTimer(Math.max(0, check.dueAt - clock.now()), () => void run(check).catch(() => undefined));
    },
  };
}
