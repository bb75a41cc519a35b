import type { DisconnectDeps } from '../handlers/disconnect.ts';
import { awsTable } from './aws-table.ts';
import { endSession, getSession, sessionIdForConnection } from '../../../layers/data/sessions.ts';
import { compareAndSetLedger, readLedger } from '../../../layers/data/turn-ledger.ts';
import { awsCallTimer } from './sqs-call-timer.ts';

/** $disconnect's dependencies in AWS; built on the first invocation. */
export function awsDisconnectDeps(): DisconnectDeps {
  // Only what $disconnect does, so the bundle (and the role) holds nothing else.
  return {
    store: {
      sessionIdForConnection: (connectionId) => sessionIdForConnection(awsTable(), connectionId),
      endSession: (sessionId, reason, extra) => endSession(awsTable(), sessionId, reason, extra ?? {}),
      callSidOf: async (sessionId) => (await getSession(awsTable(), sessionId))?.callSid,
      readLedger: (sessionId) => readLedger(awsTable(), sessionId),
      compareAndSetLedger: (sessionId, expectedVersion, next) => compareAndSetLedger(awsTable(), sessionId, expectedVersion, next),
    },
    // The grace check: without it a dropped call whose caller never comes back stays `connected` until its TTL.
    callTimer: awsCallTimer(),
  };
}
