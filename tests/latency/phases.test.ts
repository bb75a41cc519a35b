import { describe, expect, it } from 'vitest';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { PHASES, reversedPhases, toolTimings, turnPhases, wasInterrupted } from '../../scripts/latency/phases.ts';

const base: TurnRecord = { sessionId: 's', turn: 1, useCaseId: 'default', callSid: 'CA1', kind: 'prompt', promptReceivedAt: 1_000, outcome: 'completed' };

describe('turn phases', () => {
  it('computes every phase of a complete turn from its marks', () => {
    const record: TurnRecord = {
      ...base,
      llmRequestSentAt: 1_012,
      llmFirstTokenAt: 1_412,
      llmFirstTextAt: 1_412,
      firstTokenPostedAt: 1_415,
      llmLastTokenAt: 2_000,
      lastTokenPostedAt: 2_030,
    };
    expect(turnPhases(record)).toEqual({ preLlm: 12, llmFirstToken: 400, postOverhead: 3, firstWord: 415, tailLag: 30, wholeTurn: 1_030 });
    expect(PHASES.map((p) => p.id)).toEqual(['preLlm', 'llmFirstToken', 'postOverhead', 'firstWord', 'tailLag', 'wholeTurn']);
  });

  it('leaves out every phase whose marks are missing', () => {
    // The caller hung up while the LLM was still thinking: only the pre-LLM overhead exists.
    expect(turnPhases({ ...base, llmRequestSentAt: 1_020, outcome: 'hangup' })).toEqual({ preLlm: 20 });
    // Nothing after the prompt: no phase at all.
    expect(turnPhases({ ...base, outcome: 'failed' })).toEqual({});
    // Interrupted mid-stream: first word known, no last token.
    expect(turnPhases({ ...base, llmRequestSentAt: 1_010, llmFirstTokenAt: 1_300, llmFirstTextAt: 1_300, firstTokenPostedAt: 1_301, outcome: 'interrupted' })).toEqual({
      preLlm: 10,
      llmFirstToken: 290,
      postOverhead: 1,
      firstWord: 301,
    });
    // A record with the first-token post but no LLM marks (e.g. a keypad line): first word without its parts.
    expect(turnPhases({ ...base, kind: 'dtmf', firstTokenPostedAt: 1_050, lastTokenPostedAt: 1_060 })).toEqual({ firstWord: 50, wholeTurn: 60 });
  });

  it('ignores marks that are not numbers and names phases whose marks are in reverse order', () => {
    const odd = { ...base, llmRequestSentAt: Number.NaN, llmLastTokenAt: 3_000, lastTokenPostedAt: 2_995 } as TurnRecord;
    // The reply stopped 5 ms before the LLM finished: no tail lag, but the turn says why.
    expect(turnPhases(odd)).toEqual({ wholeTurn: 1_995 });
    expect(reversedPhases(odd)).toEqual(['tailLag']);
    // A keypad line posted before the LLM's first token: that post was not an LLM token.
    const keypad: TurnRecord = { ...base, kind: 'dtmf', llmRequestSentAt: 1_030, llmFirstTokenAt: 1_300, llmFirstTextAt: 1_300, firstTokenPostedAt: 1_080 };
    expect(turnPhases(keypad)).toEqual({ preLlm: 30, llmFirstToken: 270, firstWord: 80 });
    expect(reversedPhases(keypad)).toEqual(['postOverhead']);
    expect(reversedPhases(base)).toEqual([]);
    // Equal marks are a zero-length phase, not a reversed one.
    expect(turnPhases({ ...base, llmRequestSentAt: 1_000 })).toEqual({ preLlm: 0 });
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
