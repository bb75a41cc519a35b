import { secret } from '../../../layers/config/secrets.ts';
import type { ConnectDeps } from '../handlers/connect.ts';
import { awsTable } from './aws-table.ts';
import { bindConnection } from '../../../layers/data/sessions.ts';
import { twilioHandshakeVerifier } from './handshake-verifier.ts';

/** $connect's dependencies in AWS, from the function's environment; built on the first invocation. */
export function awsConnectDeps(env: NodeJS.ProcessEnv = process.env): ConnectDeps {
  return {
    // Only what $connect does, so the bundle (and the role) holds nothing else.
    store: {
      bindConnection: async (sessionId, connectionId) => ({ callSid: (await bindConnection(awsTable(), sessionId, connectionId)).callSid }),
    },
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
