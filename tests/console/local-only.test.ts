import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RelayCall } from '../../dev/caller/relay-call.ts';
import { isLocalRequest } from '../../dev/gateway/local-request.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { readSettings } from '../../dev/local/settings.ts';
import { getSession } from '../../layers/data/sessions.ts';
import { startTestRuntime, TEST_TOKEN } from '../runtime/support.ts';

/**
 * Safe by default: the runtime listens on 127.0.0.1 unless HOST says otherwise, and what only this machine may use
 * (@connections, the console and its API) refuses anything that comes through a tunnel, another site's page, or
 * another machine. A connection id alone must not let anyone speak into a call or end it.
 */
const OPENAI_KEY = 'sk-console-test-key-never-shown';

/** A raw HTTP request with chosen headers (fetch would not let us set Host). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const TUNNELLED: Record<string, string>[] = [
  { 'x-forwarded-for': '203.0.113.9' },
  { forwarded: 'for=203.0.113.9;proto=https' },
  { host: 'abcd-1234.ngrok-free.app' },
  { 'cf-connecting-ip': '203.0.113.9' },
  { origin: 'https://evil.example' },
];

describe('local only', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    // A real-looking key: the console must never hand it (or the auth token) to the page. The LLM is never called.
    runtime = await startTestRuntime({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: OPENAI_KEY }, { console: true });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('listens on 127.0.0.1 unless HOST says otherwise', () => {
    expect(readSettings({}).HOST).toBe('127.0.0.1');
    expect(new URL(runtime.webhookUrl).hostname).toBe('127.0.0.1');
  });

  it('tells this machine from a tunnel, another site and another machine', () => {
    const local = (headers: Record<string, string>, remoteAddress = '127.0.0.1') => isLocalRequest({ headers, socket: { remoteAddress } });
    expect(local({ host: '127.0.0.1:8080' })).toBe(true);
    expect(local({ host: 'localhost:8080', origin: 'http://localhost:8080' })).toBe(true);
    expect(local({ host: '[::1]:8080' }, '::1')).toBe(true);
    expect(local({ host: '127.0.0.1:8080' }, '::ffff:127.0.0.1')).toBe(true);
    expect(local({ host: '127.0.0.1:8080' }, '192.168.1.20')).toBe(false);
    expect(local({ host: '192.168.1.5:8080' })).toBe(false);
    expect(local({})).toBe(false);
    for (const headers of TUNNELLED) expect(local({ host: '127.0.0.1:8080', ...headers })).toBe(false);
  });

  it('refuses @connections posts and hang-ups that come through a tunnel: the call hears nothing and stays up', async () => {
    const call = await RelayCall.dial({ webhookUrl: runtime.webhookUrl, authToken: TEST_TOKEN, from: '+14065550808', to: '+14065550199' });
    // The connection id, as someone who learned it would have it (here: from the session the handshake bound).
    const sessionId = new URL(call.relay.url).searchParams.get('session')!;
    await expect.poll(async () => (await getSession(runtime.table, sessionId))?.connectionId, { timeout: 30_000 }).toBeTruthy();
    const connectionId = (await getSession(runtime.table, sessionId))!.connectionId!;
    const target = `${runtime.connectionsEndpoint}/@connections/${encodeURIComponent(connectionId!)}`;
    const frames: string[] = [];
    call.on('token', (t: string) => frames.push(t));
    for (const headers of TUNNELLED) {
      const post = await send(target, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ type: 'text', token: 'injected', last: true }) });
      expect(post.status).toBe(403);
      const hangup = await send(target, { method: 'DELETE', headers });
      expect(hangup.status).toBe(403);
    }
    expect(call.isOpen).toBe(true);
    // From this machine the same post goes through (the engine's own path).
    const local = await send(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'text', token: 'from here', last: true }) });
    expect(local.status).toBe(200);
    await expect.poll(() => frames, { timeout: 30_000 }).toEqual(['from here']);
    await call.hangup();
  });

  it('serves the console and its API to this machine only, and never the auth token or the API key', async () => {
    const base = runtime.consoleUrl!;
    for (const headers of TUNNELLED) {
      expect((await send(base, { headers })).status).toBe(403);
      expect((await send(`${base}api/calls`, { headers })).status).toBe(403);
    }
    const texts: string[] = [];
    for (const file of ['', 'app.js', 'phone.js', 'speaker.js', 'views.js', 'style.css', 'api/calls']) {
      const res = await send(`${base}${file}`, {});
      expect(res.status, file).toBe(200);
      texts.push(res.body);
    }
    for (const text of texts) {
      expect(text).not.toContain(TEST_TOKEN);
      expect(text).not.toContain(OPENAI_KEY);
    }
    expect((await send(`${base}../package.json`, {})).status).not.toBe(200);
    expect((await send(`${base}api/calls`, { method: 'POST' })).status).toBe(405);
  });

  it('accepts the console socket from this machine only', async () => {
    const url = runtime.consoleUrl!.replace('http', 'ws') + 'socket';
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers: { origin: 'https://evil.example' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(refused).toBe(403);
    const first = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('message', (data) => {
        resolve(data.toString());
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: 'calls' });
    expect(first).not.toContain(TEST_TOKEN);
  });
});
