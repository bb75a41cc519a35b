import { secret } from '../../../layers/config/secrets.ts';
import type { ConnectDeps } from '../handlers/connect.ts';
import { awsTable } from './aws-table.ts';
import { pointConnection } from '../../../layers/data/connections.ts';
import { bindConnection, endSession } from '../../../layers/data/sessions.ts';
import { compareAndSetLedger, readLedger } from '../../../layers/data/turn-ledger.ts';
import { connectionGoneProbe } from './connection-probe.ts';
import { twilioHandshakeVerifier } from './handshake-verifier.ts';

/** $connect's dependencies in AWS, from the function's environment; built on the first invocation. */
export function awsConnectDeps(env: NodeJS.ProcessEnv = process.env): ConnectDeps {
  return {
    // Only what $connect does (bind, or the ledger's reconnect decision), so the bundle (and the role) holds nothing else.
    store: {
      bindConnection: async (sessionId, connectionId) => {
        const session = await bindConnection(awsTable(), sessionId, connectionId);
        return { callSid: session.callSid, ...(session.reconnectGraceMs !== undefined ? { reconnectGraceMs: session.reconnectGraceMs } : {}) };
      },
      pointConnection: (connectionId, sessionId) => pointConnection(awsTable(), connectionId, sessionId),
      readLedger: (sessionId) => readLedger(awsTable(), sessionId),
      compareAndSetLedger: (sessionId, expectedVersion, next) => compareAndSetLedger(awsTable(), sessionId, expectedVersion, next),
      endSession: (sessionId, reason, extra) => endSession(awsTable(), sessionId, reason, extra ?? {}),
    },
    connectionGone: connectionGoneProbe(env),
    verifySignature: twilioHandshakeVerifier({
      authToken: secret('twilioAuthToken'),
      publicUrl: () => {
        const publicUrl = env.WEBSOCKET_URL;
        if (!publicUrl) throw new Error('WEBSOCKET_URL is not set: it is the URL call setup puts in the TwiML');
        return publicUrl;
      },
    }),
  };
}
