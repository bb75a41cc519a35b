import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { getSession } from '../../layers/data/sessions.ts';
import { signTwilioRequest } from '../../layers/security/webhook.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { startTestRuntime, TEST_TOKEN } from './support.ts';

/**
 * Drives the local runtime with a plain WebSocket client (not our terminal caller) speaking ConversationRelay as
 * documented, to prove the endpoint needs nothing but the public protocol.
 */
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false });

async function postForm(url: string, params: Record<string, string>, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (token) headers['x-twilio-signature'] = signTwilioRequest(token, url, params);
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

function collectReply(socket: WebSocket, timeoutMs = 10_000): Promise<{ frames: Record<string, unknown>[]; text: string }> {
  return new Promise((resolve, reject) => {
    const frames: Record<string, unknown>[] = [];
    const timer = setTimeout(() => reject(new Error(`no complete reply; frames so far: ${JSON.stringify(frames)}`)), timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      frames.push(frame);
      if (frame.type === 'text' && frame.last === true) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve({ frames, text: frames.map((f) => (typeof f.token === 'string' ? f.token : '')).join('') });
      }
    };
    socket.on('message', onMessage);
  });
}

describe('the local runtime speaks plain ConversationRelay', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  const call = { CallSid: 'CAraw0000000000000000000000000001', AccountSid: 'ACraw', From: '+14065550111', To: '+14065550199', CallStatus: 'ringing', Direction: 'inbound' };

  it('refuses an unsigned webhook and an unsigned handshake', async () => {
    const unsigned = await postForm(runtime.webhookUrl, call);
    expect(unsigned.status).toBe(403);
    const signed = await postForm(runtime.webhookUrl, { ...call, CallSid: 'CAraw-unsigned-handshake' }, TEST_TOKEN);
    const url = parser.parse(signed.body).Response.Connect.ConversationRelay.url as string;
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(403);
  });

  it('answers a signed call: TwiML, signed handshake, setup, a streamed reply, keypad, hang-up', async () => {
    const res = await postForm(runtime.webhookUrl, call, TEST_TOKEN);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/xml/);
    const twiml = parser.parse(res.body).Response;
    const relay = twiml.Connect.ConversationRelay;
    expect(relay.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\?session=/);
    expect(relay.welcomeGreeting).toBeTruthy();
    expect(twiml.Connect.action).toContain('/connect-action');

    const socket = new WebSocket(relay.url, { headers: { 'X-Twilio-Signature': signTwilioRequest(TEST_TOKEN, relay.url, {}) } });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'setup', sessionId: 'VXraw', accountSid: call.AccountSid, parentCallSid: '', callSid: call.CallSid, from: call.From, to: call.To, forwardedFrom: call.To, callerName: '', direction: 'inbound', callType: 'PSTN', callStatus: 'IN-PROGRESS', customParameters: {} }));
    // Twilio sends `info` in debug mode and may add fields at any time: both must be tolerated.
    socket.send(JSON.stringify({ type: 'info', name: 'debug', value: 'ignored', somethingNew: true }));

    const reply = collectReply(socket);
    socket.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hello, what can you do?', lang: 'en-US', last: true }));
    const { frames, text } = await reply;
    expect(text.trim().length).toBeGreaterThan(0);
    expect(frames.filter((f) => f.type === 'text' && f.last === true)).toHaveLength(1);
    for (const f of frames) {
      expect(['text', 'play', 'sendDigits', 'language', 'end']).toContain(f.type);
      if (f.type === 'text') expect(typeof f.token).toBe('string');
    }

    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close(1000, 'caller hung up');
    await closed;
    const sessionId = new URL(relay.url).searchParams.get('session')!;
    await expect.poll(async () => (await getSession(runtime.table, sessionId))?.status, { timeout: 15_000 }).toBe('ended');
  });
});
