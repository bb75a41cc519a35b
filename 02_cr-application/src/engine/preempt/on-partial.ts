import { createIdFactory } from '../../../../layers/data/ids.ts';
import type { Conversation, Preemption } from '../../../../layers/data/index.ts';
import type { Ledger, LedgerRead } from '../../../../layers/data/turn-ledger.ts';
import { decideAll, historyRaced, type LedgerEvent } from '../ledger/decide.ts';
import { applyAllToLedger, applyToLedger } from '../ledger/ledger-client.ts';
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
  const preemption = call.session.preemption?.enabled && call.session.status !== 'ended' ? call.session.preemption : undefined;
  const partial: LedgerEvent = { type: 'partial', at: ctx.receivedAt, text, match: preemption?.match };
  const known = { ledger: call.session.ledger, status: call.session.status };
  // A partial that ends a sentence is stable at once: keeping it and starting its speculation is one write.
  const speculationId = newSpeculationId();
  const soFar = (l: Ledger, extra: { at: number; text: string }[] = []) =>
    utteranceSoFar([...(l.partial ?? []), ...extra].filter((p) => p.at <= ctx.receivedAt).sort((a, b) => a.at - b.at).map((p) => p.text));
  const atOnce = preemption?.stableOnSentenceEnd === true && endsSentence(soFar(call.session.ledger, [{ at: ctx.receivedAt, text }]));
  const speculate = (l: Ledger, withPartial: boolean): LedgerEvent => ({
    type: 'speculate',
    id: speculationId,
    at: ctx.receivedAt,
    key: comparable(soFar(l, withPartial ? [{ at: ctx.receivedAt, text }] : []), preemption?.match),
    max: preemption?.maxSpeculativeRequests ?? 0,
  });
  let ledger: Ledger;
  let status: string = call.session.status;
  try {
    const outcome = await applyAllToLedger(ctx.store, sessionId, [partial], known, (l) => decideAll(l, atOnce ? [partial, speculate(l, true)] : [partial]));
    if (outcome.verdicts[0]?.type === 'partial-late') {
      ctx.log.info('partial prompt arrived after its utterance was answered; dropped');
      return { kind: 'partial' };
    }
    ledger = outcome.ledger;
    status = outcome.status;
    if (!preemption) return { kind: 'partial' };
    if (!atOnce) {
      // Stable once nothing newer came for a while; the ledger's speculate decision checks "nothing newer".
      await sleep(ctx.clock, preemption.stableAfterMs);
      const latest = await ctx.store.readLedger(sessionId);
      if (!latest || latest.status === 'ended') return { kind: 'partial' };
      const decided = await applyToLedger(ctx.store, sessionId, speculate(latest.ledger, false), latest);
      outcome.verdicts[1] = decided.verdict;
      ledger = decided.ledger;
    }
    const verdict = outcome.verdicts[1];
    if (verdict?.type !== 'speculating') {
      ctx.log.info('no speculation on this partial', { reason: verdict?.type === 'speculation-refused' ? verdict.reason : verdict?.type });
      return { kind: 'partial' };
    }
  } catch (err) {
    ctx.log.error(preemption ? 'partial prompt not kept, or its speculation not started' : 'partial prompt not kept', { error: err as Error });
    return { kind: 'partial' };
  }
  return runSpeculation(ctx, sessionId, call, { ledger, status }, speculationId, soFar(ledger), preemption);
}

async function runSpeculation(ctx: FrameContext, sessionId: string, call: Conversation, decided: LedgerRead, speculationId: string, utterance: string, preemption: Preemption): Promise<FrameResult> {
  // The history read with the partial predates any commit since: read it again if the ledger moved on.
  let { messages } = call;
  let session = { ...call.session, ledger: decided.ledger };
  if (decided.ledger.turnCount !== call.session.ledger.turnCount || historyRaced(decided.ledger, messages.map((m) => m.messageId))) {
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
