import { twimlApiSettings } from '../../../layers/config/settings.ts';
import { tableFromEnv } from '../../../layers/data/index.ts';
import { createLambdaMessageSender } from '../../../layers/messaging/lambda-message-sender.ts';
import { logger } from '../../../layers/observability/logger.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';
import { sendAgentSms, type AgentSmsDeps, type AgentSmsResult } from '../agent-sms.ts';

/**
 * The agent-SMS function: invoked asynchronously by the `<Connect action>` callback on a live-agent handoff, it
 * texts the handoff summary to the agent through 04_util-send-message. Not on the caller's path. A throw (the
 * table unreachable before the call's text was claimed) makes Lambda retry the event; nothing after the claim
 * throws, so a retry never texts twice.
 */
const deps = lazy((): AgentSmsDeps => {
  const { sendMessageFunction } = twimlApiSettings();
  if (!sendMessageFunction) throw new Error('SEND_MESSAGE_FUNCTION is not set: the send-message function (04_util-send-message export)');
  return { table: tableFromEnv(), messages: createLambdaMessageSender({ functionName: sendMessageFunction }), logger };
});

export const handler = async (event: unknown): Promise<AgentSmsResult> => sendAgentSms(deps(), event);
