import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatMessage } from '../../layers/data/messages.ts';
import { loadConversation } from '../../layers/data/sessions.ts';
import type { Table } from '../../layers/data/table.ts';
import { listTurnRecords, type TurnRecord } from '../../layers/data/turns.ts';
import { costOfCall, type CallCost, type CallUsage } from '../../scripts/lib/call-cost.ts';
import type { FunctionSize } from '../../scripts/lib/function-sizes.ts';
import type { Prices } from '../../scripts/lib/prices.ts';
import type { UsageMeter } from '../local/usage-meter.ts';
import type { CallLog } from './call-driver.ts';

/**
 * Everything an eval's assertions look at, read back from where the app keeps it: the transcript the callers heard,
 * the tool calls each turn made (the chat history in the table), the turn records (timings, tokens) and the cost.
 */
export interface ToolUse {
  name: string;
  args: Record<string, unknown>;
}

export interface CallEvidence {
  log: CallLog;
  /** Tool calls made while answering each entry of `log.turns` (same index); undefined without table access. */
  toolsByTurn: (ToolUse[] | undefined)[];
  turnRecords: TurnRecord[];
  cost: CallCost | undefined;
}

export interface EvidenceSources {
  table?: Table | undefined;
  meter?: UsageMeter | undefined;
  prices: Prices;
  sizes: Map<string, FunctionSize>;
  /** The model a session uses when it names none (OPENAI_MODEL, or the offline model). */
  defaultModel: string;
}

export async function gatherEvidence(log: CallLog, sources: EvidenceSources): Promise<CallEvidence> {
  const { table } = sources;
  const sessions = [...new Set(log.legs.map((l) => l.sessionId))];
  const toolsByTurn: (ToolUse[] | undefined)[] = log.turns.map(() => undefined);
  const turnRecords: TurnRecord[] = [];
  const models = new Map<string, string>();
  if (table) {
    for (const sessionId of sessions) {
      const inputs = log.turns.map((t, i) => [t, i] as const).filter(([t]) => t.sessionId === sessionId);
      turnRecords.push(...(await settledTurnRecords(table, sessionId, inputs.length)));
      const { session, messages } = await loadConversation(table, sessionId);
      models.set(sessionId, session.llm?.model ?? sources.defaultModel);
      // The k-th input of a session is its k-th caller message; a turn's tool calls carry that message's turn number.
      const userTurns = messages.filter((m) => m.role === 'user').map((m) => m.turn);
      inputs.forEach(([, index], k) => {
        const turn = userTurns[k];
        toolsByTurn[index] = turn === undefined ? [] : toolUses(messages.filter((m) => m.turn === turn));
      });
    }
  }
  return { log, toolsByTurn, turnRecords, cost: table ? callCost(log, turnRecords, models, sources) : undefined };
}

function toolUses(messages: ChatMessage[]): ToolUse[] {
  return messages.flatMap((m) =>
    (m.toolCalls ?? []).map((c) => {
      let args: Record<string, unknown> = {};
      try {
        args = JSON.parse(c.arguments || '{}') as Record<string, unknown>;
      } catch {
        args = { $unparsed: c.arguments };
      }
      return { name: c.name, args };
    }),
  );
}

/** A turn's record is written once its reply is stored, shortly after the caller heard the last word. */
async function settledTurnRecords(table: Table, sessionId: string, expected: number): Promise<TurnRecord[]> {
  let records = await listTurnRecords(table, sessionId);
  for (let waited = 0; records.length < expected && waited < 10_000; waited += 25) {
    await sleep(25);
    records = await listTurnRecords(table, sessionId);
  }
  return records.sort((a, b) => a.turn - b.turn);
}

function callCost(log: CallLog, records: TurnRecord[], models: Map<string, string>, sources: EvidenceSources): CallCost {
  const llm = new Map<string, CallUsage['llm'][number]>();
  for (const r of records) {
    if (!r.usage) continue;
    const model = models.get(r.sessionId) ?? sources.defaultModel;
    const u = llm.get(model) ?? { model, inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
    u.inputTokens += r.usage.inputTokens;
    u.outputTokens += r.usage.outputTokens;
    u.cachedTokens += r.usage.cachedTokens;
    llm.set(model, u);
  }
  const keys = log.legs.flatMap((l) => [`session:${l.sessionId}`, `call:${l.call.callSid}`]);
  const invocations = sources.meter?.usageOf(keys);
  // In AWS each tool call is an invocation of the use case's tool function (cr-<env>-tools-<id>).
  const toolInvocations = records.flatMap((r) => (r.tools ?? []).map((t) => ({ fn: `tools-${r.useCaseId}`, durationMs: t.durationMs })));
  const ms = (l: CallLog['legs'][number]) => (l.call.closedAt ?? performance.timeOrigin + performance.now()) - l.call.openedAt;
  const usage: CallUsage = {
    llm: [...llm.values()],
    lambda: invocations ? [...invocations.map((i) => ({ fn: i.fn, durationMs: i.durationMs })), ...toolInvocations] : undefined,
    dynamodb: invocations
      ? { readUnits: invocations.reduce((s, i) => s + i.readUnits, 0), writeUnits: invocations.reduce((s, i) => s + i.writeUnits, 0) }
      : undefined,
    apiGateway: {
      messages: log.legs.reduce((s, l) => s + l.call.framesSent + l.call.events.length, 0),
      connectionMs: log.legs.map(ms),
    },
    relayMs: log.legs.map((l) => (l.call.closedAt ?? performance.timeOrigin + performance.now()) - l.dialedAt),
  };
  return costOfCall(usage, sources.prices, sources.sizes);
}
