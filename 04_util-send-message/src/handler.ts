import { tableFromEnv } from '../../layers/data/table.ts';
import type { MessageSender, SendMessageResponse } from '../../layers/messaging/message-sender.ts';
import { logger } from '../../layers/observability/logger.ts';
import { createMessageService, handleSendMessage } from './send-message.ts';

/**
 * Lambda entry point, invoked directly by tool functions (payload: { to, body, channel }). The sender is built
 * once per container; a failed build (e.g. SSM unreachable) is retried on the next invocation.
 */
let sender: Promise<MessageSender> | undefined;

export const handler = async (event: unknown): Promise<SendMessageResponse> => {
  try {
    sender ??= createMessageService({ table: tableFromEnv(), logger }).catch((err: unknown) => {
      sender = undefined;
      throw err;
    });
    return await handleSendMessage(event, await sender, logger);
  } catch (err) {
    logger.error('send-message function is misconfigured', { error: err as Error });
    return { ok: false, error: { message: 'Text messaging is not available right now.' } };
  }
};
