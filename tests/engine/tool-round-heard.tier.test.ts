import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../layers/data/index.ts';
import type { ToolOutcome } from '../../layers/tools/contract.ts';
import type { LlmMessage } from '../../02_cr-application/src/engine/ports.ts';
import { createEngineTier, type EngineTier, type TierCall } from './tier/engine-tier.ts';
import { finish, gate, says, text, toolCall } from './tier/scripted-llm.ts';
import { settle } from './tier/settle.ts';

/**
 * A tool round meets an interrupt, a newer prompt or a hand-off to a continuation. The turn learns of them only at
 * its ledger reads, and a tool's result can come back between an interrupt's note and that read. Each race is
 * forced in both orders (the result before the turn's read, held there; the read before the result), alone and
 * with the next turn overlapping, and the assertions are the stored history, the next LLM request and the frames
 * after the interrupt: never time.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const TOOLS = [
  { name: 'find', description: 'Finds a unit', parameters: { type: 'object' as const, properties: {} } },
  { name: 'book', description: 'Books a viewing', parameters: { type: 'object' as const, properties: {} } },
];
const FILLER = { afterMs: 500, text: 'One moment please.' };
/** The slow tool's answer: it also asks for a line to be said, which an interrupted turn must never say. */
const BOOKED: ToolOutcome = { ok: true, result: { booked: 'Tuesday' }, actions: [{ type: 'say', text: 'Your viewing is booked.' }] };

/** Stored messages as [role, content, tool calls], in history order. */
const stored = (call: TierCall) =>
  tier.store.messages(call.sessionId).map((m: ChatMessage) => [m.role, m.content, ...(m.toolCalls ? [m.toolCalls.map((c) => c.name)] : [])]);

/** An LLM request as [role, content, tool calls], without the system prompt. */
const sent = (i: number) =>
  tier.llm.requests[i]!.request.messages
    .filter((m: LlmMessage) => m.role !== 'system')
    .map((m) => [m.role, m.content, ...(m.role === 'assistant' && m.toolCalls ? [m.toolCalls.map((c) => c.name)] : [])]);

/** Strict OpenAI-compatible servers reject a history with a tool call that has no result (or a result with no call). */
function expectEveryCallAnswered(messages: ChatMessage[]): void {
  const calls = messages.flatMap((m) => m.toolCalls?.map((c) => c.id) ?? []);
  const results = messages.filter((m) => m.role === 'tool').map((m) => m.toolCallId);
  expect(results.sort()).toEqual(calls.sort());
}

/** Lets call time pass in small steps until `promise` settles (bounded): for waits that need the clock to move. */
async function until(promise: Promise<unknown>, maxMs = 10_000): Promise<void> {
  let done = false;
  void promise.then(() => (done = true));
  for (let waited = 0; !done; waited += 10) {
    if (waited > maxMs) throw new Error(`still waiting after ${maxMs} ms of call time`);
    await tier.clock.advance(10);
  }
}

/** A tool whose answer the test sends; like a Lambda invoke already on its way, it does not stop when aborted. */
interface PendingTool {
  fn: () => Promise<ToolOutcome>;
  called: Promise<void>;
  calls: number;
  answer(outcome: ToolOutcome): void;
}
function pendingTool(): PendingTool {
  let answer!: (outcome: ToolOutcome) => void;
  let markCalled!: () => void;
  const called = new Promise<void>((resolve) => (markCalled = resolve));
  const result = new Promise<ToolOutcome>((resolve) => (answer = resolve));
  const tool: PendingTool = {
    fn: () => {
      tool.calls++;
      markCalled();
      return result;
    },
    called,
    calls: 0,
    answer: (outcome) => answer(outcome),
  };
  return tool;
}

/**
 * Turn 1: "Let me check." and a quick `find` (a round that completes), then a slow `book` with no words, long
 * enough for the filler. Returns when the filler has been posted and `book` is still running.
 */
