import { digitEntryText } from '../../../../layers/data/digit-entry.ts';
import type { Session } from '../../../../layers/data/index.ts';
import type { PromptMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import { replayedTurn } from '../ledger/decide.ts';
import { armAfterTurn } from '../continuity/after-turn.ts';
import { adoptSpeculation } from '../preempt/adopt.ts';
import { onPartialPrompt } from '../preempt/on-partial.ts';
import { runTurn } from '../turn.ts';
import { assembleUtterance } from '../utterance.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { loadCall } from './load-session.ts';

/**
 * The caller said something. A partial prompt (`last: false`) is kept in the ledger and may start a speculative
 * turn (engine/preempt/on-partial.ts). The final prompt takes over a speculative turn that answered the same
 * words, or else runs a turn with the whole utterance. The one read before the LLM request is the conversation
 * read (plus, on a container's first frame of a call, the connection pointer).
 */
export async function onPrompt(ctx: FrameContext, message: PromptMessage): Promise<FrameResult> {
  if (!message.last) return onPartialPrompt(ctx, cap(ctx, message.voicePrompt));
  const call = await loadCall(ctx);
  if (!call) return { kind: 'ignored' };
  if (call.session.status === 'ended') {
    ctx.log.warn('prompt for an ended session; ignored');
    return { kind: 'ignored' };
  }
  const pieces = (call.session.ledger.partial ?? []).filter((p) => p.at < ctx.receivedAt).map((p) => p.text);
  const entry = call.session.ledger.digits ? await endDigitEntry(ctx, call.sessionId, call.session) : undefined;
  const userText = cap(ctx, [entry, assembleUtterance(pieces, message.voicePrompt)].filter(Boolean).join(' '));
  if (!userText) {
    ctx.log.info('empty prompt; nothing to answer');
    return { kind: 'ignored' };
  }
  // Twilio replays buffered frames after a reconnect: one already answered costs no LLM request (its claim would
  // refuse it anyway).
  const replayOf = replayedTurn(call.session.ledger, ctx.receivedAt, userText);
  if (replayOf !== undefined) {
    ctx.log.info('prompt replayed after a reconnect was already answered; ignored', { turn: replayOf });
    return { kind: 'ignored' };
  }
  const adopted = await adoptSpeculation(ctx, call.sessionId, call.session, userText);
  if (adopted) return adopted;
  const end = await runTurn(ctx, {
    kind: 'prompt',
    connectionId: ctx.connectionId,
    session: call.session,
    messages: call.messages,
    promptReceivedAt: ctx.receivedAt,
    userText,
    source: 'speech',
    askLlm: true,
    lang: message.lang,
  });
  await armAfterTurn(ctx, call.session, end);
  return { kind: 'turn', end };
}

/** The caller spoke during a keypad entry: the entry ends, and what was typed leads the utterance. */
async function endDigitEntry(ctx: FrameContext, sessionId: string, session: Session): Promise<string | undefined> {
  try {
    const known = { ledger: session.ledger, status: session.status };
    const { verdict, ledger } = await applyToLedger(ctx.store, sessionId, { type: 'digits-check', at: ctx.receivedAt, spoke: true }, known);
    session.ledger = ledger;
    return verdict.type === 'digits-complete' ? digitEntryText(verdict.spec, verdict.digits, verdict.reason) : undefined;
  } catch (err) {
    ctx.log.error('keypad entry not ended', { error: err as Error });
    return undefined;
  }
}

/** One caller must not be able to send the LLM (and the table) a book: long utterances are cut, and the cut logged. */
function cap(ctx: FrameContext, text: string): string {
  const max = ctx.config.maxUtteranceChars;
  if (text.length <= max) return text;
  ctx.log.warn('utterance cut to the configured maximum', { chars: text.length, maxUtteranceChars: max });
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return space > max * 0.8 ? cut.slice(0, space) : cut;
}
