import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { localClient, type DynamoBackend } from '../../dev/dynamodb/local-dynamodb.ts';
import { createTable, type Table } from '../../layers/data/table.ts';
import { ensureTable } from '../../layers/data/table-definition.ts';

/** Backends this run has (always dynalite; DynamoDB Local too when CI asks for it). */
export function backends(): DynamoBackend[] {
  return Object.keys(inject('dynamoEndpoints')) as DynamoBackend[];
}

export interface TestTable extends Table {
  endpoint: string;
  drop(): Promise<void>;
}

/** A fresh, uniquely named table on the given backend: tests never see each other's items. */
export async function createTestTable(backend: DynamoBackend = 'dynalite'): Promise<TestTable> {
  const endpoint = inject('dynamoEndpoints')[backend];
  if (!endpoint) throw new Error(`no ${backend} server in this run (DYNAMODB_BACKENDS)`);
  const name = `test-${randomUUID()}`;
  const admin = localClient(endpoint);
  await ensureTable(admin, name);
  const table = createTable({ name, endpoint, region: 'local' });
  return {
    ...table,
    endpoint,
    drop: async () => {
      await admin.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
      admin.destroy();
      table.doc.destroy();
    },
  };
}