async function bookingUnderway(): Promise<{ call: TierCall; book: PendingTool }> {
  tier = await createEngineTier();
  const book = pendingTool();
  tier.tools.find = async () => ({ ok: true, result: { unit: '4B', free: true } });
  tier.tools.book = book.fn;
  tier.llm.enqueue(
    [text('Let me check. '), toolCall({ id: 'c1', name: 'find', arguments: {} }), finish('tool_calls')],
    [toolCall({ id: 'c2', name: 'book', arguments: {} }), finish('tool_calls')],
  );
  const call = await tier.call({ tools: TOOLS, filler: FILLER });
  void call.prompt('Book unit 4B for Tuesday');
  await book.called;
  await settle();
  await tier.clock.advance(FILLER.afterMs + 50);
  expect(call.texts()).toEqual([
    { token: 'Let me check. ', last: false },
    { token: 'One moment please. ', last: false },
  ]);
  return { call, book };
}

/** What the caller receives when the turn stops during the booking and the next turn answers "Wednesday". */
const STOPPED_THEN_WEDNESDAY = [
  { token: 'Let me check. ', last: false },
  { token: 'One moment please. ', last: false },
  { token: '', last: true },
  { token: 'Wednesday then.', last: true },
];

/** The `find` round, stored whole and before anything else of the turn. */
const FIND_ROUND = [
  ['user', 'Book unit 4B for Tuesday'],
  ['assistant', 'Let me check. ', ['find']],
  ['tool', JSON.stringify({ unit: '4B', free: true })],
];

/**
 * Answers the slow tool in the order named: `result-first` answers it after the turn's interrupt or newer prompt
 * has landed but before the turn has read the ledger (the read is held until anything the turn does with the
 * result has had its chance to reach the caller); `read-first` lets the turn read the ledger first, and answers
 * only after `waitFirst` (e.g. the next turn's request: a stopped turn must not hold it up until the tool answers).
 */
async function answerBook(order: 'result-first' | 'read-first', book: PendingTool, waitFirst?: () => Promise<void>): Promise<void> {
  if (order === 'result-first') {
    const read = tier.store.hold('readLedger');
    book.answer(BOOKED);
    await read.reached;
    await settle();
    read();
    await settle();
    await waitFirst?.();
    return;
  }
  await tier.clock.advance(100);
  await settle();
  await waitFirst?.();
  book.answer(BOOKED);
}

describe('a tool result and an interrupt: whichever lands first, the interrupted round is not stored and not acted on', () => {
  for (const order of ['result-first', 'read-first'] as const) {
    for (const overlap of [false, true]) {
      it(`${order}${overlap ? ', the next prompt already waiting' : ''}: the heard words are stored after the last whole round, and the next request has them`, async () => {
        const { call, book } = await bookingUnderway();
        void call.interrupt('let me check one moment', 1_400);
        await settle();
        tier.llm.enqueue(says('Wednesday then.'));
        if (overlap) {
          void call.prompt('No, Wednesday');
          await settle();
        }
        // With the next prompt waiting, the interrupted turn must not hold it up until the tool answers.
        await answerBook(order, book, overlap ? () => until(tier.llm.requested(3)) : undefined);
        await tier.drain();
        if (!overlap) {
          void call.prompt('No, Wednesday');
          await tier.drain();
        }

        // Nothing of the interrupted turn after the interrupt: not the tool's line, only the reply's close.
        expect(call.texts()).toEqual(STOPPED_THEN_WEDNESDAY);
        const heardTurn = [...FIND_ROUND, ['assistant', 'One moment']];
        expect(stored(call)).toEqual([...heardTurn, ['user', 'No, Wednesday'], ['assistant', 'Wednesday then.']]);
        expect(sent(2)).toEqual([...heardTurn, ['user', 'No, Wednesday']]);
        expectEveryCallAnswered(tier.store.messages(call.sessionId));
        expect(tier.store.turnRecords(call.sessionId).map((r) => r.outcome)).toEqual(['interrupted', 'completed']);
      });
    }
  }

  for (const when of ['mid-stream', 'after-commit'] as const) {
    it(`the round was kept before the interrupt landed (${when}): the filler the caller heard is stored with the next words`, async () => {
      const { call, book } = await bookingUnderway();
      const held = gate();
      tier.llm.enqueue(when === 'mid-stream' ? [text('Booked for '), held, text('Tuesday at ten. '), finish()] : says('Booked for ', 'Tuesday at ten. '));
      // The result comes back and the turn reads the ledger before the caller cuts in.
      book.answer({ ok: true, result: { booked: 'Tuesday' } });
      if (when === 'mid-stream') await held.reached;
      else await tier.drain();
      await settle();
      void call.interrupt('let me check one moment please booked for', 2_600);
      await settle();
      await tier.clock.advance(100);
      held.open();
      await tier.drain();
      tier.llm.enqueue(says('Wednesday then.'));
      void call.prompt('No, Wednesday');
      await tier.drain();
      const heardTurn = [
        ...FIND_ROUND,
        ['assistant', null, ['book']],
        ['tool', JSON.stringify({ booked: 'Tuesday' })],
        ['assistant', 'One moment please. Booked for'],
      ];
      expect(stored(call).slice(0, heardTurn.length)).toEqual(heardTurn);
      expect(sent(3)).toEqual([...heardTurn, ['user', 'No, Wednesday']]);
    });
  }

  it('a completed turn stores the filler the caller heard with its reply', async () => {
    const { call, book } = await bookingUnderway();
    tier.llm.enqueue(says('Booked for Tuesday.'));
    book.answer({ ok: true, result: { booked: 'Tuesday' } });
    await tier.drain();
    expect(call.replies()).toEqual(['Let me check. One moment please. Booked for Tuesday.']);
    expect(stored(call).at(-1)).toEqual(['assistant', 'One moment please. Booked for Tuesday.']);
  });
});

