import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayCall, signRequest } from '../../dev/caller/relay-call.ts';
import { parseTwiml } from '../../dev/caller/twiml.ts';
import { startGateway, type Gateway } from '../../dev/gateway/index.ts';
import { createCallSetupHandler, type CallSetupHandler } from '../../03_twiml-api/src/handlers/call-setup.ts';
import { createConnectActionHandler } from '../../03_twiml-api/src/handlers/connect-action.ts';
import { bindConnection, getSession, putUseCase } from '../../layers/data/index.ts';
import { verifyHandshake } from '../../layers/security/handshake.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { AUTH_TOKEN, captureLogger, DEFAULT_USE_CASE, sessionItems } from './support.ts';

/**
 * The signed chain over real sockets, as the local runtime serves it: the terminal caller's webhook POST through
 * the local API Gateway into the call-setup handler, the signed WebSocket handshake to the URL the TwiML names
 * (checked with layers/security/handshake.ts, as `$connect` does), and the signed `<Connect action>` callback.
 */
describe('a signed call over the wire', () => {
  let table: TestTable;
  let gateway: Gateway;
  let callSetup: CallSetupHandler | undefined;
  const log = captureLogger();

  beforeAll(async () => {
    table = await createTestTable();
    await putUseCase(table, DEFAULT_USE_CASE);
    const connectAction = createConnectActionHandler({ table, authToken: async () => AUTH_TOKEN, agentNumber: '+14065550900', logger: log.logger });
    gateway = await startGateway({
      httpRoutes: [
        { method: 'POST', path: '/call-setup', handler: (event) => callSetup!(event) },
        { method: 'POST', path: '/connect-action', handler: connectAction },
      ],
      websocket: {
        async connect(event) {
          if (!verifyHandshake(event, { authToken: AUTH_TOKEN, publicUrl: gateway.webSocketUrl })) return { statusCode: 403 };
          await bindConnection(table, event.queryStringParameters?.session ?? '', event.requestContext.connectionId);
          return { statusCode: 200 };
        },
        message: async () => undefined,
        disconnect: async () => undefined,
      },
    });
    callSetup = createCallSetupHandler({ table, authToken: async () => AUTH_TOKEN, websocketUrl: gateway.webSocketUrl, logger: log.logger });
  });
  afterAll(async () => {
    await gateway.stop();
    await table.drop();
  });

  const callParams = { CallSid: 'CAwire0001', AccountSid: 'ACwire', From: '+14065550101', To: '+14065550199', CallStatus: 'ringing', Direction: 'inbound' };

  it('refuses an unsigned webhook with 403 and writes nothing', async () => {
    const res = await RelayCall.postWebhook(`${gateway.httpUrl}/call-setup`, callParams);
    expect(res.status).toBe(403);
    expect(await sessionItems(table)).toEqual([]);
  });

  it('answers a signed webhook, accepts only the signed handshake, and takes the signed action callback', async () => {
    const res = await RelayCall.postWebhook(`${gateway.httpUrl}/call-setup`, callParams, AUTH_TOKEN);
    expect(res.status).toBe(200);
    const twiml = parseTwiml(res.body);
    if (twiml.kind !== 'relay') throw new Error(`expected ConversationRelay TwiML, got ${res.body}`);
    const { url, action } = twiml.relay;
    const sessionId = new URL(url).searchParams.get('session')!;
    expect(url).toBe(`${gateway.webSocketUrl}?session=${sessionId}`);
    expect(action).toBe(`${gateway.httpUrl}/connect-action?session=${sessionId}`);

    const refused = await handshake(url, undefined);
    expect(refused).toBe(403);
    const forged = await handshake(`${url}&x=1`, signRequest(AUTH_TOKEN, url));
    expect(forged).toBe(403);
    expect(await handshake(url, signRequest(AUTH_TOKEN, url))).toBe(101);
    expect((await getSession(table, sessionId))?.status).toBe('connected');

    const after = { CallSid: callParams.CallSid, CallStatus: 'in-progress', SessionStatus: 'ended', HandoffData: '{"reason":"live-agent-handoff"}' };
    const unsigned = await RelayCall.postWebhook(action!, after);
    expect(unsigned.status).toBe(403);
    const next = await RelayCall.postWebhook(action!, after, AUTH_TOKEN);
    expect(next.status).toBe(200);
    expect(parseTwiml(next.body)).toMatchObject({ kind: 'other', dial: '+14065550900' });
    expect(await getSession(table, sessionId)).toMatchObject({ status: 'ended', outcome: 'dialed-agent' });
  });
});

/** Opens a WebSocket like ConversationRelay; resolves 101 when accepted, else the refusal status. */
function handshake(url: string, signature: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: signature ? { 'X-Twilio-Signature': signature } : {} });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}
