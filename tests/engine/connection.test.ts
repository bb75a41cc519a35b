import { afterEach, describe, expect, it } from 'vitest';
import { createSession, getSession, sessionIdForConnection } from '../../layers/data/index.ts';
import { connectClient } from '../gateway/support.ts';
import { connectSigned, sessionFixture, signedUrl, startEngine, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('$connect and $disconnect', () => {
  it('binds a signed handshake to its session, and $disconnect marks the session ended', async () => {
    engine = await startEngine();
    const call = await engine.startCall();
    expect(await sessionIdForConnection(engine.table, call.connectionId)).toBe(call.sessionId);
    expect((await getSession(engine.table, call.sessionId))?.status).toBe('connected');
    await call.client.close();
    await expect.poll(async () => (await getSession(engine!.table, call.sessionId))?.status).toBe('ended');
    expect((await getSession(engine.table, call.sessionId))?.endReason).toMatch(/^disconnected/);
  });

  it('refuses a bad or missing signature with 403', async () => {
    engine = await startEngine();
    await createSession(engine.table, sessionFixture('s-unsigned'));
    await expect(connectClient(signedUrl(engine.gateway, 's-unsigned'))).rejects.toThrow(/403/);
    await expect(connectSigned(engine.gateway, 's-unsigned', 'not-the-auth-token')).rejects.toThrow(/403/);
    expect((await getSession(engine.table, 's-unsigned'))?.status).toBe('created');
  });

  it('refuses an unknown, expired or already-bound session with 404', async () => {
    engine = await startEngine();
    await expect(connectSigned(engine.gateway, 's-never-created')).rejects.toThrow(/404/);

    await createSession(engine.table, sessionFixture('s-expired'), Date.now() - 8 * 24 * 3600 * 1000);
    await expect(connectSigned(engine.gateway, 's-expired')).rejects.toThrow(/404/);

    const call = await engine.startCall();
    await expect(connectSigned(engine.gateway, call.sessionId)).rejects.toThrow(/404/);
    const results = engine.routeResults.filter((r) => (r as { statusCode: number }).statusCode !== 200);
    expect(results).toEqual([{ statusCode: 404 }, { statusCode: 404 }, { statusCode: 404 }]);
  });
});
