import type { IncomingMessage, ServerResponse } from 'node:http';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { awsStyleId, preciseNow } from './aws-formats.ts';
import type { CloseCause, Connection, ConnectionRegistry } from './connection.ts';
import type { Outbox } from './outbox.ts';
import { readBody } from './request-body.ts';
import type { RecordedPost } from './types.ts';

/**
 * The @connections management API (`/{stage}/@connections/{id}`) that ApiGatewayManagementApiClient talks to.
 * Errors carry `x-amzn-errortype` so the real SDK throws the matching exception class (GoneException, ...).
 * SigV4 headers are accepted as they come: there is nothing to authenticate against locally.
 */

/** API Gateway's limit on a PostToConnection payload. */
export const MAX_POST_BYTES = 128 * 1024;

export interface ConnectionsApiContext {
  registry: ConnectionRegistry;
  posts: RecordedPost[];
  /** Simulated round trip for a request to this connection, in ms. */
  latencyFor(connectionId: string): number;
  /** Orders answers to connections that are already gone when the post arrives. */
  goneOutbox: Outbox;
  closeFromServer(connection: Connection, cause: CloseCause): Promise<void>;
}

const ConnectionIdSchema = z.string().min(1).max(256);

function answer(response: ServerResponse, status: number, body?: unknown, errorType?: string): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': awsStyleId(),
  };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  response.writeHead(status, headers);
  response.end(text);
}

function gone(response: ServerResponse): void {
  answer(response, 410, { message: 'GoneException' }, 'GoneException');
}

function parseConnectionId(encoded: string): string | undefined {
  try {
    const parsed = ConnectionIdSchema.safeParse(decodeURIComponent(encoded));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function handleConnectionsRequest(
  context: ConnectionsApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  encodedId: string,
): void {
  const connectionId = parseConnectionId(encodedId);
  if (connectionId === undefined) {
    request.resume();
    answer(response, 400, { message: 'Invalid connectionId' }, 'BadRequestException');
    return;
  }
  switch (request.method) {
    case 'POST':
      postToConnection(context, request, response, connectionId);
      return;
    case 'GET':
      request.resume();
      getConnection(context, response, connectionId);
      return;
    case 'DELETE':
      request.resume();
      deleteConnection(context, response, connectionId);
      return;
    default:
      request.resume();
      answer(response, 403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
  }
}

function postToConnection(
  context: ConnectionsApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  connectionId: string,
): void {
  readBody(request, MAX_POST_BYTES, (body) => {
    const receivedAt = preciseNow();
    const record = (data: string, status: number) =>
      context.posts.push({ connectionId, data, receivedAt, answeredAt: preciseNow(), status });
    if (!body) {
      answer(response, 413, { message: 'Message too long' }, 'PayloadTooLargeException');
      record('', 413);
      return;
    }
    const data = body.toString('utf8');
    const outbox = context.registry.reachable(connectionId)?.outbox ?? context.goneOutbox;
    outbox.schedule(context.latencyFor(connectionId), () => {
      // Reachability is decided at delivery: a hang-up during the round trip loses the frame, as in AWS.
      const target = context.registry.reachable(connectionId);
      if (!target || target.socket.readyState !== WebSocket.OPEN) {
        gone(response);
        record(data, 410);
        return;
      }
      target.socket.send(body, { binary: false });
      target.lastActiveAt = Date.now();
      answer(response, 200);
      record(data, 200);
    });
  });
}

function getConnection(context: ConnectionsApiContext, response: ServerResponse, connectionId: string): void {
  const connection = context.registry.reachable(connectionId);
  if (!connection) return gone(response);
  // The wire names are lower camel case; the SDK maps them to ConnectedAt / Identity / LastActiveAt.
  answer(response, 200, {
    connectedAt: new Date(connection.connectedAt).toISOString(),
    identity: { sourceIp: connection.identity.sourceIp, userAgent: connection.identity.userAgent ?? '' },
    lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
  });
}

function deleteConnection(context: ConnectionsApiContext, response: ServerResponse, connectionId: string): void {
  const connection = context.registry.reachable(connectionId);
  if (!connection) return gone(response);
  // AWS answers at once; $disconnect follows asynchronously.
  void context.closeFromServer(connection, { code: 1000, reason: 'Connection Closed Normally' });
  response.writeHead(204, { 'x-amzn-requestid': awsStyleId() });
  response.end();
}
