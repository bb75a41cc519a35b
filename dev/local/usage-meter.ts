import { AsyncLocalStorage } from 'node:async_hooks';
import type { Table } from '../../layers/data/table.ts';

/**
 * What each handler invocation of the local runtime used, attributed to the call it served: its duration (for
 * Lambda GB-seconds) and the DynamoDB read and write units its requests consumed (every request asks for
 * ReturnConsumedCapacity). Tools run in-process inside the `$default` invocation, so their table units count there.
 * The eval runner prices calls from this; it never changes what the handlers do.
 */
export interface InvocationUsage {
  /** The function as deployed, without its `cr-<env>-` prefix: `default`, `call-setup`, ... */
  fn: string;
  durationMs: number;
  readUnits: number;
  writeUnits: number;
}

export interface UsageMeter {
  /** Runs one invocation; `keys` (read once it has finished) names the call it served. */
  invoke<T>(fn: string, keys: () => string[], work: () => Promise<T>): Promise<T>;
  /** Makes every request of this table report, and count, the capacity it consumed. */
  instrument(table: Table): void;
  /** Invocations that served any of these keys (`session:<id>`, `call:<CallSid>`). */
  usageOf(keys: string[]): InvocationUsage[];
}

// By operation: the document client's commands (PutCommand) reach the middleware as the service's (PutItemCommand).
const READS = new Set(['Get', 'Query', 'Scan', 'BatchGet', 'TransactGet']);
const WRITES = new Set(['Put', 'Update', 'Delete', 'BatchWrite', 'TransactWrite']);

export function createUsageMeter(): UsageMeter {
  const current = new AsyncLocalStorage<InvocationUsage>();
  const byKey = new Map<string, InvocationUsage[]>();
  return {
    async invoke(fn, keys, work) {
      const usage: InvocationUsage = { fn, durationMs: 0, readUnits: 0, writeUnits: 0 };
      const started = performance.now();
      try {
        return await current.run(usage, work);
      } finally {
        usage.durationMs = performance.now() - started;
        for (const key of keys()) {
          const list = byKey.get(key) ?? [];
          list.push(usage);
          byKey.set(key, list);
        }
      }
    },
    instrument(table) {
      table.doc.middlewareStack.add(
        (next, context) => async (args) => {
          const command = String((context as { commandName?: string }).commandName ?? '').replace(/(Items?)?Command$/, '');
          const kind = READS.has(command) ? 'read' : WRITES.has(command) ? 'write' : undefined;
          const input = args.input as Record<string, unknown>;
          if (kind) input.ReturnConsumedCapacity ??= 'TOTAL';
          const result = await next(args);
          const usage = current.getStore();
          if (kind && usage) {
            const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
            const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
            if (kind === 'read') usage.readUnits += units;
            else usage.writeUnits += units;
          }
          return result;
        },
        { step: 'initialize', name: 'usageMeter' },
      );
    },
    usageOf(keys) {
      const seen = new Set<InvocationUsage>();
      for (const key of keys) for (const u of byKey.get(key) ?? []) seen.add(u);
      return [...seen];
    },
  };
}

/** The CallSid of a Twilio webhook event (form-encoded body, possibly base64 as API Gateway hands it over). */
export function callSidOf(event: { body?: string | undefined; isBase64Encoded?: boolean | undefined }): string | undefined {
  if (!event.body) return undefined;
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return new URLSearchParams(body).get('CallSid') ?? undefined;
}
