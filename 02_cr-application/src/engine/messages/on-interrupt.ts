import type { InterruptMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { heardReply } from '../ledger/heard.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { sessionIdFor } from './load-session.ts';

/**
 * The caller cut in, having heard `utteranceUntilInterrupt` of the reply that was playing. The ledger records it
 * on the turn whose reply that was (the newest turn whose prompt came before this frame: a newer prompt may be
 * claimed already), once per turn. A turn still streaming sees it on its next ledger read, stops, and stores only
 * what was heard; a reply already committed is rewritten here (and, until it is, the next turn applies the heard
 * text to its own read of the history).
 */
export async function onInterrupt(ctx: FrameContext, message: InterruptMessage): Promise<FrameResult> {
  const sessionId = await sessionIdFor(ctx);
  if (!sessionId) return { kind: 'ignored' };
  const heard = message.utteranceUntilInterrupt;
  const heardMs = message.durationUntilInterruptMs;
  try {
    const { verdict } = await applyToLedger(ctx.store, sessionId, { type: 'interrupt', at: ctx.receivedAt, heard, heardMs });
    if (verdict.type === 'interrupt-ignored') {
      ctx.log.info('interrupt changes nothing', { reason: verdict.reason });
      return { kind: 'interrupt' };
    }
    if (verdict.type !== 'interrupt-recorded') return { kind: 'interrupt' };
    ctx.log.appendKeys({ turn: verdict.turn });
    ctx.log.info('caller interrupted', { committed: verdict.rewrite !== undefined, heardChars: heard.length, durationMs: heardMs });
    const rewrite = verdict.rewrite;
    if (rewrite) {
      const reply = await ctx.store.getMessage(sessionId, rewrite.replyMessageId);
      if (reply?.role === 'assistant' && reply.content !== null) {
        await ctx.store.rewriteHeard(sessionId, reply.messageId, heardReply(rewrite.spokenBefore, reply.content, rewrite.heard, rewrite.heardMs));
      }
      await applyToLedger(ctx.store, sessionId, { type: 'heard-applied', turn: verdict.turn });
    }
  } catch (err) {
    ctx.log.error('interrupt not recorded', { error: err as Error });
  }
  return { kind: 'interrupt' };
}
