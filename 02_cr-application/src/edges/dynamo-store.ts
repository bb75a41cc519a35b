// From each module, not the data layer's index: the index re-exports the use-case config schemas, which $default
// never runs but would carry in its bundle.
import { appendMessages, getMessage, rewriteHeard } from '../../../layers/data/messages.ts';
import { bindConnection, endSession, getSession, loadConversation, sessionIdForConnection, updateSession } from '../../../layers/data/sessions.ts';
import type { Table } from '../../../layers/data/table.ts';
import { clearInterruptNote, compareAndSetLedger, noteInterrupt, readLedger } from '../../../layers/data/turn-ledger.ts';
import { putSpeculationRecord, putTurnRecord } from '../../../layers/data/turns.ts';
import { pointConnection } from '../../../layers/data/connections.ts';
import type { Store } from '../engine/ports.ts';

/** The engine's Store over the single-table data layer (DynamoDB in AWS, local DynamoDB in tests and locally). */
export function createDynamoStore(table: Table): Store {
  return {
    bindConnection: async (sessionId, connectionId) => {
      const session = await bindConnection(table, sessionId, connectionId);
      return { callSid: session.callSid, ...(session.reconnectGraceMs !== undefined ? { reconnectGraceMs: session.reconnectGraceMs } : {}) };
    },
    pointConnection: (connectionId, sessionId) => pointConnection(table, connectionId, sessionId),
    sessionIdForConnection: (connectionId) => sessionIdForConnection(table, connectionId),
    callSidOf: async (sessionId) => (await getSession(table, sessionId))?.callSid,
    updateSession: (sessionId, changes) => updateSession(table, sessionId, changes),
    endSession: (sessionId, reason, extra) => endSession(table, sessionId, reason, extra ?? {}),
    loadConversation: (sessionId, maxMessages) => loadConversation(table, sessionId, maxMessages),
    appendMessages: (sessionId, messages) => appendMessages(table, sessionId, messages),
    getMessage: (sessionId, messageId) => getMessage(table, sessionId, messageId),
    rewriteHeard: (sessionId, messageId, heard) => rewriteHeard(table, sessionId, messageId, heard),
    readLedger: (sessionId) => readLedger(table, sessionId),
    compareAndSetLedger: (sessionId, expectedVersion, next) => compareAndSetLedger(table, sessionId, expectedVersion, next),
    noteInterrupt: (sessionId, note) => noteInterrupt(table, sessionId, note),
    clearInterruptNote: (sessionId, at) => clearInterruptNote(table, sessionId, at),
    putTurnRecord: (record) => putTurnRecord(table, record),
    putSpeculationRecord: (record) => putSpeculationRecord(table, record),
  };
}
