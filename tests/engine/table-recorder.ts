import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { preciseNow } from '../../dev/llm/index.ts';

/** One DynamoDB request as it reached the table's server: its operation and when its headers arrived. */
export interface TableRequest {
  operation: string;
  receivedAt: number;
}

export interface TableRecorder {
  endpoint: string;
  requests: TableRequest[];
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of the local DynamoDB that notes when each request arrived, on the same clock
 * as the local LLM server's `receivedAt`: the order of events at the wire, not inside the handler.
 */
export async function startTableRecorder(target: string): Promise<TableRecorder> {
  const upstream = new URL(target);
  const requests: TableRequest[] = [];
  const server: Server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    requests.push({ operation: target.slice(target.lastIndexOf('.') + 1), receivedAt: preciseNow() });
    const forward = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
