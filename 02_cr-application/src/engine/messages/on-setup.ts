import type { SetupMessage } from '../../../../layers/protocol/conversation-relay.ts';
import type { FrameContext, FrameResult } from './context.ts';

/**
 * `setup` opens every call. The session was written at call setup and bound at $connect, so nothing is stored
 * here; the call SID joins the log keys so every later line of this invocation names the call.
 */
export function onSetup(ctx: FrameContext, message: SetupMessage): FrameResult {
  ctx.log.appendKeys({ callSid: message.callSid });
  ctx.log.info('call set up', { twilioSessionId: message.sessionId, direction: message.direction, callStatus: message.callStatus });
  return { kind: 'noted' };
}
