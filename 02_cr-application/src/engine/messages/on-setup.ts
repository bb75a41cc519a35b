import type { SetupMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { armAfterGreeting } from '../continuity/silence.ts';
import type { FrameContext, FrameResult } from './context.ts';

/** The greeting is the newest message of a call that has not had a turn: a few messages are enough to find it. */
const GREETING_READ = 4;

/**
 * `setup` opens every call. The session was written at call setup and bound at $connect, so nothing is stored
 * here; the call SID joins the log keys so every later line of this invocation names the call. The caller has
 * not spoken yet, so this is the moment to resolve the connection's session into the container's directory: the
 * first prompt handled by this container then makes its one Query only. ConversationRelay says the greeting as
 * the socket opens: when the use case handles silence, a caller who never answers it is reprompted too.
 */
export async function onSetup(ctx: FrameContext, message: SetupMessage): Promise<FrameResult> {
  ctx.log.appendKeys({ callSid: message.callSid });
  ctx.log.info('call set up', { twilioSessionId: message.sessionId, direction: message.direction, callStatus: message.callStatus });
  let sessionId: string | undefined;
  try {
    sessionId = await ctx.directory.sessionFor(ctx.connectionId);
  } catch (err) {
    // Only a warm-up: the first prompt reads the pointer itself if this failed.
    ctx.log.warn('could not resolve the session at setup', { error: err as Error });
  }
  if (sessionId && ctx.callTimer) {
    try {
      const { session, messages } = await ctx.store.loadConversation(sessionId, GREETING_READ);
      await armAfterGreeting(ctx, session, messages, ctx.receivedAt);
    } catch (err) {
      ctx.log.warn('silence after the greeting not armed', { error: err as Error });
    }
  }
  return { kind: 'noted' };
}
