import type { PromptMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { runTurn } from '../turn.ts';
import { assembleUtterance } from '../utterance.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { loadCall, sessionIdFor } from './load-session.ts';

/**
 * The caller said something. A partial prompt (`last: false`) is only kept; the final one runs a turn with the
 * whole utterance. The one read before the LLM request is the conversation Query (plus, on a container's first
 * frame of a call, the connection pointer).
 */
export async function onPrompt(ctx: FrameContext, message: PromptMessage): Promise<FrameResult> {
  if (!message.last) {
    const sessionId = await sessionIdFor(ctx);
    if (!sessionId) return { kind: 'ignored' };
    await ctx.store
      .appendPartialPrompt(sessionId, message.voicePrompt)
      .catch((err: unknown) => ctx.log.error('partial prompt not kept', { error: err as Error }));
    return { kind: 'partial' };
  }
  const call = await loadCall(ctx);
  if (!call) return { kind: 'ignored' };
  if (call.session.status === 'ended') {
    ctx.log.warn('prompt for an ended session; ignored');
    return { kind: 'ignored' };
  }
  const userText = assembleUtterance(call.session.pendingPrompt, message.voicePrompt);
  if (!userText) {
    ctx.log.info('empty prompt; nothing to answer');
    return { kind: 'ignored' };
  }
  const end = await runTurn(ctx, {
    kind: 'prompt',
    connectionId: ctx.connectionId,
    session: call.session,
    messages: call.messages,
    promptReceivedAt: ctx.receivedAt,
    userText,
    source: 'speech',
    askLlm: true,
  });
  return { kind: 'turn', end };
}
