import type { ConfigUpdatedMessage } from '../../../../layers/protocol/conversation-relay.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { sessionIdFor } from './load-session.ts';

/**
 * Twilio confirms that a `config` frame of ours took effect. Nothing waits on it: it is logged and recorded on
 * the session as sent (its fields are not pinned down), next to what we asked for, for whoever looks at the call.
 */
export async function onConfigUpdated(ctx: FrameContext, message: ConfigUpdatedMessage): Promise<FrameResult> {
  const { type: _type, ...fields } = message;
  ctx.log.info('call settings updated', { fields });
  const sessionId = await sessionIdFor(ctx);
  if (!sessionId) return { kind: 'ignored' };
  try {
    await ctx.store.updateSession(sessionId, { configConfirmed: { fields, at: new Date(ctx.receivedAt).toISOString() } });
  } catch (err) {
    ctx.log.error('configUpdated not recorded', { error: err as Error });
  }
  return { kind: 'noted' };
}
