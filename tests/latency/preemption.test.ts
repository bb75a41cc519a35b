import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSpeculationRecords, putSpeculationRecord, type SpeculationRecord, type TurnRecord } from '../../layers/data/index.ts';
import { buildReport } from '../../scripts/latency/report.ts';
import { formatReport } from '../../scripts/latency/terminal-table.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';

/** `npm run latency` on calls that preempted: hit rate and wasted tokens, from turn and speculation records. */
const turn = (n: number, over: Partial<TurnRecord> = {}): TurnRecord => ({
  sessionId: 's1',
  turn: n,
  useCaseId: 'apartment-search',
  callSid: 'CA1',
  kind: 'prompt',
  promptReceivedAt: 10_000 * n,
  llmRequestSentAt: 10_000 * n + 3,
  llmFirstTokenAt: 10_000 * n + 303,
  llmFirstTextAt: 10_000 * n + 303,
  firstTokenPostedAt: 10_000 * n + 305,
  outcome: 'completed',
  ...over,
});
const wasted = (id: string, tokens: number, estimated = false): SpeculationRecord => ({
  sessionId: 's1',
  speculationId: id,
  useCaseId: 'apartment-search',
  callSid: 'CA1',
  startedAt: 1,
  endedAt: 2,
  reason: 'dropped',
  llmRequests: 1,
  usage: { inputTokens: tokens, outputTokens: 10, cachedTokens: 0, ...(estimated ? { estimated } : {}) },
});

describe('the latency report on preempted calls', () => {
  it('never shows a preempted turn\'s early request as a negative phase', () => {
    const preempted = turn(2, { preempted: true, speculations: 1, llmRequestSentAt: 20_000 - 297 });
    const report = buildReport(
      [{ sessionId: 's1', callSid: 'CA1', useCaseId: 'apartment-search', turns: [turn(1), preempted, turn(3, { preempted: true }), turn(4)], speculations: [wasted('a', 500, true)] }],
      { source: 'x', selection: 'y', now: 0 },
    );
    expect(report.useCases[0]!.preemption).toEqual({ preempted: 2, wasted: 1, hitRate: 2 / 3, wastedRequests: 1, wastedTokens: 510, estimated: true });
    const text = formatReport(report);
    expect(text).toContain('preemption: 2 turns preempted, 1 speculation wasted (hit rate 67%), 1 wasted LLM request, 510 tokens wasted (partly estimated');
    // A preempted turn asked the LLM before its final prompt: its phases stay consecutive and never negative.
    expect(text).not.toMatch(/-\d+ ms/);
  });

  it('says nothing about preemption for calls that never tried it', () => {
    const report = buildReport([{ sessionId: 's1', callSid: 'CA1', useCaseId: 'apartment-search', turns: [turn(1)] }], { source: 'x', selection: 'y', now: 0 });
    expect(report.useCases[0]!.preemption).toBeUndefined();
    expect(formatReport(report)).not.toContain('preemption');
  });
});

describe('speculation records in the table', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await createTestTable();
  });
  afterAll(async () => {
    await table?.drop();
  });

  it('are stored per session, apart from turn records, and listed back whole', async () => {
    await putSpeculationRecord(table, wasted('01A', 120));
    await putSpeculationRecord(table, { ...wasted('01B', 80), sessionId: 's2' });
    expect(await listSpeculationRecords(table, 's1')).toEqual([wasted('01A', 120)]);
  });
});
