import { secretsTtlMs } from '../../layers/config/secrets.ts';
import { tableFromEnv } from '../../layers/data/table.ts';
import type { MessageSender, SendMessageResponse } from '../../layers/messaging/message-sender.ts';
import { logger } from '../../layers/observability/logger.ts';
import { createMessageService, handleSendMessage } from './send-message.ts';

/**
 * Lambda entry point, invoked directly by tool functions and by 03's agent-SMS function (payload: { to, body,
 * channel }). The sender (and the credentials it read from SSM) is built once per container and built again after
 * SECRETS_TTL_SECONDS, so rotated credentials reach warm containers; a failed build (e.g. SSM unreachable) is
 * retried on the next invocation.
 */
let sender: { value: Promise<MessageSender>; builtAt: number } | undefined;

export const handler = async (event: unknown): Promise<SendMessageResponse> => {
  try {
    if (!sender || Date.now() - sender.builtAt >= secretsTtlMs()) {
      const value = createMessageService({ table: tableFromEnv(), logger }).catch((err: unknown) => {
        sender = undefined;
        throw err;
      });
      sender = { value, builtAt: Date.now() };
    }
    return await handleSendMessage(event, await sender.value, logger);
  } catch (err) {
    logger.error('send-message function is misconfigured', { error: err as Error });
    return { ok: false, error: { message: 'Text messaging is not available right now.' } };
  }
};
