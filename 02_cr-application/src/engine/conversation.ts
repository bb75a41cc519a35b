import { parseInbound } from '../../../layers/protocol/conversation-relay.ts';
import type { FrameContext, FrameResult } from './messages/context.ts';
import { onConfigUpdated } from './messages/on-config-updated.ts';
import { onDtmf } from './messages/on-dtmf.ts';
import { onError } from './messages/on-error.ts';
import { onInfo } from './messages/on-info.ts';
import { onInterrupt } from './messages/on-interrupt.ts';
import { onPrompt } from './messages/on-prompt.ts';
import { onSetup } from './messages/on-setup.ts';

/**
 * One frame from Twilio, routed to the module for its type. A malformed frame, an unknown type or a missing field
 * is logged and ignored: the call goes on. Never throws.
 */
export async function handleFrame(ctx: FrameContext, raw: string | null | undefined): Promise<FrameResult> {
  const parsed = parseInbound(raw);
  if (!parsed.ok) {
    ctx.log.warn('inbound frame ignored', { reason: parsed.reason, ...('type' in parsed ? { frameType: parsed.type } : {}), ...('detail' in parsed ? { detail: parsed.detail } : {}) });
    return { kind: 'ignored' };
  }
  const message = parsed.message;
  try {
    switch (message.type) {
      case 'setup':
        return await onSetup(ctx, message);
      case 'prompt':
        return await onPrompt(ctx, message);
      case 'dtmf':
        return await onDtmf(ctx, message);
      case 'interrupt':
        return await onInterrupt(ctx, message);
      case 'error':
        return onError(ctx, message);
      case 'info':
        return await onInfo(ctx, message);
      case 'configUpdated':
        return await onConfigUpdated(ctx, message);
    }
  } catch (err) {
    ctx.log.error('frame handling failed', { error: err as Error, frameType: message.type });
    return { kind: 'ignored' };
  }
}
