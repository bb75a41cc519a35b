import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
  type ApiGatewayManagementApiClient,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../dev/gateway/index.ts';
import { connectClient, managementClient, recordingRoutes, sleep, waitFor, type RecordedRoutes, type TestClient } from './support.ts';

let gateway: Gateway | undefined;
let sdk: ApiGatewayManagementApiClient | undefined;
afterEach(async () => {
  sdk?.destroy();
  await gateway?.stop();
  gateway = undefined;
  sdk = undefined;
});

async function connected(): Promise<{ gw: Gateway; recorded: RecordedRoutes; client: TestClient; connectionId: string; api: ApiGatewayManagementApiClient }> {
  const recorded = recordingRoutes();
  gateway = await startGateway({ websocket: recorded.routes });
  const client = await connectClient(gateway.webSocketUrl, { 'User-Agent': 'TwilioProxy/1.1' });
  sdk = managementClient(gateway.connectionsEndpoint);
  return { gw: gateway, recorded, client, connectionId: recorded.connects[0]!.requestContext.connectionId, api: sdk };
}

const post = (api: ApiGatewayManagementApiClient, connectionId: string, data: string) =>
  api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));

async function errorOf(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('PostToConnection', () => {
  it('delivers the body verbatim as one text frame and records the post', async () => {
    const { gw, client, connectionId, api } = await connected();
    const payload = '{"type":"text","token":"Hello, \\"world\\" — ünïcode","last":false}';
    const answer = await post(api, connectionId, payload);
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(await client.nextFrame()).toBe(payload);
    expect(client.binaryFrames).toBe(0);
    expect(gw.posts).toHaveLength(1);
    expect(gw.posts[0]).toMatchObject({ connectionId, data: payload, status: 200 });
    expect(gw.posts[0]!.answeredAt).toBeGreaterThanOrEqual(gw.posts[0]!.receivedAt);
    expect(Math.abs(gw.posts[0]!.receivedAt - Date.now())).toBeLessThan(60_000);
  });

  it('delivers sequential posts in order', async () => {
    const { client, connectionId, api } = await connected();
    const tokens = Array.from({ length: 30 }, (_, i) => `token-${i}`);
    for (const token of tokens) await post(api, connectionId, token);
    await waitFor(() => client.frames.length === tokens.length, 15_000, 'all frames');
    expect(client.frames).toEqual(tokens);
  });

  it('keeps concurrent posts in arrival order even when later ones have a shorter round trip', async () => {
    const { gw, client, connectionId, api } = await connected();
    const latencies: number[] = [];
    // Each post is simulated faster than the one before: without ordering, frames would come out reversed.
    gw.setPostLatency(() => {
      const latency = Math.max(0, 300 - 30 * (latencies.length + 1));
      latencies.push(latency);
      return latency;
    });
    const tokens = Array.from({ length: 10 }, (_, i) => `t${i}`);
    await Promise.all(tokens.map((token) => post(api, connectionId, token)));
    await waitFor(() => client.frames.length === tokens.length, 15_000, 'all frames');
    const byArrival = [...gw.posts].sort((a, b) => a.receivedAt - b.receivedAt);
    expect(client.frames).toEqual(byArrival.map((p) => p.data));
    expect([...client.frames].sort()).toEqual([...tokens].sort());
    // ...and none is answered before its own round trip (2 ms of timer rounding allowed).
    byArrival.forEach((p, i) => expect(p.answeredAt - p.receivedAt).toBeGreaterThanOrEqual(latencies[i]! - 2));
  });

  it('holds the answer and the frame back by the simulated latency', async () => {
    const { gw, client, connectionId, api } = await connected();
    gw.setPostLatency(300);
    const started = performance.now();
    await post(api, connectionId, 'slow');
    const answeredAfter = performance.now() - started;
    expect(answeredAfter).toBeGreaterThanOrEqual(290);
    expect(client.frameTimes[0]! - started).toBeGreaterThanOrEqual(290);
    expect(gw.posts[0]!.answeredAt - gw.posts[0]!.receivedAt).toBeGreaterThanOrEqual(290);

    gw.setPostLatency(0);
    await post(api, connectionId, 'fast');
    // The setting really changed: the gateway answered at once instead of holding the post. Measured inside the
    // gateway, so a busy machine's slow client round trip cannot make it look held.
    const fast = gw.posts[1]!;
    expect(fast.answeredAt - fast.receivedAt).toBeLessThan(290);
  });

  it('latency can be chosen per connection', async () => {
    const recorded = recordingRoutes();
    gateway = await startGateway({ websocket: recorded.routes });
    const slowClient = await connectClient(gateway.webSocketUrl);
    const fastClient = await connectClient(gateway.webSocketUrl);
    const [slowId, fastId] = recorded.connects.map((e) => e.requestContext.connectionId) as [string, string];
    gateway.setPostLatency((id) => (id === slowId ? 400 : 0));
    sdk = managementClient(gateway.connectionsEndpoint);
    const slowPost = post(sdk, slowId, 'slow');
    await post(sdk, fastId, 'fast');
    expect(fastClient.frames).toEqual(['fast']);
    expect(slowClient.frames).toEqual([]);
    await slowPost;
    expect(slowClient.frames).toEqual(['slow']);
  });

  it('answers GoneException after markGone, without delivering', async () => {
    const { gw, client, connectionId, api } = await connected();
    gw.markGone(connectionId);
    const error = await errorOf(post(api, connectionId, 'lost'));
    expect(error.name).toBe('GoneException');
    expect(error.$metadata?.httpStatusCode).toBe(410);
    await sleep(50);
    expect(client.frames).toEqual([]);
    expect(gw.posts[0]).toMatchObject({ connectionId, data: 'lost', status: 410 });
  });

  it('answers GoneException for a closed socket and for an unknown id', async () => {
    const { recorded, client, connectionId, api } = await connected();
    await client.close();
    await waitFor(() => recorded.disconnects.length === 1, 15_000, '$disconnect');
    expect((await errorOf(post(api, connectionId, 'late'))).name).toBe('GoneException');
    expect((await errorOf(post(api, connectionId.replace(/^./, 'Z') + 'x', 'nobody'))).name).toBe('GoneException');
  });

  it('answers GoneException when the caller hangs up during the round trip', async () => {
    const { gw, recorded, client, connectionId, api } = await connected();
    // The hang-up starts once the post has arrived, and has 2 s of simulated latency to finish in: a fixed 50 ms
    // wait and 300 ms of latency let a busy machine deliver the post before the hang-up.
    let arrived!: () => void;
    const postArrived = new Promise<void>((resolve) => (arrived = resolve));
    gw.setPostLatency(() => (arrived(), 2_000));
    const pending = errorOf(post(api, connectionId, 'in flight'));
    await postArrived;
    await client.close();
    await waitFor(() => recorded.disconnects.length === 1, 15_000, '$disconnect');
    expect((await pending).name).toBe('GoneException');
  });

  it('refuses payloads over 128 KB with PayloadTooLargeException', async () => {
    const { client, connectionId, api } = await connected();
    const error = await errorOf(post(api, connectionId, 'x'.repeat(128 * 1024 + 1)));
    expect(error.name).toBe('PayloadTooLargeException');
    expect(client.frames).toEqual([]);
  });
});

describe('GetConnection and DeleteConnection', () => {
  it('GetConnection describes the open connection', async () => {
    const { connectionId, api, client } = await connected();
    client.ws.send('activity');
    await sleep(20);
    const info = await api.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(info.ConnectedAt!.getTime());
    expect(Math.abs(info.ConnectedAt!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'TwilioProxy/1.1' });
  });

  it('DeleteConnection closes the socket and fires $disconnect once', async () => {
    const { recorded, client, connectionId, api } = await connected();
    const answer = await api.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect(answer.$metadata.httpStatusCode).toBe(204);
    expect((await client.closed).code).toBe(1000);
    await waitFor(() => recorded.disconnects.length === 1, 15_000, '$disconnect');
    expect(recorded.disconnects[0]!.requestContext.disconnectStatusCode).toBe(1000);
    expect((await errorOf(api.send(new GetConnectionCommand({ ConnectionId: connectionId })))).name).toBe('GoneException');
    expect((await errorOf(api.send(new DeleteConnectionCommand({ ConnectionId: connectionId })))).name).toBe('GoneException');
    await sleep(50);
    expect(recorded.disconnects).toHaveLength(1);
  });
});

describe('stop()', () => {
  it('answers posts still waiting out their latency with GoneException', async () => {
    const { gw, connectionId, api } = await connected();
    // The latency is asked for when the post has arrived: from then on it is waiting out its latency. (A fixed
    // 100 ms wait could stop the gateway before a busy machine had delivered the post at all.)
    let arrived!: () => void;
    const postArrived = new Promise<void>((resolve) => (arrived = resolve));
    gw.setPostLatency(() => (arrived(), 10_000));
    const pending = errorOf(post(api, connectionId, 'never delivered'));
    await postArrived;
    expect(gw.posts).toHaveLength(0);
    const stopping = gw.stop();
    expect((await pending).name).toBe('GoneException');
    await stopping;
  });
});
