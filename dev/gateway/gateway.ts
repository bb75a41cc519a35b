import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { logger } from '../../layers/observability/logger.ts';
import { ConnectionRegistry } from './connection.ts';
import { handleConnectionsRequest, type ConnectionsApiContext } from './connections-api.ts';
import { HttpApi } from './http-api.ts';
import { isLocalRequest } from './local-request.ts';
import { Integrations } from './integration.ts';
import { PostLatencySchema, resolveGatewayOptions } from './options.ts';
import { Outbox } from './outbox.ts';
import type { Gateway, GatewayOptions, PostLatency, RecordedPost } from './types.ts';
import { rejectHandshake, WebSocketApi } from './websocket-api.ts';

/**
 * A local stand-in for Amazon API Gateway on one HTTP server: the HTTP API routes, the WebSocket API on `/{stage}`
 * and its @connections management endpoint, so the Lambda handlers run unchanged.
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config = resolveGatewayOptions(options);
  const registry = new ConnectionRegistry();
  const integrations = new Integrations(config.integrationTimeoutMs);
  const posts: RecordedPost[] = [];
  const goneOutbox = new Outbox();
  let postLatency: PostLatency = config.postLatencyMs;

  const webSocketApi = config.websocket
    ? new WebSocketApi({ stage: config.stage, routes: config.websocket, registry, integrations })
    : undefined;
  const httpApi = new HttpApi(config.httpRoutes, integrations);

  const connectionsApi: ConnectionsApiContext = {
    registry,
    posts,
    goneOutbox,
    latencyFor(connectionId) {
      if (typeof postLatency === 'number') return postLatency;
      const latency = postLatency(connectionId);
      if (Number.isFinite(latency) && latency >= 0) return latency;
      logger.warn('post latency function returned an unusable value; using 0', { connectionId, latency });
      return 0;
    },
    closeFromServer: (connection, cause) => webSocketApi?.closeFromServer(connection, cause) ?? Promise.resolve(),
  };

  const stagePath = `/${config.stage}`;
  const connectionsPrefix = `${stagePath}/@connections/`;

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    if (pathname.startsWith(connectionsPrefix) && pathname.length > connectionsPrefix.length) {
      // In AWS only holders of IAM credentials reach @connections. Here nothing is signed, so only this machine
      // may: otherwise anyone who learns a connection id through a tunnel could speak into the call or end it.
      if (!isLocalRequest(request)) {
        request.resume();
        response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' });
        response.end(JSON.stringify({ message: 'Forbidden: @connections accepts requests from this machine only' }));
        return;
      }
      handleConnectionsRequest(connectionsApi, request, response, pathname.slice(connectionsPrefix.length));
    } else if (!config.extra?.request(request, response, pathname)) {
      httpApi.handle(request, response, pathname);
    }
  });
  // The @connections client keeps sockets alive between posts, like the SDK does against AWS.
  server.keepAliveTimeout = 60_000;

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const onStage = url.pathname === stagePath || url.pathname === `${stagePath}/`;
    if (!onStage && config.extra?.upgrade(request, socket, head, url)) return;
    if (!webSocketApi || !onStage) {
      socket.on('error', () => undefined);
      return rejectHandshake(socket, 404);
    }
    webSocketApi.handleUpgrade(request, socket, head, url.searchParams);
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // Listening on every interface: this machine's own clients (the @connections client, the callers) use loopback.
  const urlHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  const hostInUrl = urlHost.includes(':') ? `[${urlHost}]` : urlHost;
  const httpUrl = `http://${hostInUrl}:${port}`;

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await webSocketApi?.closeAll();
    // Sockets are closed now, so whatever was still waiting out its latency answers 410 at once.
    for (const outbox of registry.outboxes()) outbox.flush();
    goneOutbox.flush();
    integrations.abandonAll();
    server.closeAllConnections();
    await closed;
  };

  return {
    httpUrl,
    webSocketUrl: `ws://${hostInUrl}:${port}${stagePath}`,
    connectionsEndpoint: `${httpUrl}${stagePath}`,
    posts,
    setPostLatency(latency) {
      const parsed = PostLatencySchema.safeParse(latency);
      if (!parsed.success) throw new Error('setPostLatency: a non-negative number of ms, or a function of the connection id');
      postLatency = parsed.data;
    },
    markGone(connectionId) {
      registry.markGone(connectionId);
    },
    async disconnect(connectionId) {
      const connection = registry.get(connectionId);
      if (!connection || !webSocketApi) return;
      await webSocketApi.closeFromServer(connection, { code: 1000, reason: 'Connection Closed Normally' });
    },
    async drop(connectionId) {
      const connection = registry.get(connectionId);
      if (!connection || !webSocketApi) return;
      await webSocketApi.dropFromServer(connection);
    },
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}
