// From each module, not the data layer's index: the index re-exports the use-case config schemas (classic zod),
// which $default never runs but would carry in its bundle.
import { appendMessages, truncateToHeard } from '../../../layers/data/messages.ts';
import { bindConnection, endSession, getSession, loadConversation, sessionIdForConnection, updateSession } from '../../../layers/data/sessions.ts';
import type { Table } from '../../../layers/data/table.ts';
import { appendPartialPrompt, claimReplyTurn, finishReply, lastAssistantReply, readTurnControl, recordInterrupt } from '../../../layers/data/turn-control.ts';
import { putTurnRecord } from '../../../layers/data/turns.ts';
import type { Store } from '../engine/ports.ts';

/** The engine's Store over the single-table data layer (DynamoDB in AWS, local DynamoDB in tests and locally). */
export function createDynamoStore(table: Table): Store {
  return {
    bindConnection: async (sessionId, connectionId) => {
      const session = await bindConnection(table, sessionId, connectionId);
      return { callSid: session.callSid };
    },
    sessionIdForConnection: (connectionId) => sessionIdForConnection(table, connectionId),
    callSidOf: async (sessionId) => (await getSession(table, sessionId))?.callSid,
    loadConversation: (sessionId) => loadConversation(table, sessionId),
    claimReplyTurn: (sessionId, readTurnCount, promptAt) => claimReplyTurn(table, sessionId, readTurnCount, promptAt),
    readTurnControl: (sessionId) => readTurnControl(table, sessionId),
    appendPartialPrompt: (sessionId, piece) => appendPartialPrompt(table, sessionId, piece),
    appendMessages: (sessionId, messages) => appendMessages(table, sessionId, messages),
    truncateToHeard: (sessionId, messageId, heard) => truncateToHeard(table, sessionId, messageId, heard),
    recordInterrupt: (sessionId, heard) => recordInterrupt(table, sessionId, heard),
    finishReply: (sessionId, turn) => finishReply(table, sessionId, turn),
    lastAssistantReply: (sessionId, turn) => lastAssistantReply(table, sessionId, turn),
    updateSession: (sessionId, changes) => updateSession(table, sessionId, changes),
    endSession: (sessionId, reason, extra) => endSession(table, sessionId, reason, extra ?? {}),
    putTurnRecord: (record) => putTurnRecord(table, record),
  };
}
