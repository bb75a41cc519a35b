import { keypadAction } from '../../../../layers/data/use-case-config.ts';
import type { DtmfMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { armAfterTurn } from '../continuity/silence.ts';
import { runTurn } from '../turn.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { loadCall } from './load-session.ts';

/**
 * The caller pressed a key. The use case's keypad map says what it means: a line to say and/or a tool the LLM
 * must call. It is a turn like any other (history, turn record); a key with no meaning is ignored.
 */
export async function onDtmf(ctx: FrameContext, message: DtmfMessage): Promise<FrameResult> {
  const call = await loadCall(ctx);
  if (!call) return { kind: 'ignored' };
  const action = keypadAction(call.session.dtmfMap, message.digit);
  if (!action) {
    ctx.log.info('key with no keypad action; ignored', { digit: message.digit });
    return { kind: 'ignored' };
  }
  const forcedTool = action.tool && call.session.tools.some((t) => t.name === action.tool) ? action.tool : undefined;
  if (action.tool && !forcedTool) ctx.log.warn('keypad action names a tool this call does not have', { tool: action.tool });
  const end = await runTurn(ctx, {
    kind: 'dtmf',
    connectionId: ctx.connectionId,
    session: call.session,
    messages: call.messages,
    promptReceivedAt: ctx.receivedAt,
    userText: `(pressed ${message.digit}) ${action.description}`,
    source: 'dtmf',
    say: action.say,
    forcedTool,
    askLlm: forcedTool !== undefined,
  });
  await armAfterTurn(ctx, call.session, end);
  return { kind: 'turn', end };
}
