import { ConditionFailedError } from '../../../../layers/data/errors.ts';
import { createIdFactory } from '../../../../layers/data/ids.ts';
import type { ChatMessage, Conversation, Preemption } from '../../../../layers/data/index.ts';
import type { Ledger, LedgerRead } from '../../../../layers/data/turn-ledger.ts';
import { armAfterTurn } from '../continuity/after-turn.ts';
import { decideAll, historyRaced, type LedgerEvent } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext, FrameResult } from '../messages/context.ts';
import { sessionIdFor } from '../messages/load-session.ts';
import { sleep } from '../ports.ts';
import { runSpeculativeTurn } from '../turn.ts';
import { comparable, endsSentence, utteranceSoFar } from '../utterance.ts';

const newSpeculationId = createIdFactory();

/**
 * A partial prompt (`last: false`). It is kept in the ledger, stamped with when it arrived: a final prompt claims
 * the pieces that came before it, and a piece that arrives after that claim is dropped rather than prefixed to the
 * next utterance. With preemption on, a partial that is stable (it ends a sentence, or nothing newer came for
 * `stableAfterMs`) starts a speculative turn in this invocation when the ledger allows one
 * (engine/ledger/decide.ts). Nothing here speaks: a partial never makes the caller hear a fallback line.
 *
 * As with a claim, the speculation's ledger write goes out once its LLM request is on the wire: decided on the
 * ledger just read, written at that version in one compare-and-set. Lost (anything changed meanwhile: a newer
 * partial, the final prompt, an interrupt), the speculation is dropped before it could say or do anything, and the
 * partial is kept by an ordinary write.
 */
export async function onPartialPrompt(ctx: FrameContext, text: string): Promise<FrameResult> {
  const sessionId = await sessionIdFor(ctx);
  if (!sessionId) return { kind: 'ignored' };
  let call: Conversation;
  try {
    // The session says whether to preempt, and its history is what a speculation asks with.
    call = await ctx.store.loadConversation(sessionId, ctx.config.maxHistoryMessages);
  } catch (err) {
    ctx.log.error('partial prompt not kept', { error: err as Error });
    return { kind: 'partial' };
  }
  const preemption = call.session.preemption?.enabled && call.session.status !== 'ended' ? call.session.preemption : undefined;
  const partial: LedgerEvent = { type: 'partial', at: ctx.receivedAt, text, match: preemption?.match };
  const read: LedgerRead = { ledger: call.session.ledger, status: call.session.status };
  const mine = { at: ctx.receivedAt, text };
  const soFar = (l: Ledger, extra: (typeof mine)[] = []) =>
    utteranceSoFar([...(l.partial ?? []), ...extra].filter((p) => p.at <= ctx.receivedAt).sort((a, b) => a.at - b.at).map((p) => p.text));

  // Stable at once: the partial and its speculation go in one write, after the speculative request.
  if (preemption?.stableOnSentenceEnd && endsSentence(soFar(read.ledger, [mine]))) {
    const utterance = soFar(read.ledger, [mine]);
    const started = await speculate(ctx, sessionId, call, read, [partial], utterance, preemption);
    if (started) return started;
    return keepPartial(ctx, sessionId, partial, read);
  }
  const kept = await keepPartial(ctx, sessionId, partial, read);
  if (!preemption || kept.kind !== 'partial') return kept;
  // Stable once nothing newer came for a while; the ledger's speculate decision checks "nothing newer".
  await sleep(ctx.clock, preemption.stableAfterMs);
  let latest: Conversation;
  try {
    latest = await ctx.store.loadConversation(sessionId, ctx.config.maxHistoryMessages);
  } catch (err) {
    ctx.log.warn('no speculation: the conversation could not be read', { error: err as Error });
    return { kind: 'partial' };
  }
  if (latest.session.status === 'ended') return { kind: 'partial' };
  return (await speculate(ctx, sessionId, latest, { ledger: latest.session.ledger, status: latest.session.status }, [], soFar(latest.session.ledger), preemption)) ?? { kind: 'partial' };
}

/** Keeps the partial in the ledger (an ordinary write, retried on a lost race). */
async function keepPartial(ctx: FrameContext, sessionId: string, partial: LedgerEvent, known?: LedgerRead): Promise<FrameResult & { kind: 'partial' | 'ignored' }> {
  try {
    const { verdict } = await applyToLedger(ctx.store, sessionId, partial, known);
    if (verdict.type === 'partial-late') {
      ctx.log.info('partial prompt arrived after its utterance was answered; dropped');
      return { kind: 'ignored' };
    }
  } catch (err) {
    ctx.log.error('partial prompt not kept', { error: err as Error });
  }
  return { kind: 'partial' };
}

/**
 * Runs a speculative turn if the ledger read allows one (undefined otherwise: nothing was written). `before` are
 * events written together with the speculation (the partial itself, when it is stable at once).
 */
async function speculate(
  ctx: FrameContext,
  sessionId: string,
  call: Conversation,
  read: LedgerRead,
  before: LedgerEvent[],
  utterance: string,
  preemption: Preemption,
): Promise<FrameResult | undefined> {
  const speculationId = newSpeculationId();
  const event: LedgerEvent = {
    type: 'speculate',
    id: speculationId,
    at: ctx.receivedAt,
    key: comparable(utterance, preemption.match),
    max: preemption.maxSpeculativeRequests,
  };
  const { next, verdicts } = decideAll(read.ledger, [...before, event]);
  const verdict = verdicts.at(-1);
  if (!next || verdict?.type !== 'speculating') {
    if (verdict?.type === 'speculation-refused') ctx.log.info('no speculation on this partial', { reason: verdict.reason });
    return undefined;
  }
  // A history read that raced a commit would leave that turn out of the speculative request.
  if (historyRaced(read.ledger, call.messages.map((m: ChatMessage) => m.messageId))) return undefined;
  const register = async (): Promise<boolean> => {
    try {
      await ctx.store.compareAndSetLedger(sessionId, read.ledger.v, next);
      return true;
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) ctx.log.warn('speculation not registered in the turn ledger', { error: err as Error });
      else ctx.log.info('the turn ledger moved on before the speculation was registered; dropping it');
      if (before.length > 0) await keepPartial(ctx, sessionId, before[0]!);
      return false;
    }
  };
  const end = await runSpeculativeTurn(ctx, {
    connectionId: ctx.connectionId,
    session: { ...call.session, ledger: next },
    messages: call.messages,
    partialAt: ctx.receivedAt,
    userText: utterance,
    speculationId,
    holdMs: preemption.holdMs,
    register,
  });
  // Adopted, it was the turn: the caller's silence after its reply counts as after any other.
  if (!('dropped' in end)) await armAfterTurn(ctx, call.session, end);
  return { kind: 'speculation', end };
}
