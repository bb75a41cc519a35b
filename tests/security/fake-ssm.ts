import { createServer, type Server } from 'node:http';

/**
 * A local stand-in for SSM Parameter Store that speaks its wire protocol (AWS JSON 1.1, `AmazonSSM.GetParameter`),
 * so the real SSMClient is exercised end to end. Counts requests per parameter name.
 */
export interface FakeSsm {
  endpoint: string;
  requests: { target: string; name: string; withDecryption: boolean }[];
  /** Make the next N GetParameter calls fail with a throttling error the SDK does not retry forever. */
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startFakeSsm(parameters: Record<string, string>): Promise<FakeSsm> {
  const requests: FakeSsm['requests'] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Name?: string; WithDecryption?: boolean };
      requests.push({ target, name: body.Name ?? '', withDecryption: body.WithDecryption === true });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (target !== 'AmazonSSM.GetParameter') return reply(400, { __type: 'InvalidAction', message: `unsupported ${target}` });
      if (failures > 0) {
        failures -= 1;
        return reply(400, { __type: 'AccessDeniedException', message: 'not allowed right now' });
      }
      const value = parameters[body.Name ?? ''];
      if (value === undefined) return reply(400, { __type: 'ParameterNotFound', message: 'no such parameter' });
      reply(200, { Parameter: { Name: body.Name, Type: 'SecureString', Value: value, Version: 1, DataType: 'text' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    failNext: (count) => {
      failures = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
