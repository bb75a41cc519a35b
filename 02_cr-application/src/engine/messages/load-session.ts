import type { Conversation, Session } from '../../../../layers/data/index.ts';
import { withNotes } from '../ledger/decide.ts';
import type { FrameContext } from './context.ts';
import { sayFallback } from './spoken-fallback.ts';

export type LoadedCall = { sessionId: string; session: Session; messages: Conversation['messages'] };

/**
 * The session a frame belongs to (cached pointer) and its conversation (one Query). On a table failure the
 * caller hears the fallback line; a frame from a connection we never bound is ignored.
 */
export async function loadCall(ctx: FrameContext): Promise<LoadedCall | undefined> {
  let sessionId: string | undefined;
  try {
    sessionId = await ctx.directory.sessionFor(ctx.connectionId);
    if (!sessionId) {
      ctx.log.warn('frame from a connection bound to no session; ignored');
      return undefined;
    }
    ctx.log.appendKeys({ sessionId });
    const conversation = await ctx.store.loadConversation(sessionId, ctx.config.maxHistoryMessages);
    ctx.log.appendKeys({ callSid: conversation.session.callSid });
    // An interrupt whose ledger write has not landed yet already counts (its note is on the same item).
    const session = { ...conversation.session, ledger: withNotes(conversation.session.ledger) };
    return { sessionId, session, messages: conversation.messages };
  } catch (err) {
    ctx.log.error('could not load the conversation', { error: err as Error, sessionId });
    await sayFallback(ctx);
    return undefined;
  }
}

export async function sessionIdFor(ctx: FrameContext): Promise<string | undefined> {
  try {
    const sessionId = await ctx.directory.sessionFor(ctx.connectionId);
    if (sessionId) ctx.log.appendKeys({ sessionId });
    else ctx.log.warn('frame from a connection bound to no session; ignored');
    return sessionId;
  } catch (err) {
    ctx.log.error('could not read the connection pointer', { error: err as Error });
    return undefined;
  }
}
