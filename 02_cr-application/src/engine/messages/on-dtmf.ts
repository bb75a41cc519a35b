import { keypadAction } from '../../../../layers/data/use-case-config.ts';
import type { DtmfMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import { armAfterTurn } from '../continuity/silence.ts';
import { runTurn } from '../turn.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { runDigitEntryTurn, toolOfCall } from './digit-entry.ts';
import { loadCall } from './load-session.ts';

/**
 * The caller pressed a key. During a multi-digit entry the key belongs to it (engine/ledger decides); otherwise
 * the use case's keypad map says what it means: a line to say and/or a tool the LLM must call, or the start of an
 * entry. It is a turn like any other (history, turn record); a key with no meaning is ignored.
 */
export async function onDtmf(ctx: FrameContext, message: DtmfMessage): Promise<FrameResult> {
  const call = await loadCall(ctx);
  if (!call) return { kind: 'ignored' };
  const known = { ledger: call.session.ledger, status: call.session.status };
  if (call.session.ledger.digits) {
    // A multi-digit entry is in progress: the ledger decides what this key is (another digit, the end, too late).
    const { verdict, ledger } = await applyToLedger(ctx.store, call.sessionId, { type: 'digit', at: ctx.receivedAt, digit: message.digit }, known);
    // The turn's claim starts from the ledger this write left: no read before it.
    call.session.ledger = ledger;
    if (verdict.type === 'digit-collected') return { kind: 'noted' };
    if (verdict.type === 'digits-complete') {
      if (verdict.reason === 'timeout') ctx.log.info('key after the keypad entry timed out; it ends the entry and is not part of it', { digit: message.digit });
      return runDigitEntryTurn(ctx, call, verdict);
    }
  }
  const action = keypadAction(call.session.dtmfMap, message.digit);
  if (action?.collect) {
    ({ ledger: call.session.ledger } = await applyToLedger(ctx.store, call.sessionId, { type: 'digits-start', at: ctx.receivedAt, spec: action.collect }, known));
    ctx.log.info('keypad entry started', { digit: message.digit });
    if (!action.say) return { kind: 'noted' };
  }
  if (!action) {
    ctx.log.info('key with no keypad action; ignored', { digit: message.digit });
    return { kind: 'ignored' };
  }
  // A key that starts an entry says its line (if any) and waits for the digits: the LLM hears from the entry.
  const collecting = action.collect !== undefined;
  const forcedTool = collecting ? undefined : toolOfCall(ctx, call, action.tool);
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
    askLlm: Boolean(forcedTool),
  });
  await armAfterTurn(ctx, call.session, end);
  return { kind: 'turn', end };
}