describe('a tool result and a newer prompt: the superseded round is not stored and not acted on', () => {
  for (const order of ['result-first', 'read-first'] as const) {
    it(`${order}: the words posted are stored as posted, after the last whole round, and the newer request has them`, async () => {
      const { call, book } = await bookingUnderway();
      tier.llm.enqueue(says('Wednesday then.'));
      void call.prompt('No, Wednesday');
      await settle();
      await answerBook(order, book, () => until(tier.llm.requested(3)));
      await tier.drain();
      expect(call.texts()).toEqual(STOPPED_THEN_WEDNESDAY);
      const superseded = [...FIND_ROUND, ['assistant', 'One moment please.']];
      expect(stored(call)).toEqual([...superseded, ['user', 'No, Wednesday'], ['assistant', 'Wednesday then.']]);
      expect(sent(2)).toEqual([...superseded, ['user', 'No, Wednesday']]);
      expectEveryCallAnswered(tier.store.messages(call.sessionId));
      expect(tier.store.turnRecords(call.sessionId).map((r) => r.outcome)).toEqual(['superseded', 'completed']);
    });
  }
});

describe('a turn handed to a continuation, and an interrupt', () => {
  /** Turn 1: "Let me check." and `find`, then "Booking it now." and a `book` slow enough to be handed on. */
  async function handedOff(): Promise<{ call: TierCall; book: PendingTool }> {
    tier = await createEngineTier({ continuation: true });
    const book = pendingTool();
    tier.tools.find = async () => ({ ok: true, result: { unit: '4B', free: true } });
    tier.tools.book = book.fn;
    tier.llm.enqueue(
      [text('Let me check. '), toolCall({ id: 'c1', name: 'find', arguments: {} }), finish('tool_calls')],
      [text('Booking it now. '), toolCall({ id: 'c2', name: 'book', arguments: {} }), finish('tool_calls')],
    );
    const call = await tier.call({ tools: [TOOLS[0]!, { ...TOOLS[1]!, timeoutMs: 25_000 }], filler: FILLER });
    void call.prompt('Book unit 4B for Tuesday');
    await tier.drain();
    // The caller listens for a while: the words heard are what was said by then.
    await tier.clock.advance(1_000);
    expect(tier.continuations).toHaveLength(1);
    expect(tier.continuations[0]).toMatchObject({ roundText: 'Booking it now. ', spokenText: 'Let me check. Booking it now. ' });
    return { call, book };
  }

  const heardTurn = [...FIND_ROUND, ['assistant', 'Booking']];

  for (const overlap of [false, true]) {
    it(`lands before the continuation starts${overlap ? ', the next prompt already waiting' : ''}: the words heard of the handed-on round are stored`, async () => {
      const { call, book } = await handedOff();
      void call.interrupt('let me check booking', 1_500);
      await settle();
      tier.llm.enqueue(says('Wednesday then.'));
      if (overlap) {
        void call.prompt('No, Wednesday');
        await settle();
      }
      void tier.runContinuation(tier.continuations[0]!);
      await tier.drain();
      if (!overlap) {
        void call.prompt('No, Wednesday');
        await tier.drain();
      }
      expect(book.calls).toBe(0);
      expect(stored(call)).toEqual([...heardTurn, ['user', 'No, Wednesday'], ['assistant', 'Wednesday then.']]);
      expect(sent(2)).toEqual([...heardTurn, ['user', 'No, Wednesday']]);
      expect(call.texts()).toEqual([
        { token: 'Let me check. Booking it now. ', last: false },
        { token: '', last: true },
        { token: 'Wednesday then.', last: true },
      ]);
    });
  }

  for (const order of ['result-first', 'read-first'] as const) {
    it(`lands while the continuation's tool runs, ${order}: the round is not stored, the heard words are`, async () => {
      const { call, book } = await handedOff();
      void tier.runContinuation(tier.continuations[0]!);
      await book.called;
      await settle();
      void call.interrupt('let me check booking', 1_500);
      await settle();
      await answerBook(order, book);
      await tier.drain();
      tier.llm.enqueue(says('Wednesday then.'));
      void call.prompt('No, Wednesday');
      await tier.drain();
      // The handed-on reply is closed once, by the continuation, and says nothing more.
      expect(call.texts()).toEqual([
        { token: 'Let me check. Booking it now. ', last: false },
        { token: '', last: true },
        { token: 'Wednesday then.', last: true },
      ]);
      expect(stored(call)).toEqual([...heardTurn, ['user', 'No, Wednesday'], ['assistant', 'Wednesday then.']]);
      expect(sent(2)).toEqual([...heardTurn, ['user', 'No, Wednesday']]);
      expectEveryCallAnswered(tier.store.messages(call.sessionId));
    });
  }
});

