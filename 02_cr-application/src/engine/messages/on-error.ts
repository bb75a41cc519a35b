import type { ErrorMessage } from '../../../../layers/protocol/conversation-relay.ts';
import type { FrameContext, FrameResult } from './context.ts';

/** Twilio reports a problem on its side (often a frame of ours it rejected): logged for the on-call engineer. */
export function onError(ctx: FrameContext, message: ErrorMessage): FrameResult {
  ctx.log.error('ConversationRelay reported an error', { description: message.description });
  return { kind: 'noted' };
}
