import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { guard, NotFoundError } from './errors.ts';
import { GSI1, USE_CASE_INDEX_PK, useCaseKey } from './keys.ts';
import type { Table } from './table.ts';
import { UseCaseConfigSchema, type UseCaseConfig, type UseCaseConfigInput } from './use-case-config.ts';

export interface StoredUseCase extends UseCaseConfig {
  updatedAt: string;
}

/** Writes (or replaces) a use case; idempotent, so loading twice leaves one item. */
export async function putUseCase(table: Table, input: UseCaseConfigInput, now = new Date()): Promise<StoredUseCase> {
  const config = UseCaseConfigSchema.parse(input);
  const item: StoredUseCase = { ...config, updatedAt: now.toISOString() };
  const key = useCaseKey(config.id);
  await guard('PutItem use case', key, () =>
    table.doc.send(
      new PutCommand({ TableName: table.name, Item: { ...key, pk1: USE_CASE_INDEX_PK, sk1: config.id, ...item } }),
    ),
  );
  return item;
}

export async function getUseCase(table: Table, id: string): Promise<StoredUseCase> {
  const key = useCaseKey(id);
  const out = await guard('GetItem use case', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key })));
  if (!out.Item) throw new NotFoundError('use case', key);
  return fromItem(out.Item);
}

/** Every loaded use case (the demo chooser's menu), by id. */
export async function listUseCases(table: Table): Promise<StoredUseCase[]> {
  const result: StoredUseCase[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await guard('Query use-case index', { pk1: USE_CASE_INDEX_PK }, () =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          IndexName: GSI1,
          KeyConditionExpression: 'pk1 = :pk1',
          ExpressionAttributeValues: { ':pk1': USE_CASE_INDEX_PK },
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const item of out.Items ?? []) result.push(fromItem(item));
    start = out.LastEvaluatedKey;
  } while (start);
  return result;
}

function fromItem(item: Record<string, unknown>): StoredUseCase {
  const { pk: _pk, sk: _sk, pk1: _pk1, sk1: _sk1, updatedAt, ...rest } = item;
  return { ...UseCaseConfigSchema.parse(rest), updatedAt: String(updatedAt ?? '') };
}
