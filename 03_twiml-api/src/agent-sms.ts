import * as z from 'zod/mini';
import { claimAgentSms, getProfile, getSession, getUseCase, NotFoundError, recordAgentSms, type Table } from '../../layers/data/index.ts';
import type { MessageSender } from '../../layers/messaging/message-sender.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';
import { agentSmsText } from './agent-sms-text.ts';
import { AgentSmsRequestSchema } from './agent-sms-request.ts';
import { readHandoff } from './handoff.ts';

/**
 * Warm transfer, the text half: on a live-agent handoff the `<Connect action>` callback answers the `<Dial>` at
 * once and hands this request off (an asynchronous Lambda invocation in AWS, an unawaited call locally); this
 * module decides whether the use case wants the agent texted, and sends the summary through 04_util-send-message
 * at most once per CallSid.
 */
export { AGENT_SMS_EVENT, type AgentSmsRequest } from './agent-sms-request.ts';

/** What became of one request; `sent` and `failed` are recorded on the call's claim. */
export type AgentSmsResult = 'sent' | 'failed' | 'off' | 'already-sent' | 'no-number' | 'no-session';

export interface AgentSmsDeps {
  table: Table;
  messages: MessageSender;
  logger: AppLogger;
  now?: () => Date;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Reads what the text needs, claims the call's text, sends it. A failure before the claim (the table unreachable)
 * is thrown, so an asynchronous invocation is retried; once claimed, a failed send is recorded and logged, never
 * retried and never thrown: the caller is already on their way to the agent.
 */
export async function sendAgentSms(deps: AgentSmsDeps, input: unknown): Promise<AgentSmsResult> {
  const parsed = AgentSmsRequestSchema.safeParse(input);
  if (!parsed.success) {
    // Nothing a retry could fix: logged and dropped.
    deps.logger.error('Agent SMS request is malformed; nothing sent', { problems: z.prettifyError(parsed.error) });
    return 'failed';
  }
  const request = parsed.data;
  const context = { callSid: request.callSid, sessionId: request.sessionId };
  const session = await getSession(deps.table, request.sessionId);
  if (!session) {
    deps.logger.warn('Agent SMS for an unknown session; nothing sent', context);
    return 'no-session';
  }
  const useCase = await getUseCase(deps.table, session.useCaseId).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
  if (!useCase) {
    deps.logger.warn('Agent SMS for a use case that is no longer loaded; nothing sent', { ...context, useCaseId: session.useCaseId });
    return 'off';
  }
  const settings = useCase.handoff;
  if (!settings?.agentSms) return 'off';
  const to = settings.agentSmsTo ?? (E164.test(request.agentNumber) ? request.agentNumber : undefined);
  if (!to) {
    deps.logger.warn('The agent is dialed at a SIP address, which cannot take a text: set handoff.agentSmsTo in the use case to text another number', {
      ...context,
      useCaseId: useCase.id,
    });
    return 'no-number';
  }
  const profile = await getProfile(deps.table, session.from).catch((err: unknown) => {
    deps.logger.warn('Could not read the caller profile; the agent text goes without a name', { ...context, error: err as Error });
    return undefined;
  });
  const now = (deps.now ?? (() => new Date()))().getTime();
  if (!(await claimAgentSms(deps.table, request.callSid, { sessionId: request.sessionId, to }, now))) {
    deps.logger.info('The agent was already texted for this call (a repeated connect action); not sent again', context);
    return 'already-sent';
  }

  const handoff = readHandoff(request.handoffData);
  const summary = handoff.kind === 'live-agent' || handoff.kind === 'other' ? handoff.data.summary : undefined;
  const callerName = [profile?.firstName, profile?.lastName].filter(Boolean).join(' ');
  const body = agentSmsText({
    useCaseName: useCase.name,
    callerNumber: session.from,
    ...(callerName ? { callerName } : {}),
    ...(typeof summary === 'string' ? { summary } : {}),
  });
  try {
    const sent = await deps.messages.send({ to, body, channel: 'sms' });
    deps.logger.info('Texted the handoff summary to the agent', { ...context, messageSid: sent.sid, delivered: sent.delivered });
    await record(deps, request.callSid, { status: 'sent', messageSid: sent.sid, delivered: sent.delivered }, context);
    return 'sent';
  } catch (err) {
    deps.logger.error('Could not text the handoff summary to the agent; the transfer goes on without it', { ...context, error: err as Error });
    await record(deps, request.callSid, { status: 'failed', reason: err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500) }, context);
    return 'failed';
  }
}

async function record(deps: AgentSmsDeps, callSid: string, outcome: Parameters<typeof recordAgentSms>[2], context: object): Promise<void> {
  try {
    await recordAgentSms(deps.table, callSid, outcome);
  } catch (err) {
    deps.logger.warn('Could not record the agent text outcome', { ...context, error: err as Error });
  }
}
