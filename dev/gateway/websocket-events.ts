import type { IncomingMessage } from 'node:http';
import { apiGatewayTime, awsStyleId, LOCAL_API_ID } from './aws-formats.ts';
import type { Connection, CloseCause } from './connection.ts';
import type { WebSocketEvent, WebSocketRequestContext } from './types.ts';

/** API Gateway WebSocket Lambda proxy events, built from what the local server saw. */

interface ConnectionFacts {
  connectionId: string;
  connectedAt: number;
  stage: string;
  domainName: string;
  identity: { sourceIp: string; userAgent?: string };
}

function requestContext(
  facts: ConnectionFacts,
  route: Pick<WebSocketRequestContext, 'routeKey' | 'eventType'>,
): WebSocketRequestContext {
  const now = Date.now();
  const requestId = awsStyleId();
  return {
    routeKey: route.routeKey,
    eventType: route.eventType,
    extendedRequestId: requestId,
    requestTime: apiGatewayTime(now),
    messageDirection: 'IN',
    stage: facts.stage,
    connectedAt: facts.connectedAt,
    requestTimeEpoch: now,
    identity: facts.identity,
    requestId,
    domainName: facts.domainName,
    connectionId: facts.connectionId,
    apiId: LOCAL_API_ID,
  };
}

/** Header names keep the client's casing; `headers` holds the last value of a repeated header, as in AWS. */
function handshakeHeaders(request: IncomingMessage, extra: Record<string, string>) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  const add = (name: string, value: string) => {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  };
  for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i]!, raw[i + 1]!);
  for (const [name, value] of Object.entries(extra)) add(name, value);
  return { headers, multiValueHeaders };
}

function queryParameters(search: URLSearchParams) {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of search) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  return Object.keys(single).length ? { queryStringParameters: single, multiValueQueryStringParameters: multi } : {};
}

export function connectEvent(facts: ConnectionFacts, request: IncomingMessage, search: URLSearchParams): WebSocketEvent {
  const port = String(request.socket.localPort ?? '');
  const { headers, multiValueHeaders } = handshakeHeaders(request, {
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(facts.connectedAt / 1000).toString(16)}-${awsStyleId().slice(0, 12)}`,
    'X-Forwarded-For': facts.identity.sourceIp,
    'X-Forwarded-Port': port,
    'X-Forwarded-Proto': 'http',
  });
  return {
    headers,
    multiValueHeaders,
    ...queryParameters(search),
    requestContext: requestContext(facts, { routeKey: '$connect', eventType: 'CONNECT' }),
    isBase64Encoded: false,
  };
}

export function connectionFacts(connection: Connection, stage: string): ConnectionFacts {
  return {
    connectionId: connection.id,
    connectedAt: connection.connectedAt,
    stage,
    domainName: connection.domainName,
    identity: connection.identity,
  };
}

export function messageEvent(facts: ConnectionFacts, body: string): WebSocketEvent {
  const context = requestContext(facts, { routeKey: '$default', eventType: 'MESSAGE' });
  context.messageId = awsStyleId();
  return { requestContext: context, body, isBase64Encoded: false };
}

export function disconnectEvent(facts: ConnectionFacts, cause: CloseCause): WebSocketEvent {
  const context = requestContext(facts, { routeKey: '$disconnect', eventType: 'DISCONNECT' });
  context.disconnectStatusCode = cause.code;
  context.disconnectReason = cause.reason;
  // AWS sends a few headers on $disconnect too; these are the ones that mean anything locally.
  const headers = { Host: facts.domainName, 'X-Forwarded-For': facts.identity.sourceIp };
  const multiValueHeaders = { Host: [facts.domainName], 'X-Forwarded-For': [facts.identity.sourceIp] };
  return { headers, multiValueHeaders, requestContext: context, isBase64Encoded: false };
}

const CLOSE_CODE_NAMES: Record<number, string> = {
  1000: 'NORMAL_CLOSURE',
  1001: 'GOING_AWAY',
  1002: 'PROTOCOL_ERROR',
  1003: 'UNSUPPORTED_DATA',
  1005: 'NO_STATUS_CODE',
  1006: 'ABNORMAL_CLOSURE',
  1007: 'INVALID_PAYLOAD',
  1008: 'POLICY_VIOLATION',
  1009: 'MESSAGE_TOO_BIG',
  1011: 'INTERNAL_ERROR',
};

/** How AWS words a close the client started (informational: handlers should not parse it). */
export function clientCloseCause(code: number, reason: string): CloseCause {
  if (code === 1006) return { code, reason: 'Going away' };
  const name = CLOSE_CODE_NAMES[code] ?? 'UNKNOWN';
  const said = reason ? ` - with client-provided reason: ${reason}` : '';
  return { code, reason: `Client-side close frame status code '${code}' (${name})${said}` };
}
