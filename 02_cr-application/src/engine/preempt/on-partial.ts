import { createIdFactory } from '../../../../layers/data/ids.ts';
import type { Conversation, Preemption } from '../../../../layers/data/index.ts';
import type { Ledger } from '../../../../layers/data/turn-ledger.ts';
import { historyRaced } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext, FrameResult } from '../messages/context.ts';
import { sessionIdFor } from '../messages/load-session.ts';
import { sleep } from '../ports.ts';
import { runSpeculativeTurn } from '../turn.ts';
import { comparable, endsSentence, utteranceSoFar, type MatchRule } from '../utterance.ts';

const newSpeculationId = createIdFactory();

/**
 * A partial prompt (`last: false`). It is kept in the ledger, stamped with when it arrived: a final prompt claims
 * the pieces that came before it, and a piece that arrives after that claim is dropped rather than prefixed to the
 * next utterance. With preemption on, a partial that is stable (it ends a sentence, or nothing newer came for
 * `stableAfterMs`) starts a speculative turn in this invocation, if the ledger agrees (engine/ledger/decide.ts).
 * Nothing here speaks: a partial never makes the caller hear a fallback line.
 */
export async function onPartialPrompt(ctx: FrameContext, text: string): Promise<FrameResult> {
  const sessionId = await sessionIdFor(ctx);
  if (!sessionId) return { kind: 'ignored' };
  let call: Conversation;
  try {
    // The session says whether to preempt; its ledger saves the partial's own read.
    call = await ctx.store.loadConversation(sessionId, ctx.config.maxHistoryMessages);
  } catch (err) {
    ctx.log.error('partial prompt not kept', { error: err as Error });
    return { kind: 'partial' };
  }
  const preemption = call.session.preemption?.enabled ? call.session.preemption : undefined;
  let ledger: Ledger;
  try {
    const known = { ledger: call.session.ledger, status: call.session.status };
    const outcome = await applyToLedger(ctx.store, sessionId, { type: 'partial', at: ctx.receivedAt, text, match: preemption?.match }, known);
    if (outcome.verdict.type === 'partial-late') {
      ctx.log.info('partial prompt arrived after its utterance was answered; dropped');
      return { kind: 'partial' };
    }
    ledger = outcome.ledger;
  } catch (err) {
    ctx.log.error('partial prompt not kept', { error: err as Error });
    return { kind: 'partial' };
  }
  if (!preemption || call.session.status === 'ended') return { kind: 'partial' };
  return speculateIfStable(ctx, sessionId, call, ledger, preemption);
}

async function speculateIfStable(ctx: FrameContext, sessionId: string, call: Conversation, ledger: Ledger, preemption: Preemption): Promise<FrameResult> {
  const soFar = (l: Ledger) => utteranceSoFar((l.partial ?? []).filter((p) => p.at <= ctx.receivedAt).map((p) => p.text));
  let utterance = soFar(ledger);
  const stableNow = preemption.stableOnSentenceEnd && endsSentence(utterance);
  // Otherwise stable once nothing newer came for a while; the ledger's speculate decision checks "nothing newer".
  if (!stableNow) await sleep(ctx.clock, preemption.stableAfterMs);
  const match: MatchRule = preemption.match;
  const speculationId = newSpeculationId();
  let decided: Ledger;
  try {
    const latest = stableNow ? { ledger, status: call.session.status } : await ctx.store.readLedger(sessionId);
    if (!latest || latest.status === 'ended') return { kind: 'partial' };
    utterance = soFar(latest.ledger);
    const outcome = await applyToLedger(
      ctx.store,
      sessionId,
      { type: 'speculate', id: speculationId, at: ctx.receivedAt, key: comparable(utterance, match), max: preemption.maxSpeculativeRequests },
      latest,
    );
    if (outcome.verdict.type !== 'speculating') {
      ctx.log.info('no speculation on this partial', { reason: outcome.verdict.type === 'speculation-refused' ? outcome.verdict.reason : outcome.verdict.type });
      return { kind: 'partial' };
    }
    decided = outcome.ledger;
  } catch (err) {
    ctx.log.warn('speculation not started', { error: err as Error });
    return { kind: 'partial' };
  }
  // The history read with the partial predates any commit since: read it again if the ledger moved on.
  let { messages } = call;
  let session = { ...call.session, ledger: decided };
  if (decided.turnCount !== session.ledger.turnCount || historyRaced(decided, messages.map((m) => m.messageId))) {
    try {
      ({ session, messages } = await ctx.store.loadConversation(sessionId, ctx.config.maxHistoryMessages));
    } catch (err) {
      ctx.log.warn('history re-read failed; the speculation steps aside', { error: err as Error });
      await applyToLedger(ctx.store, sessionId, { type: 'speculation-end', id: speculationId }).catch(() => undefined);
      return { kind: 'partial' };
    }
  }
  const end = await runSpeculativeTurn(ctx, {
    connectionId: ctx.connectionId,
    session,
    messages,
    partialAt: ctx.receivedAt,
    userText: utterance,
    speculationId,
    holdMs: preemption.holdMs,
  });
  return { kind: 'speculation', end };
}
