import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { apiGatewayTime, awsStyleId, LOCAL_ACCOUNT_ID, LOCAL_API_ID, sourceIp } from './aws-formats.ts';

/** HTTP API payload format 2.0: the event a route's Lambda receives, and its result mapped back to HTTP. */

/**
 * Content types HTTP APIs hand to Lambda as text. Everything else is base64 with isBase64Encoded: true, including
 * `application/x-www-form-urlencoded` (so Twilio's webhook POST arrives base64-encoded in AWS, and here).
 */
function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type.startsWith('text/') || type === 'application/json' || type === 'application/xml' || type === 'application/javascript';
}

export interface MatchedRoute {
  routeKey: string;
  pathParameters?: Record<string, string>;
}

export function httpApiEvent(request: IncomingMessage, body: Buffer, route: MatchedRoute): APIGatewayProxyEventV2 {
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const now = Date.now();
  const requestId = awsStyleId();
  const ip = sourceIp(request.socket.remoteAddress);

  // Repeated headers and query parameters are joined with commas; cookies move to their own array.
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      (cookies ??= []).push(...value.split(';').map((c) => c.trim()).filter(Boolean));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(now / 1000).toString(16)}-${requestId.slice(0, 12)}`;
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${ip}` : ip;
  headers['x-forwarded-port'] ??= String(request.socket.localPort ?? '');
  headers['x-forwarded-proto'] ??= 'http';

  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }

  const domainName = headers.host ?? `${request.socket.localAddress}:${request.socket.localPort}`;
  const text = isTextContentType(headers['content-type']);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      domainName,
      domainPrefix: domainName.split('.')[0]!.split(':')[0]!,
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: ip,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now,
    },
    ...(route.pathParameters ? { pathParameters: route.pathParameters } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
  if (body.length > 0) event.body = text ? body.toString('utf8') : body.toString('base64');
  return event;
}

const StructuredResultSchema = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  cookies: z.array(z.string()).optional(),
});

export interface HttpAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

const json = (status: number, message: string): HttpAnswer => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message })),
});

export const NOT_FOUND = json(404, 'Not Found');
export const INTERNAL_SERVER_ERROR = json(500, 'Internal Server Error');
export const SERVICE_UNAVAILABLE = json(503, 'Service Unavailable');
export const PAYLOAD_TOO_LARGE = json(413, 'Request Entity Too Large');

/**
 * Maps a handler's result the way HTTP APIs do for payload 2.0: a result with `statusCode` is a structured
 * response; anything else without one is taken as a 200 JSON body. A malformed structured result is a 500.
 */
export function httpAnswer(result: unknown): HttpAnswer | undefined {
  const hasStatus = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!hasStatus) {
    if (result === undefined || result === null) return { status: 200, headers: {}, body: Buffer.alloc(0) };
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const parsed = StructuredResultSchema.safeParse(result);
  if (!parsed.success) return undefined;
  const { statusCode, headers = {}, body = '', isBase64Encoded = false, cookies } = parsed.data;
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  if (cookies?.length) out['set-cookie'] = cookies;
  return { status: statusCode, headers: out, body: Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8') };
}
