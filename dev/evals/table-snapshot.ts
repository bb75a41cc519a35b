import { isDeepStrictEqual } from 'node:util';
import { BatchWriteCommand, ScanCommand, type BatchWriteCommandInput, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { Table } from '../../layers/data/table.ts';

/**
 * A table's items as they were at one moment, and the way back to that moment: every item written since is
 * deleted, every item changed or deleted since is put back as it was. It lets one local stand serve eval after
 * eval, each starting from the table as the use cases loaded it (nobody's bookings, no caller's profile), without
 * paying for the load again. Only for a table nobody else writes to while it is restored (a stand between evals).
 */
export interface TableSnapshot {
  /** Puts the table back as it was when the snapshot was taken; returns how many items it wrote or deleted. */
  restore(): Promise<number>;
}

type Item = Record<string, unknown>;
const keyOf = (item: Item) => JSON.stringify([item.pk, item.sk]);

export async function snapshotTable(table: Table): Promise<TableSnapshot> {
  const baseline = new Map((await scanAll(table)).map((item) => [keyOf(item), item]));
  return {
    async restore() {
      const requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string] = [];
      const seen = new Set<string>();
      for (const item of await scanAll(table)) {
        const key = keyOf(item);
        seen.add(key);
        const before = baseline.get(key);
        if (!before) requests.push({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } });
        else if (!isDeepStrictEqual(before, item)) requests.push({ PutRequest: { Item: before } });
      }
      for (const [key, item] of baseline) if (!seen.has(key)) requests.push({ PutRequest: { Item: item } });
      await batchWrite(table, requests);
      return requests.length;
    },
  };
}

async function scanAll(table: Table): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await table.doc.send(new ScanCommand({ TableName: table.name, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** 25 requests per call (the service's limit), unprocessed ones sent again until none is left. */
async function batchWrite(table: Table, requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string]): Promise<void> {
  for (let i = 0; i < requests.length; i += 25) {
    let pending: BatchWriteCommandInput['RequestItems'] = { [table.name]: requests.slice(i, i + 25) };
    for (let attempt = 0; pending && Object.keys(pending).length > 0; attempt++) {
      if (attempt === 5) throw new Error(`restoring the table: ${pending[table.name]?.length ?? 0} writes still unprocessed after 5 attempts`);
      const out: BatchWriteCommandOutput = await table.doc.send(new BatchWriteCommand({ RequestItems: pending }));
      pending = out.UnprocessedItems;
    }
  }
}
