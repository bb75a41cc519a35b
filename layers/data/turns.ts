import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { guard } from './errors.ts';
import { sessionPk, TURN_PREFIX, turnKey } from './keys.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';

export interface ToolTiming {
  name: string;
  startedAt: number;
  durationMs: number;
  ok: boolean;
  timedOut?: boolean;
}

export type TurnOutcome = 'completed' | 'interrupted' | 'superseded' | 'hangup' | 'failed' | 'ended';

/**
 * Timings of one turn (epoch milliseconds), the raw material of the latency report. Absent marks mean the turn
 * never got that far (e.g. no `firstTokenPostedAt` when the caller hung up first).
 */
export interface TurnRecord {
  sessionId: string;
  turn: number;
  useCaseId: string;
  callSid: string;
  kind: 'prompt' | 'dtmf';
  promptReceivedAt: number;
  llmRequestSentAt?: number;
  /** First chunk of any kind from the LLM (text or tool call). */
  llmFirstTokenAt?: number;
  /** First text chunk from the LLM in this turn: "our overhead" runs from here to firstTokenPostedAt. */
  llmFirstTextAt?: number;
  firstTokenPostedAt?: number;
  llmLastTokenAt?: number;
  lastTokenPostedAt?: number;
  /** Sum over all LLM rounds of the turn. */
  llmRounds?: number;
  tools?: ToolTiming[];
  posts?: number;
  tokens?: number;
  interruptedAt?: number;
  outcome: TurnOutcome;
  error?: string;
  coldStart?: boolean;
  /** LLM tokens of the turn, summed over its rounds, as the provider reported them (cost per call is priced from these). */
  llmUsage?: { inputTokens: number; outputTokens: number; cachedTokens: number };
  /** Turn-ledger reads the turn made while it streamed or waited (bounded by time: at most 10 a second). */
  ledgerReads?: number;
  /** Time spent waiting for the previous turn's history to be committed before asking the LLM. */
  historyWaitMs?: number;
}

export async function putTurnRecord(table: Table, record: TurnRecord, now = Date.now()): Promise<void> {
  const key = turnKey(record.sessionId, record.turn);
  await guard('PutItem turn record', key, () =>
    table.doc.send(new PutCommand({ TableName: table.name, Item: { ...key, ...record, expireAt: expireAt(now) } })),
  );
}

export async function listTurnRecords(table: Table, sessionId: string): Promise<TurnRecord[]> {
  const pk = sessionPk(sessionId);
  const records: TurnRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await guard('Query turn records', { pk }, () =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :turn)',
          ExpressionAttributeValues: { ':pk': pk, ':turn': TURN_PREFIX },
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const item of out.Items ?? []) {
      const { pk: _pk, sk: _sk, expireAt: _e, ...record } = item;
      records.push(record as TurnRecord);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return records;
}
