import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * The public shape of the local API Gateway. The Lambda-facing types mirror what AWS sends so the same handlers run
 * unchanged here and in a deployed stack.
 */

/**
 * requestContext of an API Gateway WebSocket Lambda proxy event. AWS leaves `messageId` out of CONNECT/DISCONNECT and
 * adds `disconnectStatusCode`/`disconnectReason` to DISCONNECT only.
 */
export interface WebSocketRequestContext {
  routeKey: '$connect' | '$default' | '$disconnect';
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  extendedRequestId: string;
  /** e.g. `09/Apr/2019:18:18:23 +0000` */
  requestTime: string;
  messageDirection: 'IN';
  stage: string;
  /** Epoch ms when the client's upgrade request arrived; the same on every event of the connection. */
  connectedAt: number;
  requestTimeEpoch: number;
  identity: { sourceIp: string; userAgent?: string };
  requestId: string;
  domainName: string;
  connectionId: string;
  apiId: string;
  messageId?: string;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  /** $connect and $disconnect only (header names keep the client's casing, as in AWS). */
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  /** $connect only, and only when the URL had a query string. */
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  /** MESSAGE only: the text frame as received. */
  body?: string;
  isBase64Encoded: boolean;
}

export interface ConnectResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface WebSocketRoutes {
  /** 200 (or no result) accepts the upgrade; any other status rejects the handshake with that status. */
  connect(event: WebSocketEvent): Promise<ConnectResult | void>;
  /** The $default route. Its result is not sent to the client (no route response is configured). */
  message(event: WebSocketEvent): Promise<unknown>;
  disconnect(event: WebSocketEvent): Promise<unknown>;
}

export interface HttpRoute {
  /** An HTTP method, or `ANY`. */
  method: string;
  /** Exact path; `{name}` matches one segment and `{name+}` the rest of the path (both land in pathParameters). */
  path: string;
  handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2>;
}

export type PostLatency = number | ((connectionId: string) => number);

export interface GatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or unset: a free port. */
  port?: number;
  /** Default `ws`: WebSocket at `/${stage}`, @connections at `/${stage}/@connections/{id}`. */
  stage?: string;
  websocket?: WebSocketRoutes;
  httpRoutes?: HttpRoute[];
  /** Simulated round trip of each @connections request (the answer, and the frame, come after it). */
  postLatencyMs?: PostLatency;
  /** Default 29000, like API Gateway. */
  integrationTimeoutMs?: number;
  /**
   * Requests and upgrades no route of the API matches (the local web console). Each returns true when it took the
   * request. Served on the same port, so a newcomer has one URL.
   */
  extra?: ExtraHandler;
}

export interface ExtraHandler {
  request(request: IncomingMessage, response: ServerResponse, pathname: string): boolean;
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean;
}

export interface RecordedPost {
  connectionId: string;
  data: string;
  /** performance.timeOrigin + performance.now() (epoch ms with sub-ms precision) when the request body was complete. */
  receivedAt: number;
  /** Same clock, when the answer was written. */
  answeredAt: number;
  /** 200 delivered, 410 gone, 413 too large. */
  status: number;
}

export interface Gateway {
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** ws://127.0.0.1:PORT/ws */
  webSocketUrl: string;
  /** http://127.0.0.1:PORT/ws, for `new ApiGatewayManagementApiClient({ endpoint })`. */
  connectionsEndpoint: string;
  /** Every @connections POST, in the order they were answered. */
  posts: RecordedPost[];
  setPostLatency(latency: PostLatency): void;
  /** Later posts (and GETs) to this connection answer 410 GoneException, as after a hang-up. The socket stays open. */
  markGone(connectionId: string): void;
  /** Server-side close; resolves once $disconnect has run. */
  disconnect(connectionId: string): Promise<void>;
  /** Cuts the socket with no close handshake (a network blip: 1006 on both sides); resolves once $disconnect has run. */
  drop(connectionId: string): Promise<void>;
  /** Closes every socket (firing $disconnect), answers pending posts, and leaves no open handles. */
  stop(): Promise<void>;
}
