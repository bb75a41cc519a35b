import { afterEach, describe, expect, it } from 'vitest';
import { listTurnRecords, loadConversation } from '../../layers/data/index.ts';
import { deadlineFor, planToolRound } from '../../02_cr-application/src/engine/turn-budget.ts';
import { DEFAULT_FUNCTION, sleep, startEngine, tool, type EngineHarness } from './support.ts';

let engine: EngineHarness | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe("API Gateway's 29 s: when to hand a turn off", () => {
  const budget = { deadlineAt: 26_000, llmRoundReserveMs: 6_000 };

  it('runs a tool round in place while the tools and the next LLM round fit before the deadline', () => {
    expect(planToolRound({ now: 1_000, budget, toolTimeoutsMs: [10_000, 2_000], canHandOff: true })).toBe('run-here');
    expect(planToolRound({ now: 10_000, budget, toolTimeoutsMs: [10_000], canHandOff: true })).toBe('run-here');
  });

  it('hands off when the slowest tool plus the next LLM round would outlive the deadline', () => {
    expect(planToolRound({ now: 10_001, budget, toolTimeoutsMs: [10_000, 1_000], canHandOff: true })).toBe('hand-off');
    expect(planToolRound({ now: 1_000, budget, toolTimeoutsMs: [30_000], canHandOff: true })).toBe('hand-off');
  });

  it('runs in place when there is nowhere to hand off to', () => {
    expect(planToolRound({ now: 20_000, budget, toolTimeoutsMs: [30_000], canHandOff: false })).toBe('run-here');
  });

  it("takes the earlier of the budget and Lambda's own remaining time", () => {
    expect(deadlineFor(1_000, 26_000)).toBe(27_000);
    expect(deadlineFor(1_000, 26_000, 10_000, 1_000)).toBe(10_000);
    expect(deadlineFor(1_000, 26_000, 900_000, 1_000)).toBe(27_000);
  });
});

describe('a slow tool round handed to an async invocation of $default', () => {
  it('returns the synchronous invocation early and finishes the reply from the continuation, with one last:true', async () => {
    engine = await startEngine({
      continuation: true,
      // A small synchronous budget stands in for 29 s: a 1.5 s tool plus a 1 s LLM reserve does not fit in 2 s.
      config: { syncBudgetMs: 2_000, llmRoundReserveMs: 1_000 },
      responder: (req) =>
        req.messages.some((m) => m.role === 'tool') ? { text: 'Your booking is confirmed.' } : { text: 'Let me book that. ', toolCalls: [{ name: 'book', arguments: { city: 'Denver' } }] },
    });
    engine.toolFunctions['cr-test-tools-book'] = async () => {
      await sleep(300);
      return { ok: true, result: { confirmation: 'B-42' } };
    };
    const call = await engine.startCall({ tools: [tool('book', { timeoutMs: 1_500 })], filler: { afterMs: 100, text: 'Still working on it.' } });
    call.send({ type: 'prompt', voicePrompt: 'Book a viewing', last: true });
    await call.waitForReplies(1);

    expect(call.replies()).toEqual(['Let me book that. Still working on it. Your booking is confirmed.']);
    expect(call.textFrames().filter((f) => f.last)).toHaveLength(1);
    const continuation = engine.lambda.invocations.filter((i) => i.functionName === DEFAULT_FUNCTION);
    expect(continuation).toHaveLength(1);
    expect(continuation[0]!.payload).toMatchObject({ source: 'cr.continue-turn', state: { turn: 1, round: 0, pendingToolCalls: [{ name: 'book' }] } });

    await expect.poll(async () => (await listTurnRecords(engine!.table, call.sessionId)).length).toBe(1);
    const [record] = await listTurnRecords(engine.table, call.sessionId);
    expect(record).toMatchObject({ turn: 1, outcome: 'completed', llmRounds: 2 });
    expect(record!.tools?.map((t) => t.name)).toEqual(['book']);
    expect(record!.firstTokenPostedAt).toBeLessThan(record!.lastTokenPostedAt!);
    const { messages } = await loadConversation(engine.table, call.sessionId);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Book a viewing'],
      ['assistant', 'Let me book that. '],
      ['tool', '{"confirmation":"B-42"}'],
      // The filler was heard too: it is stored with the words that followed it.
      ['assistant', 'Still working on it. Your booking is confirmed.'],
    ]);
  });
});
