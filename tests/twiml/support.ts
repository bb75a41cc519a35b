import { createServer } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { expect } from 'vitest';
import type { HttpEvent } from '../../03_twiml-api/src/http.ts';
import type { Table, UseCaseConfigInput } from '../../layers/data/index.ts';
import type { AppLogger } from '../../layers/observability/logger.ts';
import { signTwilioRequest } from '../../layers/security/webhook.ts';

export const AUTH_TOKEN = 'test-auth-token-5f2c9a0d7e3b41c8';
export const HOST = 'abc123.execute-api.us-east-1.amazonaws.com';
export const WEBSOCKET_URL = 'wss://ws789.execute-api.us-east-1.amazonaws.com/prod';

export interface RequestOptions {
  path: string;
  params: Record<string, string>;
  /** rawQueryString as received. */
  query?: string;
  host?: string;
  stage?: string;
  /** rawPath; defaults to the stage prefix (if any) + path, as HTTP API sends it. */
  rawPath?: string;
  forwardedProto?: string;
  /** Sign with this token over `signUrl` (default: the URL the request really has); `null` = unsigned. */
  signWith?: string | null;
  signUrl?: string;
  /** Change the body after signing. */
  tamper?: (params: Record<string, string>) => Record<string, string>;
  base64?: boolean;
}

/** An API Gateway HTTP API (payload 2.0) event for a Twilio form POST, signed the way Twilio signs it. */
export function twilioPost(options: RequestOptions): HttpEvent {
  const host = options.host ?? HOST;
  const stage = options.stage ?? '$default';
  const stagePath = stage === '$default' ? '' : `/${stage}`;
  const rawPath = options.rawPath ?? `${stagePath}${options.path}`;
  const proto = options.forwardedProto ?? 'https';
  const query = options.query ?? '';
  const realUrl = `${proto}://${host}${stagePath}${options.path}${query ? `?${query}` : ''}`;
  const headers: Record<string, string> = {
    host,
    'content-type': 'application/x-www-form-urlencoded',
    'x-forwarded-proto': proto,
    'user-agent': 'TwilioProxy/1.1',
  };
  if (options.signWith !== null) {
    headers['x-twilio-signature'] = signTwilioRequest(options.signWith ?? AUTH_TOKEN, options.signUrl ?? realUrl, options.params);
  }
  const sent = options.tamper ? options.tamper({ ...options.params }) : options.params;
  const body = new URLSearchParams(sent).toString();
  return {
    version: '2.0',
    routeKey: `POST ${options.path}`,
    rawPath,
    rawQueryString: query,
    headers,
    queryStringParameters: query ? Object.fromEntries(new URLSearchParams(query)) : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: host,
      domainPrefix: 'abc123',
      http: { method: 'POST', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'TwilioProxy/1.1' },
      requestId: 'req-1',
      routeKey: `POST ${options.path}`,
      stage,
      time: '25/Nov/2025:10:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: options.base64 === false ? body : Buffer.from(body).toString('base64'),
    isBase64Encoded: options.base64 !== false,
  } as HttpEvent;
}

export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  extra: unknown[];
}

/** Records what a handler logs, to check that failures are logged with context and never with the token. */
export function captureLogger(): { logger: AppLogger; lines: CapturedLog[]; text: () => string } {
  const lines: CapturedLog[] = [];
  const at =
    (level: CapturedLog['level']) =>
    (message: unknown, ...extra: unknown[]) => {
      lines.push({ level, message: String(message), extra });
    };
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), appendKeys: () => undefined, removeKeys: () => undefined };
  const text = () =>
    JSON.stringify(lines, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v));
  return { logger: logger as unknown as AppLogger, lines, text };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ['Language', 'Parameter', 'Say'].includes(name),
});

/** Parses TwiML after checking it is well-formed XML. */
export function parseTwiml(xml: string): Record<string, any> {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = parser.parse(xml) as { Response?: Record<string, any> };
  expect(doc.Response).toBeDefined();
  return doc.Response!;
}

export function expectApology(result: { statusCode?: number; headers?: Record<string, unknown>; body?: string }): void {
  expect(result.statusCode).toBe(200);
  expect(String(result.headers?.['content-type'])).toMatch(/^text\/xml/);
  const response = parseTwiml(result.body ?? '');
  expect(response.Say?.[0]).toMatch(/sorry/i);
  expect(response).toHaveProperty('Hangup');
  expect(response).not.toHaveProperty('Connect');
}

/** Every item of the table (tests use a fresh table each, so this stays small). */
export async function allItems(table: Table): Promise<Record<string, unknown>[]> {
  const out = await table.doc.send(new ScanCommand({ TableName: table.name, ConsistentRead: true }));
  return out.Items ?? [];
}

export async function sessionItems(table: Table): Promise<Record<string, unknown>[]> {
  return (await allItems(table)).filter((i) => String(i.pk).startsWith('session#'));
}

/** A port nothing listens on: "the table is unreachable". */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const DEFAULT_USE_CASE: UseCaseConfigInput = {
  id: 'default',
  name: 'Demo chooser',
  description: 'Helps the caller pick a demo.',
  listed: false,
  promptTemplate: [
    'You answer calls for our demos. Caller: {{caller}}. Known caller: {{knownCaller}}.',
    'Today is {{today}} ({{todayIso}}, a {{weekday}}) in {{timeZone}}.',
    'Demos you can offer:',
    '{{demos}}',
  ].join('\n'),
  tools: [
    { name: 'choose_demo', description: 'Switch to a demo', parameters: { type: 'object', properties: { id: { type: 'string' } } } },
  ],
  dtmfMap: { '1': { say: 'Apartments it is.', tool: 'choose_demo', description: 'The caller pressed 1 for apartments.' } },
  conversationRelay: { welcomeGreeting: 'Hi! Which demo would you like?', voice: 'en-US-Journey-O', interruptible: 'any' },
  timeZone: 'America/Denver',
};

export const APARTMENT_USE_CASE: UseCaseConfigInput = {
  id: 'apartment-search',
  name: 'Parkview Apartments',
  description: 'Find and tour an apartment in Missoula.',
  listed: true,
  promptTemplate: 'You lease apartments at Parkview. You are speaking with {{callerName}} ({{callerPhone}}). Today is {{today}}. Property: {{propertyName}}.',
  tools: [
    { name: 'check_availability', description: 'Open tour slots', parameters: { type: 'object', properties: {} }, timeoutMs: 5000 },
  ],
  dtmfMap: { '0': { say: 'Let me get someone for you.', description: 'The caller pressed 0 for a person.' } },
  conversationRelay: {
    welcomeGreeting: 'Thanks for calling Parkview Apartments!',
    customParameters: { propertyName: 'Parkview Apartments' },
  },
  llm: { model: 'gpt-4o-mini', temperature: 0.3, maxToolRounds: 3 },
  filler: { afterMs: 600, text: 'Let me check.' },
  timeZone: 'America/Denver',
};
