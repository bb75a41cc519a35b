import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server speaking Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), running the
 * given handlers in-process. Lets the real LambdaClient exercise our AWS code paths without AWS. An `Event`
 * invocation is answered 202 before its handler runs, as Lambda queues it.
 */
export interface FakeLambda {
  endpoint: string;
  invocations: { functionName: string; payload: unknown; invocationType: string }[];
  /** Resolves once every `Event` invocation's handler has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeLambda(functions: Record<string, (event: unknown) => Promise<unknown>>): Promise<FakeLambda> {
  const invocations: FakeLambda['invocations'] = [];
  const queued = new Set<Promise<unknown>>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', async () => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
      const name = m?.[1] ? decodeURIComponent(m[1]) : '';
      const fn = functions[name];
      if (!fn) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }));
        return;
      }
      const payload: unknown = body ? JSON.parse(body) : null;
      const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      invocations.push({ functionName: name, payload, invocationType });
      if (invocationType === 'Event') {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end();
        const run = fn(payload).catch(() => undefined);
        queued.add(run);
        void run.finally(() => queued.delete(run));
        return;
      }
      try {
        const out = await fn(payload);
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        res.end(JSON.stringify(out ?? null));
      } catch (err) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
        res.end(JSON.stringify({ errorType: (err as Error).name, errorMessage: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    invocations,
    async settled() {
      while (queued.size > 0) await Promise.allSettled([...queued]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
