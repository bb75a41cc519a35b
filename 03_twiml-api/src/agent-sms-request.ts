// zod/mini: the constant and the type reach the connect action's bundle, which is on the caller's path.
import * as z from 'zod/mini';
import '../../layers/config/zod-locale.ts';

/** The request the `<Connect action>` callback hands off to text the agent (see agent-sms.ts). */
export const AGENT_SMS_EVENT = 'cr.agent-sms';

export const AgentSmsRequestSchema = z.object({
  source: z.literal(AGENT_SMS_EVENT),
  callSid: z.string().check(z.minLength(1), z.maxLength(64)),
  sessionId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The number the caller is being put through to (AGENT_NUMBER): an E.164 number or a sip: URI. */
  agentNumber: z.string().check(z.minLength(1), z.maxLength(256)),
  /** HandoffData as Twilio echoed it; its `summary` is what the agent reads. */
  handoffData: z.optional(z.string().check(z.maxLength(64_000))),
});
export type AgentSmsRequest = z.infer<typeof AgentSmsRequestSchema>;
