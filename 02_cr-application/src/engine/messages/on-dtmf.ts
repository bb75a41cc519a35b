import { keypadAction } from '../../../../layers/data/use-case-config.ts';
import type { DtmfMessage } from '../../../../layers/protocol/conversation-relay.ts';
import type { LedgerEvent } from '../ledger/decide.ts';
import { applyAllToLedger, applyToLedger } from '../ledger/ledger-client.ts';
import { armAfterTurn } from '../continuity/after-turn.ts';
import { armDigits } from '../continuity/digits-timer.ts';
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
    const timed = ctx.callTimer !== undefined;
    const { verdict, ledger } = await applyToLedger(ctx.store, call.sessionId, { type: 'digit', at: ctx.receivedAt, digit: message.digit, timed }, known);
    // The turn's claim starts from the ledger this write left: no read before it.
    call.session.ledger = ledger;
    if (verdict.type === 'digit-collected') {
      // The entry now ends at a later deadline: the check armed before this key will find it stale.
      if (verdict.dueAt !== undefined) await armDigits(ctx, call.sessionId, verdict.dueAt);
      return { kind: 'noted' };
    }
    if (verdict.type === 'digits-complete') {
      if (verdict.reason === 'timeout') ctx.log.info('key after the keypad entry timed out; it ends the entry and is not part of it', { digit: message.digit });
      return runDigitEntryTurn(ctx, call, verdict);
    }
  }
  const action = keypadAction(call.session.dtmfMap, message.digit);
  if (action?.collect) {
    // With nothing to say, the timeout counts from the key (armed in the same write); otherwise from the end of the line.
    const events: LedgerEvent[] = [{ type: 'digits-start', at: ctx.receivedAt, spec: action.collect }];
    if (!action.say && ctx.callTimer) events.push({ type: 'digits-arm', at: ctx.receivedAt });
    const started = await applyAllToLedger(ctx.store, call.sessionId, events, known);
    call.session.ledger = started.ledger;
    ctx.log.info('keypad entry started', { digit: message.digit });
    const armed = started.verdicts[1];
    if (armed?.type === 'digits-armed') await armDigits(ctx, call.sessionId, armed.dueAt);
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
  // A key that opened an entry: its timeout counts from the end of the line that asked for the digits.
  await armAfterTurn(ctx, call.session, end, collecting);
  return { kind: 'turn', end };
}
