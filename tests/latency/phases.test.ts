import { describe, expect, it } from 'vitest';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { breakdown, OURS, PHASES, toolTimings, turnPhases, wasInterrupted, type TurnBreakdown } from '../../scripts/latency/phases.ts';

const base: TurnRecord = { sessionId: 's', turn: 1, useCaseId: 'default', callSid: 'CA1', kind: 'prompt', promptReceivedAt: 1_000, outcome: 'completed' };

/** The segments as `id from-to`, relative to the prompt. */
const drawn = (b: TurnBreakdown) => b.segments.map((s) => `${s.id} ${s.from}-${s.to}`);

/** Every turn's segments are consecutive, never negative, and add up to the first word and the whole turn. */
function expectConsecutive(b: TurnBreakdown): void {
  let at = 0;
  for (const s of b.segments) {
    expect(s.from).toBe(at);
    expect(s.to).toBeGreaterThanOrEqual(s.from);
    at = s.to;
  }
  const beforeFirstWord = b.segments.filter((s) => ['preLlm', 'llmFirstToken', 'toolRounds', 'postOverhead'].includes(s.id));
  if (b.phases.firstWord !== undefined) expect(beforeFirstWord.reduce((sum, s) => sum + s.to - s.from, 0)).toBe(b.phases.firstWord);
  if (b.phases.wholeTurn !== undefined) expect(at).toBe(b.phases.wholeTurn);
}

