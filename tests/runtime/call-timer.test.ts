import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GRACE_OVER_REASON } from '../../02_cr-application/src/engine/continuity/grace.ts';
import { sessionKey } from '../../layers/data/keys.ts';
import { getSession, loadConversation } from '../../layers/data/index.ts';
import { signTwilioRequest } from '../../layers/security/webhook.ts';
import type { LocalRuntime } from '../../dev/local/runtime.ts';
import { startTestRuntime, TEST_TOKEN } from './support.ts';

/**
 * The call timer over the real wire, through the local runtime: the signed webhook, a signed WebSocket through the
 * local API Gateway, the in-process timer and the local table. A keypad entry ends on its timeout with no further
 * frame, and a dropped socket that is not reconnected ends the call when its grace passes. The call's timeout and
 * grace are shortened on the stored session (the use case's own are seconds long), so the test waits only briefly.
 */
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false });

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.stop();
});

async function placeCall(callSid: string): Promise<{ sessionId: string; url: string }> {
  const params = { CallSid: callSid, AccountSid: 'ACtimer', From: '+14065550177', To: '+14065550199', CallStatus: 'ringing', Direction: 'inbound', UseCaseId: 'apartment-search' };
  const res = await fetch(runtime.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilioRequest(TEST_TOKEN, runtime.webhookUrl, params) },
    body: new URLSearchParams(params).toString(),
  });
  expect(res.status).toBe(200);
  const url = parser.parse(await res.text()).Response.Connect.ConversationRelay.url as string;
  return { sessionId: new URL(url).searchParams.get('session')!, url };
}

/** A keypad entry on 7 with a two-second timeout, and a short reconnect grace, on the stored session. */
async function shorten(sessionId: string, graceMs: number): Promise<void> {
  // Long enough that the test's next key always lands first on a busy machine, short enough not to slow the suite.
  const entry = { description: 'The unit number the caller typed.', timeoutMs: 2_000 };
  await runtime.table.doc.send(
    new UpdateCommand({
      TableName: runtime.table.name,
      Key: sessionKey(sessionId),
      UpdateExpression: 'SET reconnectGraceMs = :grace, dtmfMap.#key = :action',
      ExpressionAttributeNames: { '#key': '7' },
      ExpressionAttributeValues: { ':grace': graceMs, ':action': { description: 'The caller pressed 7 to type a unit number.', collect: entry } },
    }),
  );
}

async function open(url: string): Promise<{ socket: WebSocket; frames: Record<string, unknown>[] }> {
  const socket = new WebSocket(url, { headers: { 'X-Twilio-Signature': signTwilioRequest(TEST_TOKEN, url, {}) } });
  const frames: Record<string, unknown>[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, frames };
}

describe('the call timer through the local runtime', () => {
  it('a keypad entry ends on its timeout with no further frame, and a dropped socket left unreconnected ends the call after its grace', async () => {
    const { sessionId, url } = await placeCall('CAtimer00000000000000000000000001');
    await shorten(sessionId, 300);
    const { socket, frames } = await open(url);
    socket.send(JSON.stringify({ type: 'setup', sessionId: 'VXtimer', callSid: 'CAtimer00000000000000000000000001', from: '+14065550177', to: '+14065550199' }));
    // Keys are seconds apart on a phone: each is sent once the one before it is in the table.
    const typed = async (digit: string, entry: string | undefined) => {
      socket.send(JSON.stringify({ type: 'dtmf', digit }));
      await expect.poll(async () => (await getSession(runtime.table, sessionId))?.ledger.digits?.digits, { timeout: 10_000 }).toBe(entry);
    };
    await typed('7', '');
    await typed('1', '1');
    await typed('2', '12');

    // Nothing more is sent: the timer ends the entry and its digits are the caller's turn.
    await expect.poll(() => frames.some((f) => f.type === 'text' && f.last === true), { timeout: 15_000 }).toBe(true);
    await expect
      .poll(async () => (await loadConversation(runtime.table, sessionId)).messages.filter((m) => m.role === 'user').map((m) => m.content), { timeout: 10_000 })
      .toEqual(['(typed 12 on the keypad, then stopped (the entry timed out)) The unit number the caller typed.']);

    // The network drops the socket; ConversationRelay never comes back.
    const connectionId = (await getSession(runtime.table, sessionId))!.ledger.connection!.id;
    await runtime.settled();
    await runtime.gateway.drop(connectionId);
    await expect.poll(async () => (await getSession(runtime.table, sessionId))?.status, { timeout: 15_000 }).toBe('ended');
    const session = await getSession(runtime.table, sessionId);
    expect(session).toMatchObject({ endReason: GRACE_OVER_REASON });
    expect(session?.ledger.connection).toMatchObject({ id: connectionId, state: 'ended' });
  });
});
