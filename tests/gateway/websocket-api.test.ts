import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type Gateway, type GatewayOptions } from '../../dev/gateway/index.ts';
import { connectClient, recordingRoutes, sleep, waitFor, type RecordedRoutes } from './support.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function start(recorded: RecordedRoutes, options: Partial<GatewayOptions> = {}) {
  gateway = await startGateway({ websocket: recorded.routes, ...options });
  return gateway;
}

/** The upgrade fails: ws reports the HTTP status the gateway answered with. */
function refusedStatus(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => reject(new Error('handshake was accepted')));
    ws.once('error', (error) => resolve(error.message));
  });
}

describe('$connect', () => {
  it('accepts the handshake when the handler answers 200 and passes headers and query string', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(`${gw.webSocketUrl}?session=S-123&tag=a&tag=b`, {
      'X-Twilio-Signature': 'c2lnbmF0dXJl',
      'User-Agent': 'TwilioProxy/1.1',
    });

    expect(recorded.connects).toHaveLength(1);
    const event = recorded.connects[0]!;
    expect(event.headers?.['X-Twilio-Signature']).toBe('c2lnbmF0dXJl');
    expect(event.multiValueHeaders?.['X-Twilio-Signature']).toEqual(['c2lnbmF0dXJl']);
    expect(event.headers?.['Host']).toBe(new URL(gw.httpUrl).host);
    expect(event.headers?.['X-Forwarded-Proto']).toBe('http');
    expect(event.queryStringParameters).toEqual({ session: 'S-123', tag: 'b' });
    expect(event.multiValueQueryStringParameters).toEqual({ session: ['S-123'], tag: ['a', 'b'] });
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBeUndefined();
    const context = event.requestContext;
    expect(context).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'ws',
      domainName: new URL(gw.httpUrl).host,
      identity: { sourceIp: '127.0.0.1', userAgent: 'TwilioProxy/1.1' },
    });
    expect(context.messageId).toBeUndefined();
    expect(context.connectionId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(context.requestId).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    expect(context.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(context.requestTimeEpoch - Date.now())).toBeLessThan(60_000);
    expect(context.connectedAt).toBeLessThanOrEqual(context.requestTimeEpoch);
    await client.close();
  });

  it('accepts when the handler returns nothing', async () => {
    const recorded = recordingRoutes({ connect: async () => undefined });
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('refuses the handshake with the handler status and never fires $disconnect', async () => {
    const recorded = recordingRoutes({ connect: async () => ({ statusCode: 403, body: 'Forbidden' }) });
    const gw = await start(recorded);
    expect(await refusedStatus(gw.webSocketUrl)).toContain('403');
    expect(recorded.connects).toHaveLength(1);
    await sleep(50);
    expect(recorded.disconnects).toHaveLength(0);
  });

  it('refuses with 500 when the handler throws', async () => {
    const recorded = recordingRoutes({
      connect: async () => {
        throw new Error('table unavailable');
      },
    });
    const gw = await start(recorded);
    expect(await refusedStatus(gw.webSocketUrl)).toContain('500');
  });

  it('answers 404 to upgrades on other paths', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    expect(await refusedStatus(`${gw.httpUrl.replace('http', 'ws')}/elsewhere`)).toContain('404');
    expect(recorded.connects).toHaveLength(0);
  });
});

