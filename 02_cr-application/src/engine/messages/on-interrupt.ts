import type { InterruptMessage } from '../../../../layers/protocol/conversation-relay.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { sessionIdFor } from './load-session.ts';

/**
 * The caller cut in: only `utteranceUntilInterrupt` was heard. One conditional write marks the turn that owns
 * the reply as interrupted; if that turn is still streaming (another invocation), it sees the mark, stops and
 * stores the heard text itself. If its reply was already stored, the stored message is rewritten here.
 */
export async function onInterrupt(ctx: FrameContext, message: InterruptMessage): Promise<FrameResult> {
  const sessionId = await sessionIdFor(ctx);
  if (!sessionId) return { kind: 'ignored' };
  const heard = message.utteranceUntilInterrupt;
  try {
    const recorded = await ctx.store.recordInterrupt(sessionId, heard);
    if (!recorded) {
      ctx.log.info('interrupt before any reply (welcome greeting); nothing to rewrite');
      return { kind: 'interrupt' };
    }
    ctx.log.appendKeys({ turn: recorded.turn });
    if (recorded.replyState === 'done') {
      const reply = await ctx.store.lastAssistantReply(sessionId, recorded.turn);
      if (reply && reply.content !== heard) await ctx.store.truncateToHeard(sessionId, reply.messageId, heard);
    }
    ctx.log.info('caller interrupted', { replyState: recorded.replyState, heardChars: heard.length, durationMs: message.durationUntilInterruptMs });
  } catch (err) {
    ctx.log.error('interrupt not recorded', { error: err as Error });
  }
  return { kind: 'interrupt' };
}
