import type { ChatMessage, Session } from '../../../../layers/data/index.ts';
import { newMessageId as newId } from '../../../../layers/data/ids.ts';
import type { AppLogger } from '../../../../layers/observability/logger.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { Clock, ConnectionsEndpoint, Llm, Sink, Store } from '../ports.ts';
import type { CallTimer, EngineCheck, SilenceCheck } from './call-timer.ts';
import { PHRASING_CONTEXT_MESSAGES, phraseReprompt } from './reprompt-phrasing.ts';

/**
 * A silent caller: once the greeting or a reply has been spoken and the caller says nothing for `afterSeconds`, a
 * reprompt; after `reprompts` of them, a goodbye and the end of the call. The checks run on the call timer
 * (./call-timer.ts); whether one that fires still has something to do is decided by the turn ledger
 * (`silence-arm`, `silence-due`, and the speaker events `agent-speech` / `caller-speech` in
 * engine/ledger/decide.ts): any caller input clears the silence, so a stale check finds nothing and is dropped.
 */

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
  callTimer?: CallTimer | undefined;
  clock: Pick<Clock, 'now'>;
  log: AppLogger;
  endpoint: ConnectionsEndpoint;
}

/** When a reply's speech should end: text-to-speech starts with its first post and says it at speaking pace. */
export function spokenUntil(reply: SpokenReply & { firstPostedAt: number }): number {
  return Math.max(reply.firstPostedAt + speakingMs(reply.text), reply.lastPostedAt ?? 0);
}

/** After the greeting the caller heard in full: the silence counts from when its speech should end. Never throws. */
export async function armSilence(deps: ArmDeps, session: Session, reply: SpokenReply): Promise<void> {
  const settings = session.silence;
  const timer = deps.callTimer;
  if (!settings || !timer || reply.firstPostedAt === undefined) return;
  try {
    const afterMs = settings.afterSeconds * 1000;
    const dueAt = spokenUntil({ ...reply, firstPostedAt: reply.firstPostedAt }) + afterMs;
    const { verdict } = await applyToLedger(deps.store, session.sessionId, { type: 'silence-arm', turn: reply.turn, dueAt, afterMs });
    if (verdict.type !== 'silence-armed') return;
    await timer.schedule({ kind: 'silence', sessionId: session.sessionId, turn: reply.turn, round: 0, dueAt: verdict.dueAt, endpoint: deps.endpoint });
  } catch (err) {
    deps.log.warn('silence timer not armed; the call goes on without it', { error: err as Error });
  }
}

/**
 * The greeting is said by ConversationRelay as the socket opens (`setup` arrives then): a caller who never answers
 * it is reprompted like one who goes quiet after a reply. Turn 0 is the greeting; the ledger arms it only while no
 * turn has started. The greeting is the newest assistant message of a call that has not had a turn yet (a resumed
 * call's greeting closes the history it carried over).
 */
export async function armAfterGreeting(deps: ArmDeps, session: Session, messages: readonly ChatMessage[], setupAt: number): Promise<void> {
  if (!session.silence || !deps.callTimer || session.ledger.turnCount > 0) return;
  const greeting = [...messages].reverse().find((m) => m.role === 'assistant' && typeof m.content === 'string' && m.content.trim());
  await armSilence(deps, session, { turn: 0, text: greeting?.content ?? '', firstPostedAt: setupAt });
}

/** A speaker event refined when the agent stopped speaking: the check moves to the new due time. */
export async function moveSilenceCheck(deps: Pick<ArmDeps, 'callTimer' | 'endpoint'>, sessionId: string, moved: { turn: number; round: number; dueAt: number }): Promise<void> {
  await deps.callTimer?.schedule({ kind: 'silence', sessionId, turn: moved.turn, round: moved.round, dueAt: moved.dueAt, endpoint: deps.endpoint });
}

export interface SilenceDeps {
  store: Pick<Store, 'loadConversation' | 'readLedger' | 'compareAndSetLedger' | 'appendMessages' | 'endSession'>;
  sinkFor: (endpoint: ConnectionsEndpoint) => Sink;
  timer: CallTimer;
  clock: Clock;
  log: AppLogger;
  /** Phrases reprompts for a use case that asks for it ($default has it; the timer's consumer does not). */
  llm?: Llm | undefined;
  /** Hands a check to $default, where the LLM is: the consumer's way to a phrased reprompt. */
  runInEngine?: ((check: EngineCheck) => Promise<unknown>) | undefined;
}

export type SilenceOutcome = 'cancelled' | 'rescheduled' | 'reprompted' | 'hung-up' | 'forwarded';

/** What the call's `end` carries when silence ended it: the goodbye was said, Twilio only has to hang up. */
export const SILENCE_HANDOFF = { reason: 'silence', goodbyeSaid: true } as const;

/** A silence check is due: a reprompt, the goodbye, or nothing when the caller has spoken since. */
export async function onSilenceDue(deps: SilenceDeps, check: SilenceCheck): Promise<SilenceOutcome> {
  const { store, clock, log } = deps;
  const { session } = await store.loadConversation(check.sessionId, 1);
  const settings = session.silence;
  if (!settings || session.status === 'ended') return 'cancelled';
  if (settings.llmPhrasing && !deps.llm && deps.runInEngine) {
    await deps.runInEngine(check);
    return 'forwarded';
  }
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
      let said = line;
      if (settings.llmPhrasing && deps.llm) {
        // The conversation so far is read only now, for a reprompt that is really due.
        const { messages } = await store.loadConversation(check.sessionId, PHRASING_CONTEXT_MESSAGES * 2);
        said = (await phraseReprompt({ llm: deps.llm, clock, log }, session, messages, settings.llmPhrasing, line)).text;
        // The phrasing took a moment: a caller who spoke meanwhile cleared the silence, and is not talked over.
        const now = await store.readLedger(check.sessionId);
        if (now?.ledger.silence?.turn !== check.turn || now.ledger.silence.round !== verdict.round) return 'cancelled';
      }
      const posted = await sink.post(verdict.connectionId, { type: 'text', token: said, last: true });
      log.info('silent caller reprompted', { round: verdict.round, posted: posted.status });
      await remember(store, check, said);
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
