// zod/mini: this module is part of $default, whose cold start pays for classic zod at import.
import * as z from 'zod/mini';
import '../../../../layers/config/zod-locale.ts';
import type { InfoMessage } from '../../../../layers/protocol/conversation-relay.ts';
import { moveSilenceCheck } from '../continuity/silence.ts';
import type { LedgerEvent } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { FrameContext, FrameResult } from './context.ts';
import { sessionIdFor } from './load-session.ts';

/**
 * A speaker event, as we read ConversationRelay's `info` frames when the TwiML turns speaker events on:
 * `{ "type": "info", "name": "agentSpeaking" | "clientSpeaking", "value": "on" | "off" }`. Twilio's reference
 * does not pin this shape down, so it is read leniently (a boolean value too) and anything else is debug
 * information: logged, never relied on. Nothing depends on these events for correctness; they only make the
 * silence count from when the agent really stopped speaking instead of from an estimate.
 */
const SpeakerEventSchema = z.object({
  name: z.enum(['agentSpeaking', 'clientSpeaking']),
  value: z.union([z.enum(['on', 'off']), z.boolean()]),
});

/** The ledger event a speaker event is, or undefined for one that changes nothing (the caller stopped speaking). */
export function speakerEvent(message: InfoMessage, at: number): LedgerEvent | undefined {
  const parsed = SpeakerEventSchema.safeParse(message);
  if (!parsed.success) return undefined;
  const on = parsed.data.value === 'on' || parsed.data.value === true;
  if (parsed.data.name === 'agentSpeaking') return { type: 'agent-speech', speaking: on, at };
  return on ? { type: 'caller-speech', at } : undefined;
}

/** `info`: speaker events refine the silence timer; any other debug information is kept in debug logs only. Never throws. */
export async function onInfo(ctx: FrameContext, message: InfoMessage): Promise<FrameResult> {
  const event = speakerEvent(message, ctx.receivedAt);
  if (!event || !ctx.callTimer) {
    ctx.log.debug('ConversationRelay info', { info: message });
    return { kind: 'noted' };
  }
  try {
    const sessionId = await sessionIdFor(ctx);
    if (!sessionId) return { kind: 'ignored' };
    const { verdict } = await applyToLedger(ctx.store, sessionId, event);
    if (verdict.type === 'silence-moved') await moveSilenceCheck(ctx, sessionId, verdict);
  } catch (err) {
    ctx.log.warn('speaker event not applied; the silence counts from the estimate', { error: err as Error });
  }
  return { kind: 'noted' };
}
