// zod/mini: call setup and the connect action are on the caller's path from the first ring (cold starts).
import * as z from 'zod/mini';
import '../../layers/config/zod-locale.ts';
import { endSession, updateSession, type Table } from '../../layers/data/index.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';
import { AGENT_SMS_EVENT } from './agent-sms-request.ts';
import type { AgentSmsDispatcher } from './agent-sms-dispatch.ts';
import { readHandoff, type Handoff } from './handoff.ts';
import { whisperUrl } from './public-url.ts';
import { apologyTwiml, dialAgentTwiml, goodbyeTwiml, hangupTwiml, NO_AGENT_AVAILABLE } from './twiml.ts';

/** What Twilio posts to the `<Connect action>` URL when the ConversationRelay session ends. */
export const SessionEndedSchema = z.looseObject({
  CallSid: z.string().check(z.minLength(1)),
  CallStatus: z.optional(z.string()),
  SessionId: z.optional(z.string()),
  SessionStatus: z.optional(z.string()),
  SessionDuration: z.optional(z.string()),
  HandoffData: z.optional(z.string()),
});
export type SessionEnded = z.infer<typeof SessionEndedSchema>;

/** What the callback did with the call, recorded on the session as `outcome`. */
export type CallOutcome = 'dialed-agent' | 'agent-unavailable' | 'hung-up' | 'session-failed';

export interface AfterSessionDeps {
  table: Table;
  agentNumber?: string | undefined;
  /** Hands the handoff summary off to be texted to the agent (when the use case asks); absent: never texted. */
  agentSms?: AgentSmsDispatcher | undefined;
  logger: AppLogger;
  now: () => Date;
}

export interface NextStep {
  outcome: CallOutcome;
  twiml: string;
}

/** The TwiML that continues the call: the agent when the session asked for one, else a polite goodbye. */
export function nextStep(handoff: Handoff, sessionStatus: string | undefined, agentNumber: string | undefined, whisperUrl?: string): NextStep {
  if (handoff.kind === 'live-agent') {
    return agentNumber
      ? { outcome: 'dialed-agent', twiml: dialAgentTwiml(agentNumber, undefined, whisperUrl) }
      : { outcome: 'agent-unavailable', twiml: goodbyeTwiml(NO_AGENT_AVAILABLE) };
  }
  if (sessionStatus?.toLowerCase() === 'failed') return { outcome: 'session-failed', twiml: apologyTwiml() };
  // The app already said goodbye (e.g. to a caller who stayed silent): a second one would sound odd.
  if (handoff.kind === 'other' && handoff.data.goodbyeSaid === true) return { outcome: 'hung-up', twiml: hangupTwiml() };
  return { outcome: 'hung-up', twiml: goodbyeTwiml() };
}

/**
 * Decides the next step and records it on the session. The caller is still on the line: a failed write is
 * logged and the call goes on the same way, because the TwiML does not depend on it.
 */
export async function afterSession(deps: AfterSessionDeps, sessionId: string | undefined, ended: SessionEnded, publicBase?: string): Promise<NextStep> {
  const handoff = readHandoff(ended.HandoffData);
  // The agent hears the handoff's summary before the caller is put through (a warm transfer).
  const whisper = sessionId && publicBase ? whisperUrl(publicBase, sessionId) : undefined;
  const step = nextStep(handoff, ended.SessionStatus, deps.agentNumber, whisper);
  const context = { sessionId, callSid: ended.CallSid, outcome: step.outcome, sessionStatus: ended.SessionStatus };
  if (handoff.kind === 'unreadable') deps.logger.warn('HandoffData is not a JSON object; treated as no handoff', context);
  if (step.outcome === 'agent-unavailable') deps.logger.error('A live agent was requested but AGENT_NUMBER is not set', context);

  if (!sessionId) {
    deps.logger.warn('Session ended without a session id in the action URL; nothing recorded', context);
    return step;
  }
  const at = deps.now().getTime();
  const reason = handoff.kind === 'live-agent' || handoff.kind === 'other' ? (handoff.reason ?? 'handoff') : `relay-${ended.SessionStatus ?? 'ended'}`;
  const handoffData = handoff.kind === 'none' ? undefined : handoff.raw;
  // The text to the agent is handed off alongside the writes: the `<Dial>` waits for neither Twilio's Messages
  // API nor the text's own reads, and a failure here never changes what the caller hears.
  const texting =
    step.outcome === 'dialed-agent' && deps.agentSms && deps.agentNumber
      ? deps.agentSms
          .dispatch({ source: AGENT_SMS_EVENT, callSid: ended.CallSid, sessionId, agentNumber: deps.agentNumber, ...(handoffData !== undefined ? { handoffData } : {}) })
          .catch((err: unknown) => deps.logger.error('Could not hand off the text to the agent; the transfer goes on without it', { ...context, error: err as Error }))
      : undefined;
  const results = await Promise.allSettled([
    updateSession(deps.table, sessionId, { outcome: step.outcome }, at),
    endSession(deps.table, sessionId, reason, handoffData !== undefined ? { handoffData } : {}, at),
    texting,
  ]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    const err = failure.reason as unknown;
    deps.logger.error('Could not record the call outcome on the session', {
      ...context,
      error: err instanceof Error ? err.message : String(err),
      errorName: err instanceof Error ? err.name : undefined,
    });
  } else {
    deps.logger.info('Session ended', { ...context, reason });
  }
  return step;
}
