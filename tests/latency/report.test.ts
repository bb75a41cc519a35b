import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type LatencyReport, type UseCaseReport } from '../../scripts/latency/report.ts';
import { formatReport } from '../../scripts/latency/terminal-table.ts';
import { CallNotFoundError, loadCalls, recentDays } from '../../scripts/latency/turn-source.ts';
import { createTestTable, type TestTable } from '../support/dynamo.ts';
import { DAY, seedCalls, type SeededCalls } from './fixtures.ts';

const NOW = Date.UTC(2025, 10, 25, 12, 0, 0);

function row(useCase: UseCaseReport | undefined, id: string) {
  const found = useCase?.rows.find((r) => r.id === id);
  if (!found) throw new Error(`no row ${id}`);
  return found.spread;
}

function useCase(report: LatencyReport, id: string): UseCaseReport | undefined {
  return report.useCases.find((u) => u.useCaseId === id);
}

describe('latency report over stored turn records', () => {
  let table: TestTable;
  let seeded: SeededCalls;
  beforeAll(async () => {
    table = await createTestTable();
    seeded = await seedCalls(table, NOW);
  });
  afterAll(async () => {
    await table.drop();
  });

  it('lists the UTC days to search, newest first', () => {
    expect(recentDays(3, NOW)).toEqual(['2025-11-25', '2025-11-24', '2025-11-23']);
  });

  it('loads the recent calls that have turns, newest first, turns in order', async () => {
    const calls = await loadCalls(table, { calls: 20, days: 2, now: NOW });
    expect(calls.map((c) => c.sessionId)).toEqual([seeded.b.sessionId, seeded.a.sessionId, seeded.c.sessionId]);
    expect(calls[0]!.turns.map((t) => t.turn)).toEqual([1, 2, 3]);
    expect(calls[0]!.callSid).toBe(seeded.b.callSid);
    expect(calls[1]!.startedAt).toBe(new Date(NOW - 3_000).toISOString());
  });

  it('limits to the last N calls and to the days asked for', async () => {
    expect((await loadCalls(table, { calls: 1, days: 2, now: NOW })).map((c) => c.sessionId)).toEqual([seeded.b.sessionId]);
    expect((await loadCalls(table, { calls: 20, days: 1, now: NOW })).map((c) => c.sessionId)).toEqual([seeded.b.sessionId, seeded.a.sessionId]);
    expect(await loadCalls(table, { calls: 20, days: 2, now: NOW + 3 * DAY })).toEqual([]);
  });

  it('computes per-use-case p50/p95/max of every phase', async () => {
    const report = buildReport(await loadCalls(table, { calls: 20, days: 2, now: NOW }), { source: 'test', selection: 'all', now: NOW });
    expect(report.useCases.map((u) => u.useCaseId)).toEqual(['apartment-search', 'default']);
    expect(report.turns).toHaveLength(6);

    const def = useCase(report, 'default');
    expect(def).toMatchObject({ calls: 2, turns: 3, interruptions: 0, coldStarts: 1, outcomes: { completed: 3 } });
    expect(row(def, 'preLlm')).toEqual({ n: 3, p50: 20, p95: 30, max: 30 });
    expect(row(def, 'llmFirstToken')).toEqual({ n: 3, p50: 380, p95: 470, max: 470 });
    expect(row(def, 'postOverhead')).toEqual({ n: 3, p50: 10, p95: 30, max: 30 });
    expect(row(def, 'firstWord')).toEqual({ n: 3, p50: 410, p95: 530, max: 530 });
    expect(row(def, 'tailLag')).toEqual({ n: 3, p50: 20, p95: 50, max: 50 });
    expect(row(def, 'wholeTurn')).toEqual({ n: 3, p50: 1010, p95: 1250, max: 1250 });
    expect(row(def, 'posts')).toEqual({ n: 3, p50: 6, p95: 8, max: 8 });
    expect(def!.rows.some((r) => r.id.startsWith('tool:'))).toBe(false);

    const apt = useCase(report, 'apartment-search');
    expect(apt).toMatchObject({ calls: 1, turns: 3, interruptions: 1, coldStarts: 0, outcomes: { completed: 1, interrupted: 1, failed: 1 } });
    expect(row(apt, 'preLlm')).toEqual({ n: 3, p50: 14, p95: 15, max: 15 });
    expect(row(apt, 'firstWord')).toEqual({ n: 2, p50: 290, p95: 702, max: 702 });
    expect(row(apt, 'tailLag')).toEqual({ n: 1, p50: 4, p95: 4, max: 4 });
    expect(row(apt, 'tool:search_apartments')).toEqual({ n: 2, p50: 350, p95: 1000, max: 1000 });
    expect(row(apt, 'posts')).toEqual({ n: 3, p50: 3, p95: 10, max: 10 });
  });

  it('reports one call by session id or by CallSid', async () => {
    const bySession = await loadCalls(table, { calls: 20, call: seeded.a.sessionId, days: 2, now: NOW });
    expect(bySession.map((c) => c.sessionId)).toEqual([seeded.a.sessionId]);
    const byCallSid = await loadCalls(table, { calls: 20, call: seeded.c.callSid, days: 2, now: NOW });
    expect(byCallSid.map((c) => c.sessionId)).toEqual([seeded.c.sessionId]);

    const report = buildReport(byCallSid, { source: 'test', selection: 'one', now: NOW });
    expect(report.useCases).toHaveLength(1);
    expect(row(useCase(report, 'default'), 'firstWord')).toEqual({ n: 1, p50: 530, p95: 530, max: 530 });
  });

  it('says which call it could not find, and that --days bounds the CallSid search', async () => {
    await expect(loadCalls(table, { calls: 20, call: 'CAnope', days: 2, now: NOW })).rejects.toThrow(CallNotFoundError);
    // C was created a day before NOW: a one-day search does not see its CallSid, its session id still works.
    await expect(loadCalls(table, { calls: 20, call: seeded.c.callSid, days: 1, now: NOW })).rejects.toThrow(/widen --days/);
    expect(await loadCalls(table, { calls: 20, call: seeded.c.sessionId, days: 1, now: NOW })).toHaveLength(1);
  });

  it('keeps only the turns of the use case asked for', async () => {
    const calls = await loadCalls(table, { calls: 20, useCaseId: 'apartment-search', days: 2, now: NOW });
    expect(calls.map((c) => c.sessionId)).toEqual([seeded.b.sessionId]);
    const report = buildReport(calls, { source: 'test', selection: 'apt', now: NOW });
    expect(report.useCases.map((u) => u.useCaseId)).toEqual(['apartment-search']);
    // The last call of `default` with turns is A, not the newest (silent) session nor B.
    const oneDefault = await loadCalls(table, { calls: 1, useCaseId: 'default', days: 2, now: NOW });
    expect(oneDefault.map((c) => c.sessionId)).toEqual([seeded.a.sessionId]);
  });

  it('gives a keypad turn whose line came first no posting phase, and says why in a note', () => {
    const call = { sessionId: 's', callSid: 'CA1', useCaseId: 'default', turns: [
      { sessionId: 's', turn: 1, useCaseId: 'default', callSid: 'CA1', kind: 'dtmf' as const, outcome: 'completed' as const,
        promptReceivedAt: 0, llmRequestSentAt: 10, llmFirstTokenAt: 300, llmFirstTextAt: 300, firstTokenPostedAt: 50, llmLastTokenAt: 900, lastTokenPostedAt: 905 },
      { sessionId: 's', turn: 2, useCaseId: 'default', callSid: 'CA1', kind: 'prompt' as const, outcome: 'completed' as const,
        promptReceivedAt: 0, llmRequestSentAt: 10, llmFirstTokenAt: 300, llmFirstTextAt: 300, firstTokenPostedAt: 304, llmLastTokenAt: 900, lastTokenPostedAt: 905 },
    ] };
    const report = buildReport([call], { source: 'x', selection: 'y', now: NOW });
    const posting = report.useCases[0]!.rows.find((r) => r.id === 'postOverhead')!;
    expect(posting.spread).toEqual({ n: 1, p50: 4, p95: 4, max: 4 });
    expect(report.useCases[0]!.earlyFirstWords).toBe(1);
    expect(report.useCases[0]!.rows.find((r) => r.id === 'firstWord')!.spread).toEqual({ n: 2, p50: 50, p95: 304, max: 304 });
    expect(formatReport(report)).toContain("* 1 turn spoke a keypad line, a filler or an apology before the LLM's first text");
    for (const row of report.useCases[0]!.rows) if (row.spread) expect(row.spread.p50).toBeGreaterThanOrEqual(0);
  });

  it('prints an aligned table per use case, and says so when there is no data', async () => {
    const report = buildReport(await loadCalls(table, { calls: 20, days: 2, now: NOW }), { source: 'local table t', selection: 'the last 20 calls', now: NOW });
    const text = formatReport(report);
    expect(text).toContain('Use case default: 2 calls, 3 turns, 0 interrupted, 1 cold start');
    expect(text).toContain('outcomes: completed 1, failed 1, interrupted 1');
    const lines = text.split('\n');
    const firstWord = lines.find((l) => l.trim().startsWith('time to first word') && l.includes('530 ms'));
    expect(firstWord).toMatch(/time to first word\s+3\s+410 ms\s+530 ms\s+530 ms$/);
    // Columns line up: every row of a use-case table has the same length up to its last value.
    const header = lines.find((l) => l.trim().startsWith('phase'))!;
    const tableRows = lines.slice(lines.indexOf(header), lines.indexOf(header) + 12).filter((l) => l.trim() && !l.startsWith('Use case'));
    expect(new Set(tableRows.map((l) => l.length)).size).toBe(1);
    expect(text).toMatch(/tool search_apartments\s+2\s+350 ms\s+1000 ms\s+1000 ms/);
    expect(text).toMatch(/tail after the LLM finished \(ours\)\s+1\s+4 ms/);
    expect(text).toMatch(/posting \(ours\)\s+3\s+10 ms/);

    const empty = formatReport(buildReport([], { source: 'local table t', selection: 'the last 20 calls', now: NOW }));
    expect(empty).toContain('No turn records found');
  });
});
