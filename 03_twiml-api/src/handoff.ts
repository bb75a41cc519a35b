import * as z from 'zod/mini';
import '../../layers/config/zod-locale.ts';

/**
 * HandoffData: the JSON string our app put in the `end` message, echoed by Twilio to the `<Connect action>`
 * URL. A live agent is wanted when the object says so, e.g. `{"reason":"live-agent-handoff","summary":"..."}`:
 * a `reason` naming a live agent (or a human, operator, representative), or `liveAgent: true`.
 */
const HandoffSchema = z.looseObject({
  reason: z.optional(z.string()),
  liveAgent: z.optional(z.boolean()),
});

export type Handoff =
  | { kind: 'none' }
  /** Present but not a JSON object: recorded as received, treated as no handoff. */
  | { kind: 'unreadable'; raw: string }
  | { kind: 'live-agent'; raw: string; data: Record<string, unknown>; reason?: string }
  | { kind: 'other'; raw: string; data: Record<string, unknown>; reason?: string };

const LIVE_AGENT = /live[-_ ]?agent|human|operator|representative/i;

export function readHandoff(raw: string | undefined): Handoff {
  if (raw === undefined || raw.trim() === '') return { kind: 'none' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: 'unreadable', raw };
  }
  const parsed = HandoffSchema.safeParse(json);
  if (!parsed.success) return { kind: 'unreadable', raw };
  const data = parsed.data as Record<string, unknown>;
  const reason = parsed.data.reason;
  const wantsAgent = parsed.data.liveAgent === true || (reason !== undefined && LIVE_AGENT.test(reason));
  return { kind: wantsAgent ? 'live-agent' : 'other', raw, data, ...(reason !== undefined ? { reason } : {}) };
}
