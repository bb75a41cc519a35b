import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { guard } from './errors.ts';
import { lastCallKey } from './keys.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';

/**
 * Which session a caller's last call to a use case was: a caller whose call dropped and who calls back within the
 * use case's resume window picks up where they left off. One item per caller and use case, replaced by each call.
 */
const LastCallSchema = z.object({ sessionId: z.string().check(z.minLength(1)), at: z.number() });
export type LastCall = z.infer<typeof LastCallSchema>;

export async function rememberLastCall(table: Table, phone: string, useCaseId: string, sessionId: string, now = Date.now()): Promise<void> {
  const key = lastCallKey(phone, useCaseId);
  await guard('PutItem last call', key, () =>
    table.doc.send(new PutCommand({ TableName: table.name, Item: { ...key, sessionId, at: now, expireAt: expireAt(now) } })),
  );
}

/** The caller's last call to the use case, or undefined (none, or an unreadable item: a fresh start is safe). */
export async function lastCall(table: Table, phone: string, useCaseId: string): Promise<LastCall | undefined> {
  const key = lastCallKey(phone, useCaseId);
  const out = await guard('GetItem last call', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key })));
  const parsed = LastCallSchema.safeParse(out.Item);
  return parsed.success ? parsed.data : undefined;
}
