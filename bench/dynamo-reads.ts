import type { Table } from '../layers/data/table.ts';

/**
 * Counts the DynamoDB read requests (GetItem, Query, BatchGetItem, Scan, TransactGetItems) a table handle sends,
 * per partition key, from a middleware on its client: every read the engine makes through the store is counted
 * where it leaves for the database, whatever module made it.
 */
export interface ReadCounter {
  /** Reads so far whose key (or key condition value) is this partition. */
  readsOf(partition: string): number;
  total(): number;
  stop(): void;
}

const READ_COMMAND = /^(Get|GetItem|Query|BatchGet|BatchGetItem|Scan|TransactGet|TransactGetItems)Command$/;
const NAME = 'benchReadCounter';

/** The partition a read names: its Key's pk, or a key condition value; marshalled (`{ S }`) or not. */
export function partitionOf(input: Record<string, unknown>): string | undefined {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof (v as { S?: unknown })?.S === 'string' ? (v as { S: string }).S : undefined);
  const key = input.Key as Record<string, unknown> | undefined;
  if (key && text(key.pk) !== undefined) return text(key.pk);
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  if (text(values?.[':pk']) !== undefined) return text(values![':pk']);
  return Object.values(values ?? {}).map(text).find((v) => v?.startsWith('session#'));
}

export function countReads(table: Table): ReadCounter {
  const byPartition = new Map<string, number>();
  let total = 0;
  table.doc.middlewareStack.add(
    (next, context) => async (args) => {
      if (READ_COMMAND.test(String(context.commandName ?? ''))) {
        total++;
        const partition = partitionOf(args.input as Record<string, unknown>);
        if (partition !== undefined) byPartition.set(partition, (byPartition.get(partition) ?? 0) + 1);
      }
      return next(args);
    },
    { step: 'initialize', name: NAME },
  );
  return {
    readsOf: (partition) => byPartition.get(partition) ?? 0,
    total: () => total,
    stop: () => void table.doc.middlewareStack.remove(NAME),
  };
}
