import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { guard } from '../../layers/data/errors.ts';
import { newMessageId } from '../../layers/data/ids.ts';
import type { Table } from '../../layers/data/table.ts';
import { expireAt } from '../../layers/data/ttl.ts';
import { OutgoingMessageSchema, type MessageSender } from '../../layers/messaging/message-sender.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';

/**
 * Without Twilio credentials (the local runtime) messages are kept here instead of being sent: stored in the table
 * under pk `outbox` and printed, so a demo or test can see exactly what a caller would have received.
 */
export const OUTBOX_PK = 'outbox';

export interface OutboxMessage {
  outboxId: string;
  to: string;
  body: string;
  channel: 'sms' | 'whatsapp';
  createdAt: string;
}

export function createOutboxSender(options: { table: Table; logger: AppLogger; print?: (line: string) => void }): MessageSender {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  return {
    async send(message) {
      const { to, body, channel } = OutgoingMessageSchema.parse(message);
      const now = Date.now();
      const outboxId = newMessageId();
      const item: OutboxMessage = { outboxId, to, body, channel, createdAt: new Date(now).toISOString() };
      const key = { pk: OUTBOX_PK, sk: outboxId };
      await guard('PutItem outbox message', key, () =>
        options.table.doc.send(new PutCommand({ TableName: options.table.name, Item: { ...key, ...item, expireAt: expireAt(now) } })),
      );
      print(`[OUTBOX - NOT SENT] ${channel.toUpperCase()} to ${to}: ${body}`);
      options.logger.warn('message kept in the local outbox, NOT SENT (no Twilio credentials)', { outboxId, to, channel });
      return { status: 'not-sent', sid: outboxId, delivered: false };
    },
  };
}

/** The outbox, oldest first (for the local runtime's display and tests). */
export async function listOutbox(table: Table): Promise<OutboxMessage[]> {
  const out = await guard('Query outbox', { pk: OUTBOX_PK }, () =>
    table.doc.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': OUTBOX_PK },
        ConsistentRead: true,
      }),
    ),
  );
  return (out.Items ?? []).map(({ outboxId, to, body, channel, createdAt }) => ({ outboxId, to, body, channel, createdAt }) as OutboxMessage);
}
