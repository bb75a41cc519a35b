import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { guard } from './errors.ts';
import { sessionPk, SPECULATION_PREFIX, speculationKey, TURN_PREFIX, turnKey } from './keys.ts';
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
  /** Turn-ledger reads the turn made while it streamed or waited (bounded by time: at most 10 a second). */
  ledgerReads?: number;
  /** Time spent waiting for the previous turn's history to be committed before asking the LLM. */
  historyWaitMs?: number;
  /** The reply was generated preemptively: its LLM request started on a partial prompt, before `promptReceivedAt`. */
  preempted?: boolean;
  /** Speculative LLM requests started for this turn's utterance (the adopted one and any dropped before it). */
  speculations?: number;
  /** Tokens of the turn's LLM requests, summed over its rounds as the provider reported them (cost per call is priced from these). */
  usage?: TokenUsage;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  /** Some request ended before the provider reported its usage (an aborted stream): counted from what was sent and received. */
  estimated?: boolean;
}

/** A speculative turn that was never confirmed: what it cost (the waste of preemptive generation). */
export interface SpeculationRecord {
  sessionId: string;
  speculationId: string;
  useCaseId: string;
  callSid: string;
  /** When the partial prompt it started on reached us. */
  startedAt: number;
  endedAt: number;
  /** Why: the final prompt differed, the caller kept talking, an interrupt, no final in time, or a failure. */
  reason: string;
  llmRequests: number;
  usage: TokenUsage;
}

export async function putSpeculationRecord(table: Table, record: SpeculationRecord, now = Date.now()): Promise<void> {
  const key = speculationKey(record.sessionId, record.speculationId);
  await guard('PutItem speculation record', key, () =>
    table.doc.send(new PutCommand({ TableName: table.name, Item: { ...key, ...record, expireAt: expireAt(now) } })),
  );
}

export async function listSpeculationRecords(table: Table, sessionId: string): Promise<SpeculationRecord[]> {
  const pk = sessionPk(sessionId);
  const records: SpeculationRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await guard('Query speculation records', { pk }, () =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :spec)',
          ExpressionAttributeValues: { ':pk': pk, ':spec': SPECULATION_PREFIX },
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const item of out.Items ?? []) {
      const { pk: _pk, sk: _sk, expireAt: _e, ...record } = item;
      records.push(record as SpeculationRecord);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return records;
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
