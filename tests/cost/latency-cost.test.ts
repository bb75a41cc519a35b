import { describe, expect, it } from 'vitest';
import { buildReport, type CallTurns } from '../../scripts/latency/report.ts';
import { formatReport } from '../../scripts/latency/terminal-table.ts';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { loadPrices } from '../../scripts/lib/prices.ts';
import { ROOT } from '../evals/support.ts';

/** `npm run latency` summarises each call's LLM tokens from its turn records, and what they cost at the model's price. */
function call(sessionId: string, usages: (TurnRecord['usage'] | undefined)[]): CallTurns {
  return {
    sessionId,
    callSid: `CA${sessionId}`,
    useCaseId: 'apartment-search',
    turns: usages.map((usage, i) => ({
      sessionId,
      turn: i + 1,
      useCaseId: 'apartment-search',
      callSid: `CA${sessionId}`,
      kind: 'prompt',
      promptReceivedAt: 1_000 + i * 10_000,
      firstTokenPostedAt: 1_400 + i * 10_000,
      outcome: 'completed',
      ...(usage ? { usage } : {}),
    })),
  };
}

describe('LLM tokens and cost per call in the latency report', () => {
  it('sums each call over its turns and prices it; calls without usage are left out', () => {
    const calls = [
      call('a', [{ inputTokens: 1_000, outputTokens: 50, cachedTokens: 0 }, { inputTokens: 3_000, outputTokens: 150, cachedTokens: 2_000 }]),
      call('b', [{ inputTokens: 10_000, outputTokens: 1_000, cachedTokens: 8_000 }]),
      call('c', [undefined]),
    ];
    const price = loadPrices(ROOT).llm['gpt-4o-mini'];
    const report = buildReport(calls, { source: 'test', selection: 'three calls', pricing: { model: 'gpt-4o-mini', price } });
    const rows = Object.fromEntries(report.useCases[0]!.rows.map((r) => [r.id, r]));
    expect(rows.llmInput!.spread).toEqual({ n: 2, p50: 4_000, p95: 10_000, max: 10_000 });
    expect(rows.llmCached!.spread).toMatchObject({ n: 2, max: 8_000 });
    expect(rows.llmOutput!.spread).toMatchObject({ n: 2, max: 1_000 });
    // a: 2,000 uncached x 0.15 + 2,000 cached x 0.075 + 200 out x 0.60 = 0.00057; b: 0.0003 + 0.0006 + 0.0006 = 0.0015.
    expect(rows.llmCost!.label).toBe('LLM cost per call (gpt-4o-mini)');
    expect(rows.llmCost!.spread!.p50).toBeCloseTo(0.00057, 10);
    expect(rows.llmCost!.spread!.max).toBeCloseTo(0.0015, 10);
    expect(formatReport(report)).toMatch(/LLM cost per call \(gpt-4o-mini\) +2 +\$0\.00057 +\$0\.00150 +\$0\.00150$/m);
  });

  it('a model with no price shows its tokens and no cost row', () => {
    const report = buildReport([call('a', [{ inputTokens: 10, outputTokens: 1, cachedTokens: 0 }])], { source: 'test', selection: 'one call', pricing: { model: 'unknown', price: undefined } });
    const ids = report.useCases[0]!.rows.map((r) => r.id);
    expect(ids).toContain('llmInput');
    expect(ids).not.toContain('llmCost');
  });
});
