import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body up to a limit. Callback style on purpose: the @connections path sits inside latency
 * measurements and should not pay for a promise hop. Past the limit the rest is drained and `undefined` is passed.
 */
export function readBody(request: IncomingMessage, limitBytes: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limitBytes) {
      tooLarge = true;
      chunks.length = 0;
    } else if (!tooLarge) chunks.push(chunk);
  });
  request.on('end', () => done(tooLarge ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  request.on('error', () => undefined);
}
