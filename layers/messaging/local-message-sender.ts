import type { Table } from '../data/table.ts';
import type { AppLogger } from '../observability/logger.ts';
import { createMessageService, handleSendMessage } from '../../04_util-send-message/src/send-message.ts';
import { MessageSendError, type MessageSender } from './message-sender.ts';

/**
 * The local runtime's MessageSender: runs 04_util-send-message's core in this process, with the same request
 * validation and error mapping as the Lambda path (Twilio when TWILIO_* are set, otherwise the local outbox).
 * Kept out of `index.ts` so tool Lambdas never bundle the twilio SDK.
 */
export function createLocalMessageSender(options: {
  table: Table;
  logger: AppLogger;
  env?: NodeJS.ProcessEnv;
  print?: (line: string) => void;
}): MessageSender {
  let service: Promise<MessageSender> | undefined;
  return {
    async send(message) {
      service ??= createMessageService(options);
      const response = await handleSendMessage(message, await service, options.logger);
      if (!response.ok) throw new MessageSendError(response.error.message, response.error);
      return response.result;
    },
  };
}
