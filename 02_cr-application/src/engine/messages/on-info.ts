import type { InfoMessage } from '../../../../layers/protocol/conversation-relay.ts';
import type { FrameContext, FrameResult } from './context.ts';

/** Debug information Twilio sends when the TwiML sets `debug`: kept in debug logs only. */
export function onInfo(ctx: FrameContext, message: InfoMessage): FrameResult {
  ctx.log.debug('ConversationRelay info', { info: message });
  return { kind: 'noted' };
}