describe('$default', () => {
  it('delivers each frame as its own event with the connection identity', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    client.ws.send('{"type":"prompt","voicePrompt":"hello"}');
    await waitFor(() => recorded.messages.length === 1, 15_000, 'the message event');

    const event = recorded.messages[0]!;
    expect(event.body).toBe('{"type":"prompt","voicePrompt":"hello"}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      routeKey: '$default',
      eventType: 'MESSAGE',
      connectionId: recorded.connects[0]!.requestContext.connectionId,
      connectedAt: recorded.connects[0]!.requestContext.connectedAt,
      stage: 'ws',
    });
    expect(event.requestContext.messageId).toMatch(/=$/);
    expect(event.requestContext.requestId).not.toBe(recorded.connects[0]!.requestContext.requestId);
    // The handler's return value is not a route response: nothing reaches the client.
    await sleep(100);
    expect(client.frames).toEqual([]);
    await client.close();
  });

  it('runs frames of one connection concurrently', async () => {
    const spans: Array<{ start: number; end: number }> = [];
    // Each handler holds until both have started: serialized handlers never get there, and give up after 10 s
    // (then the second starts after the first ended and the check below fails). A fixed hold raced a busy machine.
    let started = 0;
    let bothStarted!: () => void;
    const both = new Promise<void>((resolve) => (bothStarted = resolve));
    const recorded = recordingRoutes({
      message: async () => {
        const start = performance.now();
        if (++started === 2) bothStarted();
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([both, new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 10_000)))]);
        clearTimeout(giveUp);
        spans.push({ start, end: performance.now() });
      },
    });
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    client.ws.send('one');
    client.ws.send('two');
    await waitFor(() => spans.length === 2, 10_000, 'both handlers');
    const [first, second] = [...spans].sort((a, b) => a.start - b.start);
    // Serialized handlers would start the second only after the first ended.
    expect(second!.start).toBeLessThan(first!.end);
    await client.close();
  });

  it('sends the AWS error frame when the handler throws', async () => {
    const recorded = recordingRoutes({
      message: async () => {
        throw new Error('boom');
      },
    });
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    client.ws.send('{"type":"prompt"}');
    const frame = await client.nextFrame();
    const { connectionId, requestId } = recorded.messages[0]!.requestContext;
    expect(JSON.parse(frame)).toEqual({ message: 'Internal server error', connectionId, requestId });
    expect(frame.startsWith('{"message": "Internal server error"')).toBe(true);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    await client.close();
  });

  it('sends the AWS error frame when a handler throws synchronously', async () => {
    const recorded = recordingRoutes({
      message: () => {
        throw new Error('sync boom');
      },
    });
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    client.ws.send('x');
    expect(JSON.parse(await client.nextFrame()).message).toBe('Internal server error');
    await client.close();
  });

  it('sends the AWS timeout frame when the handler outlives the integration timeout', async () => {
    let handlerDone!: () => void;
    const done = new Promise<void>((resolve) => (handlerDone = resolve));
    const recorded = recordingRoutes({ message: () => sleep(1500).then(handlerDone) });
    const gw = await start(recorded, { integrationTimeoutMs: 150 });
    const client = await connectClient(gw.webSocketUrl);
    client.ws.send('slow');
    const frame = await client.nextFrame();
    const { connectionId, requestId } = recorded.messages[0]!.requestContext;
    expect(JSON.parse(frame)).toEqual({ message: 'Endpoint request timed out', connectionId, requestId });
    // The late completion sends nothing more: once the handler has finished, and the gateway has had its turn.
    await done;
    await sleep(50);
    expect(client.frames).toHaveLength(1);
    await client.close();
  });

  it('closes with 1009 when a message exceeds 128 KB', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    client.ws.on('error', () => undefined);
    client.ws.send('x'.repeat(128 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    await waitFor(() => recorded.disconnects.length === 1, 15_000, '$disconnect');
    expect(recorded.disconnects[0]!.requestContext.disconnectStatusCode).toBe(1009);
    expect(recorded.messages).toHaveLength(0);
  });

  it('closes with 1003 on a binary frame, as API Gateway does', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    client.ws.send(Buffer.from([1, 2, 3]));
    expect((await client.closed).code).toBe(1003);
    await waitFor(() => recorded.disconnects.length === 1, 15_000, '$disconnect');
    expect(recorded.disconnects[0]!.requestContext.disconnectStatusCode).toBe(1003);
    expect(recorded.messages).toHaveLength(0);
  });
});

describe('$disconnect', () => {
  it('fires once when the client closes, with its status code and reason', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    await client.close(1000, 'caller hung up');
    await waitFor(() => recorded.disconnects.length === 1, 15_000, '$disconnect');
    const event = recorded.disconnects[0]!;
    expect(event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId: recorded.connects[0]!.requestContext.connectionId,
      disconnectStatusCode: 1000,
    });
    expect(event.requestContext.disconnectReason).toContain('caller hung up');
    await gw.stop();
    await sleep(50);
    expect(recorded.disconnects).toHaveLength(1);
  });

  it('fires once when the server closes the connection, and disconnect() waits for it', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    const { connectionId } = recorded.connects[0]!.requestContext;
    await gw.disconnect(connectionId);
    expect(recorded.disconnects).toHaveLength(1);
    expect(recorded.disconnects[0]!.requestContext.disconnectStatusCode).toBe(1000);
    expect((await client.closed).code).toBe(1000);
    await gw.disconnect(connectionId);
    await sleep(50);
    expect(recorded.disconnects).toHaveLength(1);
  });

  it('drop() cuts the socket with no close handshake (1006 on both sides), fires once, and the client can reconnect', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const client = await connectClient(gw.webSocketUrl);
    const { connectionId } = recorded.connects[0]!.requestContext;
    await gw.drop(connectionId);
    expect(recorded.disconnects).toHaveLength(1);
    expect(recorded.disconnects[0]!.requestContext).toMatchObject({ connectionId, disconnectStatusCode: 1006 });
    expect((await client.closed).code).toBe(1006);
    await gw.drop(connectionId);
    expect(recorded.disconnects).toHaveLength(1);
    await connectClient(gw.webSocketUrl);
    expect(recorded.connects[1]!.requestContext.connectionId).not.toBe(connectionId);
  });

  it('fires for every open socket when the gateway stops', async () => {
    const recorded = recordingRoutes();
    const gw = await start(recorded);
    const a = await connectClient(gw.webSocketUrl);
    const b = await connectClient(gw.webSocketUrl);
    await gw.stop();
    expect(recorded.disconnects.map((e) => e.requestContext.connectionId).sort()).toEqual(
      recorded.connects.map((e) => e.requestContext.connectionId).sort(),
    );
    expect(recorded.disconnects.every((e) => e.requestContext.disconnectStatusCode === 1001)).toBe(true);
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
  });
});