describe('turn phases', () => {
  it('splits a plain turn into consecutive phases that add up', () => {
    const b = breakdown({ ...base, llmRequestSentAt: 1_012, llmFirstTokenAt: 1_412, llmFirstTextAt: 1_412, firstTokenPostedAt: 1_415, llmLastTokenAt: 2_000, lastTokenPostedAt: 2_030 });
    expect(b.phases).toEqual({ firstWord: 415, preLlm: 12, llmFirstToken: 400, postOverhead: 3, streaming: 585, tailLag: 30, wholeTurn: 1_030 });
    expect(b.firstWordFrom).toBe('llm');
    expectConsecutive(b);
    expect(PHASES.map((p) => p.id)).toEqual(['firstWord', 'preLlm', 'llmFirstToken', 'toolRounds', 'postOverhead', 'streaming', 'tailLag', 'wholeTurn']);
    expect([...OURS]).toEqual(['preLlm', 'postOverhead', 'tailLag']);
  });

  it('puts a tool round in its own phase: posting is only the post after the LLM text, never the tools or the next LLM round', () => {
    // The LLM asks for a tool 85 ms in; the tool takes 300 ms; the next round's first text comes 240 ms after it.
    const record: TurnRecord = {
      ...base, llmRequestSentAt: 1_005, llmFirstTokenAt: 1_090, llmFirstTextAt: 1_640, firstTokenPostedAt: 1_643, llmLastTokenAt: 2_100, lastTokenPostedAt: 2_102,
      tools: [{ name: 'search_apartments', startedAt: 1_100, durationMs: 300, ok: true }],
    };
    const b = breakdown(record);
    expect(drawn(b)).toEqual(['preLlm 0-5', 'llmFirstToken 5-90', 'toolRounds 90-640', 'postOverhead 640-643', 'streaming 643-1100', 'tailLag 1100-1102']);
    expect(b.phases.postOverhead).toBe(3);
    expect(b.llmAfterTools).toEqual({ from: 400, to: 640 });
    expectConsecutive(b);
  });

  it('cuts a keypad turn at its line: the first word is ours, no phase is negative, and there is no posting phase', () => {
    // The keypad line is posted 8 ms in, before the LLM request: the old "posting" was 8 - 300 = -292.
    const keypad: TurnRecord = { ...base, kind: 'dtmf', llmRequestSentAt: 1_030, llmFirstTokenAt: 1_300, llmFirstTextAt: 1_300, firstTokenPostedAt: 1_008, llmLastTokenAt: 1_900, lastTokenPostedAt: 1_903 };
    const b = breakdown(keypad);
    expect(drawn(b)).toEqual(['preLlm 0-8', 'streaming 8-900', 'tailLag 900-903']);
    expect(b.phases).toEqual({ firstWord: 8, preLlm: 8, streaming: 892, tailLag: 3, wholeTurn: 903 });
    expect(b.firstWordFrom).toBe('early');
    expectConsecutive(b);
    // A keypad line with no LLM behind it at all.
    expect(breakdown({ ...base, kind: 'dtmf', firstTokenPostedAt: 1_050, lastTokenPostedAt: 1_060 }).phases).toEqual({ firstWord: 50, preLlm: 50, streaming: 10, wholeTurn: 60 });
  });

  it('cuts a filler turn where the filler left, inside the tool round, and labels none of that wait ours', () => {
    const filler: TurnRecord = {
      ...base, llmRequestSentAt: 1_010, llmFirstTokenAt: 1_100, llmFirstTextAt: 3_000, firstTokenPostedAt: 2_110, llmLastTokenAt: 3_500, lastTokenPostedAt: 3_501,
      tools: [{ name: 'slow', startedAt: 1_110, durationMs: 1_800, ok: true }],
    };
    const b = breakdown(filler);
    expect(drawn(b)).toEqual(['preLlm 0-10', 'llmFirstToken 10-100', 'toolRounds 100-1110', 'streaming 1110-2500', 'tailLag 2500-2501']);
    expect(b.phases.postOverhead).toBeUndefined();
    expectConsecutive(b);
  });

  it('keeps what a turn reached when it has no reply, and the apology after an LLM failure', () => {
    expect(turnPhases({ ...base, llmRequestSentAt: 1_020, outcome: 'hangup' })).toEqual({ preLlm: 20 });
    expect(turnPhases({ ...base, outcome: 'failed' })).toEqual({});
    // No first token: the wait for the LLM lasted until the apology went out.
    const apology = breakdown({ ...base, outcome: 'failed', error: 'LLM request failed', llmRequestSentAt: 1_003, firstTokenPostedAt: 1_040, lastTokenPostedAt: 1_041 });
    expect(drawn(apology)).toEqual(['preLlm 0-3', 'llmFirstToken 3-40', 'streaming 40-41']);
    expect(apology.firstWordFrom).toBe('early');
  });

  it('draws an interrupted reply until the caller cut in, with no tail', () => {
    const b = breakdown({ ...base, llmRequestSentAt: 1_010, llmFirstTokenAt: 1_300, llmFirstTextAt: 1_300, firstTokenPostedAt: 1_301, interruptedAt: 1_800, outcome: 'interrupted' });
    expect(drawn(b)).toEqual(['preLlm 0-10', 'llmFirstToken 10-300', 'postOverhead 300-301', 'streaming 301-800']);
    expect(b.phases.wholeTurn).toBeUndefined();
  });

  it('never goes negative on misplaced marks, and ignores marks that are not numbers', () => {
    const odd = { ...base, llmRequestSentAt: Number.NaN, llmFirstTokenAt: 990, llmFirstTextAt: 990, firstTokenPostedAt: 1_020, llmLastTokenAt: 3_000, lastTokenPostedAt: 2_995 } as TurnRecord;
    const b = breakdown(odd);
    for (const s of b.segments) expect(s.to - s.from).toBeGreaterThanOrEqual(0);
    expectConsecutive(b);
  });

  it('keeps tool calls with a duration and tells interrupted turns apart', () => {
    const tools = [
      { name: 'search', startedAt: 1_100, durationMs: 250, ok: true },
      { name: 'broken', startedAt: 1_100, durationMs: Number.NaN, ok: false },
    ];
    expect(toolTimings({ ...base, tools })).toEqual([tools[0]]);
    expect(toolTimings(base)).toEqual([]);
    expect(wasInterrupted({ ...base, interruptedAt: 1_500 })).toBe(true);
    expect(wasInterrupted({ ...base, outcome: 'interrupted' })).toBe(true);
    expect(wasInterrupted(base)).toBe(false);
  });
});
