import type { SecretSource } from '../../layers/config/secrets.ts';
import type { Table } from '../../layers/data/table.ts';
import {
  MessageSendError,
  OutgoingMessageSchema,
  type MessageSender,
  type SendMessageResponse,
} from '../../layers/messaging/message-sender.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';
import { createOutboxSender } from './outbox.ts';
import { loadTwilioMessagingConfig } from './twilio-config.ts';

/**
 * The core of 04_util-send-message, shared by its Lambda handler and the local runtime: Twilio when credentials
 * are configured, the local outbox otherwise. The twilio SDK is imported only when it will be used.
 */
export async function createMessageService(options: {
  table: Table;
  logger: AppLogger;
  env?: NodeJS.ProcessEnv;
  secrets?: SecretSource;
  print?: (line: string) => void;
}): Promise<MessageSender> {
  const config = await loadTwilioMessagingConfig(options.env ?? process.env, options.secrets);
  if (!config) return createOutboxSender({ table: options.table, logger: options.logger, ...(options.print ? { print: options.print } : {}) });
  const { createTwilioSender } = await import('./twilio-sender.ts');
  return createTwilioSender(config);
}

/** Validates one request and sends it; every failure comes back as data (`ok: false`), never as a throw. */
export async function handleSendMessage(event: unknown, sender: MessageSender, logger: AppLogger): Promise<SendMessageResponse> {
  const request = OutgoingMessageSchema.safeParse(event);
  if (!request.success) {
    const problems = request.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ');
    return { ok: false, error: { message: `Invalid message request: ${problems}` } };
  }
  try {
    return { ok: true, result: await sender.send(request.data) };
  } catch (err) {
    if (err instanceof MessageSendError) {
      logger.warn('message refused', { to: request.data.to, twilioCode: err.twilioCode, reason: err.message });
      return {
        ok: false,
        error: {
          message: err.message,
          ...(err.twilioCode === undefined ? {} : { twilioCode: err.twilioCode }),
          ...(err.status === undefined ? {} : { status: err.status }),
        },
      };
    }
    logger.error('message could not be sent', { to: request.data.to, error: err as Error });
    return { ok: false, error: { message: 'The message could not be sent because of an internal error.' } };
  }
}
