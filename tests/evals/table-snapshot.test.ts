import { BatchWriteCommand, DeleteCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { snapshotTable } from '../../dev/evals/table-snapshot.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';

/** A snapshot puts the table back exactly as it was: what was added goes, what was changed or deleted comes back. */
let table: TestTable;
beforeEach(async () => {
  table = await createTestTable();
});
afterEach(async () => {
  await table.drop();
});

const items = async () =>
  ((await table.doc.send(new ScanCommand({ TableName: table.name, ConsistentRead: true }))).Items ?? []).sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));

describe('table snapshot', () => {
  it('deletes what was added, restores what was changed or deleted, sets and maps included', async () => {
    // More items than one batch write takes, to restore in several.
    const slots = Array.from({ length: 30 }, (_, i) => ({ pk: 'apartments#parkview', sk: `slot#${String(i).padStart(2, '0')}`, status: 'open' }));
    for (let i = 0; i < slots.length; i += 25) {
      await table.doc.send(new BatchWriteCommand({ RequestItems: { [table.name]: slots.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    await table.doc.send(new PutCommand({ TableName: table.name, Item: { pk: 'use-case#x', sk: 'config', tools: ['a', 'b'], settings: { voice: 'v' }, layouts: new Set(['studio']) } }));
    const before = await items();
    const snapshot = await snapshotTable(table);

    // What an eval does: books slots, adds a profile and a session, changes a set, deletes an item.
    for (const sk of ['slot#03', 'slot#17']) {
      await table.doc.send(new UpdateCommand({ TableName: table.name, Key: { pk: 'apartments#parkview', sk }, UpdateExpression: 'SET #s = :b, booking = :who', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':b': 'booked', ':who': { phone: '+14065550123' } } }));
    }
    await table.doc.send(new UpdateCommand({ TableName: table.name, Key: { pk: 'use-case#x', sk: 'config' }, UpdateExpression: 'ADD layouts :l', ExpressionAttributeValues: { ':l': new Set(['loft']) } }));
    await table.doc.send(new DeleteCommand({ TableName: table.name, Key: { pk: 'apartments#parkview', sk: 'slot#29' } }));
    for (let i = 0; i < 27; i++) await table.doc.send(new PutCommand({ TableName: table.name, Item: { pk: `session#${i}`, sk: 'meta', from: '+14065550123' } }));
    expect(await items()).not.toEqual(before);

    // 2 bookings and the set put back, the deleted slot restored, 27 sessions deleted.
    expect(await snapshot.restore()).toBe(2 + 1 + 1 + 27);
    expect(await items()).toEqual(before);
    // Nothing changed since: nothing to write.
    expect(await snapshot.restore()).toBe(0);
  });
});
