import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { guard } from './errors.ts';
import { profileKey } from './keys.ts';
import type { Table } from './table.ts';

/** What we remember about a caller across calls, keyed by their E.164 number. */
export interface CallerProfile {
  phone: string;
  firstName?: string;
  lastName?: string;
  /** The demo the caller chose; their next call goes straight to it. */
  useCaseId?: string;
  createdAt: string;
  updatedAt: string;
}

export async function getProfile(table: Table, phone: string): Promise<CallerProfile | undefined> {
  const key = profileKey(phone);
  const out = await guard('GetItem profile', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key })));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...profile } = out.Item;
  return profile as CallerProfile;
}

export type ProfileChanges = Partial<Pick<CallerProfile, 'firstName' | 'lastName' | 'useCaseId'>>;

/**
 * Sets the given fields and leaves the others as they are: an update expression, not read-modify-write, so two
 * tools saving different fields at once both win.
 */
export async function updateProfile(table: Table, phone: string, changes: ProfileChanges, now = new Date()): Promise<CallerProfile> {
  const key = profileKey(phone);
  const names: Record<string, string> = { '#phone': 'phone', '#createdAt': 'createdAt', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':phone': phone, ':now': now.toISOString() };
  const sets = ['#phone = :phone', '#createdAt = if_not_exists(#createdAt, :now)', '#updatedAt = :now'];
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    sets.push(`#${field} = :${field}`);
  }
  const out = await guard('UpdateItem profile', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  const { pk: _pk, sk: _sk, ...profile } = out.Attributes ?? {};
  return profile as CallerProfile;
}
