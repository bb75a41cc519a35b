import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSqs {
  endpoint: string;
  /** Every request, in arrival order: its X-Amz-Target and JSON body. */
  received: { target: string | undefined; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

/**
 * A local server speaking SQS's JSON protocol for SendMessage (what the call timer sends): the real SQSClient
 * posts to it and checks the MD5 of the body it answers with.
 */
export async function startFakeSqs(): Promise<FakeSqs> {
  const received: FakeSqs['received'] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      received.push({ target: req.headers['x-amz-target'] as string | undefined, body });
      const md5 = createHash('md5').update(String(body.MessageBody)).digest('hex');
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ MessageId: `m-${received.length}`, MD5OfMessageBody: md5 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
