import { fork } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { localClient } from '../dev/dynamodb/local-dynamodb.ts';
import { createTable, type Table } from '../layers/data/table.ts';
import { ensureTable } from '../layers/data/table-definition.ts';

export interface BenchTable {
  table: Table;
  endpoint: string;
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A fresh table on dynalite running in its own process (bench/dynamo-server.ts). */
export async function startBenchTable(): Promise<BenchTable> {
  const child = fork(fileURLToPath(new URL('./dynamo-server.ts', import.meta.url)), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const [message] = (await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => Promise.reject(new Error(`the dynalite process exited (${String(code)}) before it was ready`))),
  ])) as [{ endpoint: string }];
  const endpoint = message.endpoint;
  const name = `bench-${randomUUID()}`;
  const admin = localClient(endpoint);
  await ensureTable(admin, name);
  admin.destroy();
  const table = createTable({ name, endpoint, region: 'local' });
  return {
    table,
    endpoint,
    async stop() {
      table.doc.destroy();
      if (child.exitCode !== null) return;
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