describe('an interrupt that lands after the commit of a turn with a tool round (the text-to-speech was behind)', () => {
  for (const order of ['rewrite-first', 'next-prompt-first'] as const) {
    it(`${order}: the tool round's words are cut to what was heard, like the reply`, async () => {
      tier = await createEngineTier();
      tier.tools.find = async () => ({ ok: true, result: { unit: '4B', free: true } });
      tier.llm.enqueue([text('Let me check. '), toolCall({ id: 'c1', name: 'find', arguments: {} }), finish('tool_calls')], says('Unit 4B is free.'), says('Wednesday then.'));
      const call = await tier.call({ tools: TOOLS, filler: FILLER });
      void call.prompt('Is unit 4B free?');
      await tier.drain();
      expect(tier.store.session(call.sessionId)!.ledger.turns['1']).toMatchObject({ committed: true });
      await tier.clock.advance(500);
      // The caller cut in two words into the turn, long after all of it was posted and committed.
      const rewrite = order === 'next-prompt-first' ? tier.store.hold('rewriteHeard') : undefined;
      void call.interrupt('let me', 400);
      if (rewrite) {
        await rewrite.reached;
        void call.prompt('No, Wednesday');
        await tier.llm.requested(3);
        rewrite();
      } else {
        await tier.drain();
        void call.prompt('No, Wednesday');
      }
      await tier.drain();
      const heardTurn = [['user', 'Is unit 4B free?'], ['assistant', 'Let me', ['find']], ['tool', JSON.stringify({ unit: '4B', free: true })]];
      expect(sent(2)).toEqual([...heardTurn, ['user', 'No, Wednesday']]);
      expect(stored(call).slice(0, 4)).toEqual([...heardTurn, ['assistant', '']]);
      expectEveryCallAnswered(tier.store.messages(call.sessionId));
    });
  }
});
