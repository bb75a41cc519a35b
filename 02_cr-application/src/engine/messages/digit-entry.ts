import { digitEntryText } from '../../../../layers/data/digit-entry.ts';
import type { Verdict } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import { runTurn } from '../turn.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { loadCall, type LoadedCall } from './load-session.ts';

type Complete = Extract<Verdict, { type: 'digits-complete' }>;

/** A finished keypad entry is one caller turn: its digits, what they are, and the tool that takes them. */
export async function runDigitEntryTurn(ctx: FrameContext, call: LoadedCall, entry: Complete): Promise<FrameResult> {
  const forcedTool = toolOfCall(ctx, call, entry.spec.tool);
  ctx.log.info('keypad entry complete', { reason: entry.reason, digits: entry.digits.length });
  const end = await runTurn(ctx, {
    kind: 'dtmf',
    connectionId: ctx.connectionId,
    session: call.session,
    messages: call.messages,
    promptReceivedAt: ctx.receivedAt,
    userText: digitEntryText(entry.spec, entry.digits, entry.reason),
    source: 'dtmf',
    forcedTool,
    askLlm: true,
  });
  return { kind: 'turn', end };
}

/** A tool a keypad action names, if this call has it (a use case's map can outlive a tool a tool action removed). */
export function toolOfCall(ctx: FrameContext, call: LoadedCall, tool: string | undefined): string | undefined {
  if (!tool) return undefined;
  if (call.session.tools.some((t) => t.name === tool)) return tool;
  ctx.log.warn('keypad action names a tool this call does not have', { tool });
  return undefined;
}

/**
 * The inter-digit timeout, for a timer that fires at the entry's deadline (engine/ledger: `digits-check`). Until
 * the call has such a timer, the next frame of the call resolves an expired entry (a key in `onDtmf`, a prompt in
 * `onPrompt`); this is the entry point a per-call timer event calls with the call's connection.
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
