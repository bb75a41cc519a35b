import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { guard } from './errors.ts';
import { connectionKey } from './keys.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';

/**
 * Points a reconnected WebSocket at its session: frames carry only the connection id. The first connection's
 * pointer is written by `bindConnection`; a reconnect (decided by the turn ledger) writes its own here. The old
 * connection's pointer is left to TTL: its frames can no longer arrive, and a late one finds the ledger naming
 * another connection.
 */
export async function pointConnection(table: Table, connectionId: string, sessionId: string, now = Date.now()): Promise<void> {
  const pointer = connectionKey(connectionId);
  await guard('PutItem connection pointer', pointer, () =>
    table.doc.send(new PutCommand({ TableName: table.name, Item: { ...pointer, sessionId, expireAt: expireAt(now) } })),
  );
}
