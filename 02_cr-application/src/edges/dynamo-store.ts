import * as data from '../../../layers/data/index.ts';
import type { Table } from '../../../layers/data/index.ts';
import type { Store } from '../engine/ports.ts';

/** The engine's Store over the single-table data layer (DynamoDB in AWS, local DynamoDB in tests and locally). */
export function createDynamoStore(table: Table): Store {
  return {
    bindConnection: async (sessionId, connectionId) => {
      await data.bindConnection(table, sessionId, connectionId);
    },
    sessionIdForConnection: (connectionId) => data.sessionIdForConnection(table, connectionId),
    loadConversation: (sessionId) => data.loadConversation(table, sessionId),
    claimReplyTurn: (sessionId, readTurnCount, promptAt) => data.claimReplyTurn(table, sessionId, readTurnCount, promptAt),
    readTurnControl: (sessionId) => data.readTurnControl(table, sessionId),
    appendPartialPrompt: (sessionId, piece) => data.appendPartialPrompt(table, sessionId, piece),
    appendMessages: (sessionId, messages) => data.appendMessages(table, sessionId, messages),
    truncateToHeard: (sessionId, messageId, heard) => data.truncateToHeard(table, sessionId, messageId, heard),
    recordInterrupt: (sessionId, heard) => data.recordInterrupt(table, sessionId, heard),
    finishReply: (sessionId, turn) => data.finishReply(table, sessionId, turn),
    lastAssistantReply: (sessionId, turn) => data.lastAssistantReply(table, sessionId, turn),
    updateSession: (sessionId, changes) => data.updateSession(table, sessionId, changes),
    endSession: (sessionId, reason, extra) => data.endSession(table, sessionId, reason, extra ?? {}),
    putTurnRecord: (record) => data.putTurnRecord(table, record),
  };
}
