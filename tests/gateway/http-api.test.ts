import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type Gateway, type HttpRoute } from '../../dev/gateway/index.ts';
import { sleep } from './support.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

function recordingRoute(
  method: string,
  path: string,
  answer: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>,
): HttpRoute & { events: APIGatewayProxyEventV2[] } {
  const events: APIGatewayProxyEventV2[] = [];
  return {
    method,
    path,
    events,
    handler: async (event) => {
      events.push(event);
      return answer(event);
    },
  };
}

describe('HTTP API routes', () => {
  it('builds the payload 2.0 event for a form POST (base64, as AWS does for form bodies)', async () => {
    const route = recordingRoute('POST', '/call-setup', async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'text/xml' },
      body: '<Response/>',
    }));
    gateway = await startGateway({ httpRoutes: [route] });
    const form = 'CallSid=CA123&From=%2B15551234567&To=%2B15557654321';
    const response = await fetch(`${gateway.httpUrl}/call-setup?attempt=1&tag=a&tag=b`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': 'c2lnbmF0dXJl',
        'User-Agent': 'TwilioProxy/1.1',
        Cookie: 'first=1; second=2',
      },
      body: form,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<Response/>');

    expect(route.events).toHaveLength(1);
    const event = route.events[0]!;
    const host = new URL(gateway.httpUrl).host;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /call-setup',
      rawPath: '/call-setup',
      rawQueryString: 'attempt=1&tag=a&tag=b',
      queryStringParameters: { attempt: '1', tag: 'a,b' },
      cookies: ['first=1', 'second=2'],
      isBase64Encoded: true,
    });
    expect(Buffer.from(event.body!, 'base64').toString('utf8')).toBe(form);
    expect(event.headers['x-twilio-signature']).toBe('c2lnbmF0dXJl');
    expect(event.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(event.headers['host']).toBe(host);
    expect(event.headers['x-forwarded-proto']).toBe('http');
    expect(event.headers['cookie']).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.requestContext).toMatchObject({
      domainName: host,
      routeKey: 'POST /call-setup',
      stage: '$default',
      http: { method: 'POST', path: '/call-setup', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'TwilioProxy/1.1' },
    });
    expect(event.requestContext.requestId).toMatch(/=$/);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect(response.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
  });

  it('passes text bodies as-is and leaves out what the request did not have', async () => {
    const route = recordingRoute('POST', '/json', async () => ({ statusCode: 204 }));
    gateway = await startGateway({ httpRoutes: [route] });
    await fetch(`${gateway.httpUrl}/json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: '{"ok":true}',
    });
    const event = route.events[0]!;
    expect(event.body).toBe('{"ok":true}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.rawQueryString).toBe('');
    expect('queryStringParameters' in event).toBe(false);
    expect('cookies' in event).toBe(false);
    expect('pathParameters' in event).toBe(false);
  });

  it('maps the structured result back: status, headers, cookies, base64 bodies', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    gateway = await startGateway({
      httpRoutes: [
        {
          method: 'GET',
          path: '/audio/{name}',
          handler: async (event) => ({
            statusCode: 201,
            headers: { 'Content-Type': 'audio/x-test', 'X-Name': event.pathParameters?.name ?? '', 'X-Count': 3 } as Record<string, string | number>,
            cookies: ['session=abc; Path=/; HttpOnly', 'theme=dark'],
            body: bytes.toString('base64'),
            isBase64Encoded: true,
          }),
        },
      ],
    });
    const response = await fetch(`${gateway.httpUrl}/audio/hold%20music`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('audio/x-test');
    expect(response.headers.get('x-name')).toBe('hold music');
    expect(response.headers.get('x-count')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark']);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it('treats a result without statusCode as a 200 JSON body, like payload 2.0', async () => {
    gateway = await startGateway({
      httpRoutes: [{ method: 'GET', path: '/inferred', handler: async () => ({ hello: 'world' }) as APIGatewayProxyStructuredResultV2 }],
    });
    const response = await fetch(`${gateway.httpUrl}/inferred`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('answers 404 Not Found for unknown paths and methods', async () => {
    const route = recordingRoute('POST', '/call-setup', async () => ({ statusCode: 200 }));
    gateway = await startGateway({ httpRoutes: [route] });
    for (const [method, path] of [['POST', '/nowhere'], ['GET', '/call-setup']] as const) {
      const response = await fetch(`${gateway.httpUrl}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    }
    expect(route.events).toHaveLength(0);
  });

  it('answers 500 Internal Server Error when the handler throws or returns a malformed result', async () => {
    gateway = await startGateway({
      httpRoutes: [
        {
          method: 'POST',
          path: '/throws',
          handler: async () => {
            throw new Error('boom');
          },
        },
        { method: 'GET', path: '/malformed', handler: async () => ({ statusCode: 'ok' }) as unknown as APIGatewayProxyStructuredResultV2 },
      ],
    });
    const thrown = await fetch(`${gateway.httpUrl}/throws`, { method: 'POST', body: 'x' });
    expect(thrown.status).toBe(500);
    expect(await thrown.json()).toEqual({ message: 'Internal Server Error' });
    const malformed = await fetch(`${gateway.httpUrl}/malformed`);
    expect(malformed.status).toBe(500);
    expect(await malformed.json()).toEqual({ message: 'Internal Server Error' });
  });

  it('answers 503 Service Unavailable when the handler outlives the integration timeout', async () => {
    gateway = await startGateway({
      integrationTimeoutMs: 150,
      httpRoutes: [{ method: 'GET', path: '/slow', handler: async () => (await sleep(1000), { statusCode: 200 }) }],
    });
    const response = await fetch(`${gateway.httpUrl}/slow`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: 'Service Unavailable' });
  });

  it('ANY matches every method and {proxy+} the rest of the path', async () => {
    const route = recordingRoute('ANY', '/files/{proxy+}', async (event) => ({ statusCode: 200, body: event.pathParameters?.proxy }));
    gateway = await startGateway({ httpRoutes: [route] });
    const response = await fetch(`${gateway.httpUrl}/files/a/b/c.txt`, { method: 'DELETE' });
    expect(await response.text()).toBe('a/b/c.txt');
    expect(route.events[0]!.routeKey).toBe('ANY /files/{proxy+}');
  });
});
