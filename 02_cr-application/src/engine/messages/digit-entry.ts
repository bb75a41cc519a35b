import { digitEntryText, isIncomplete } from '../../../../layers/data/digit-entry.ts';
import { armAfterTurn } from '../continuity/after-turn.ts';
import type { Verdict } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import { runTurn } from '../turn.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { loadCall, type LoadedCall } from './load-session.ts';

type Complete = Extract<Verdict, { type: 'digits-complete' }>;

/**
 * A finished keypad entry is one caller turn: its digits, what they are, and the tool that takes them. An entry
 * that timed out short of its `maxDigits` is not a number the tool can take: with an `incompleteLine` the caller
 * hears it and gets one more try at the whole number (what a caller expects of a PIN prompt); otherwise, or after
 * that try, the LLM hears what was typed and may ask again, and the tool is not forced on a partial number.
 */
export async function runDigitEntryTurn(ctx: FrameContext, call: LoadedCall, entry: Complete): Promise<FrameResult> {
  const { spec, digits, reason } = entry;
  const incomplete = isIncomplete(spec, digits, reason);
  ctx.log.info('keypad entry complete', { reason, digits: digits.length, incomplete });
  const userText = digitEntryText(spec, digits, reason);
  if (incomplete && spec.incompleteLine && !entry.retried) {
    // Opened again before the line is said, so keys typed over it are collected; its timeout counts from the
    // end of the line (armed after the turn).
    const known = { ledger: call.session.ledger, status: call.session.status };
    const reopened = await applyToLedger(ctx.store, call.sessionId, { type: 'digits-start', at: ctx.receivedAt, spec, retry: true }, known);
    call.session.ledger = reopened.ledger;
    const end = await runTurn(ctx, { ...turnInput(ctx, call, userText), say: spec.incompleteLine, askLlm: false });
    await armAfterTurn(ctx, call.session, end, true);
    return { kind: 'turn', end };
  }
  const forcedTool = incomplete ? undefined : toolOfCall(ctx, call, spec.tool);
  const end = await runTurn(ctx, { ...turnInput(ctx, call, userText), forcedTool, askLlm: true });
  await armAfterTurn(ctx, call.session, end);
  return { kind: 'turn', end };
}

function turnInput(ctx: FrameContext, call: LoadedCall, userText: string) {
  return {
    kind: 'dtmf' as const,
    connectionId: ctx.connectionId,
    session: call.session,
    messages: call.messages,
    promptReceivedAt: ctx.receivedAt,
    userText,
    source: 'dtmf' as const,
  };
}

/** A tool a keypad action names, if this call has it (a use case's map can outlive a tool a tool action removed). */
export function toolOfCall(ctx: FrameContext, call: LoadedCall, tool: string | undefined): string | undefined {
  if (!tool) return undefined;
  if (call.session.tools.some((t) => t.name === tool)) return tool;
  ctx.log.warn('keypad action names a tool this call does not have', { tool });
  return undefined;
}

/**
 * The inter-digit timeout: the call timer's check at the entry's deadline, run in $default on the call's current
 * connection (engine/continuity/digits-timer.ts). The ledger ends the entry (`digits-check`) unless a key moved
 * the deadline first. Without a timer, the next frame of the call resolves an expired entry (a key in `onDtmf`, a
 * prompt in `onPrompt`).
 */
export async function onDigitTimeout(ctx: FrameContext): Promise<FrameResult> {
  const call = await loadCall(ctx);
  if (!call?.session.ledger.digits) return { kind: 'ignored' };
  const known = { ledger: call.session.ledger, status: call.session.status };
  const { verdict, ledger } = await applyToLedger(ctx.store, call.sessionId, { type: 'digits-check', at: ctx.receivedAt, spoke: false }, known);
  call.session.ledger = ledger;
  if (verdict.type !== 'digits-complete') return { kind: 'noted' };
  return runDigitEntryTurn(ctx, call, verdict);
}
