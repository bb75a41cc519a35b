import { afterEach, describe, expect, it } from 'vitest';
import { PreemptionSchema, type Preemption } from '../../layers/data/use-case-config.ts';
import type { Ledger, ToolManifestEntry } from '../../layers/data/index.ts';
import type { LlmMessage } from '../../02_cr-application/src/engine/ports.ts';
import { createEngineTier, type EngineTier, type TierCall } from './tier/engine-tier.ts';
import { finish, gate, says, text, toolCall } from './tier/scripted-llm.ts';

/**
 * Preemptive generation in the deterministic tier: each frame is its own invocation, the clock is the test's, and
 * the LLM speaks when the test says. What is asserted is what the caller hears, what the LLM was asked, what the
 * tools did and what the history keeps, never a wall-clock time.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const on = (over: Partial<Preemption> = {}): Preemption => PreemptionSchema.parse({ enabled: true, ...over });
const userWords = (request: { messages: LlmMessage[] }) => request.messages.filter((m) => m.role === 'user').map((m) => m.content);

const bookTour: ToolManifestEntry = {
  name: 'book_tour',
  description: 'Books a tour',
  parameters: { type: 'object', properties: { day: { type: 'string' } } },
};

async function speculativeCall(options: { preemption?: Preemption; tools?: ToolManifestEntry[] } = {}): Promise<TierCall> {
  return tier.call({ preemption: options.preemption ?? on(), tools: options.tools ?? [] });
}

/** Lets call time pass (the speculation's ledger reads, the LLM's scripted waits). */
const later = (ms = 100) => tier.clock.advance(ms);

describe('a speculative turn on a stable partial', () => {
  it('match: nothing is posted before the final prompt; then the held text goes out at once and the rest streams', async () => {
    tier = await createEngineTier();
    const rest = gate();
    tier.llm.enqueue([text('We open '), text('at nine. '), rest, text('On weekends at ten.'), finish()]);
    const call = await speculativeCall();
    void call.partial('When do you open?');
    await tier.llm.requested(1);
    await later(300);
    expect(userWords(tier.llm.requests[0]!.request)).toEqual(['When do you open?']);
    expect(call.frames()).toEqual([]);

    void call.prompt('Um, when do you open?');
    await later(100);
    expect(call.texts()).toEqual([{ token: 'We open at nine. ', last: false }]);
    rest.open();
    await tier.drain();
    expect(call.replies()).toEqual(['We open at nine. On weekends at ten.']);
    expect(tier.llm.requests).toHaveLength(1);
    // The history keeps the final prompt's words.
    expect(call.history()).toEqual([
      ['user', 'Um, when do you open?'],
      ['assistant', 'We open at nine. On weekends at ten.'],
    ]);
    const [record] = tier.store.turnRecords(call.sessionId);
    expect(record).toMatchObject({ turn: 1, outcome: 'completed', preempted: true, speculations: 1 });
    expect(record!.llmRequestSentAt!).toBeLessThan(record!.promptReceivedAt);
    expect(tier.store.speculationRecords(call.sessionId)).toEqual([]);
  });

  it('mismatch: the speculative stream is aborted and never posted; the final prompt runs a turn of its own', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('We open at nine every day.'), says('On Sundays we are closed.'));
    const call = await speculativeCall();
    void call.partial('When do you open?');
    await tier.llm.requested(1);
    await later(300);
    void call.prompt('When do you open on Sunday?');
    await tier.drain();
    expect(call.replies()).toEqual(['On Sundays we are closed.']);
    expect(tier.sink.posts.some((p) => p.message.type === 'text' && p.message.token.includes('every day'))).toBe(false);
    expect(userWords(tier.llm.requests[1]!.request)).toEqual(['When do you open on Sunday?']);
    expect(call.history()).toEqual([
      ['user', 'When do you open on Sunday?'],
      ['assistant', 'On Sundays we are closed.'],
    ]);
    expect(tier.store.turnRecords(call.sessionId)[0]).toMatchObject({ outcome: 'completed', speculations: 1 });
    expect(tier.store.turnRecords(call.sessionId)[0]!.preempted).toBeUndefined();
    const [wasted] = tier.store.speculationRecords(call.sessionId);
    expect(wasted).toMatchObject({ llmRequests: 1, reason: 'dropped' });
    expect(wasted!.usage.outputTokens).toBeGreaterThan(0);
  });

  it('continued speech: the caller talks on, the speculation is aborted, and a later stable partial starts another', async () => {
    tier = await createEngineTier();
    const first = gate();
    tier.llm.enqueue([text('Sure, '), first, finish()], says('We have two left.'));
    const call = await speculativeCall();
    void call.partial('I want a');
    await later(200); // unchanged for stableAfterMs: stable
    await tier.llm.requested(1);
    void call.partial('I want a two bedroom');
    await later(100);
    expect(tier.llm.requests[0]!.aborted).toBe(true);
    await later(200);
    await tier.llm.requested(2);
    expect(userWords(tier.llm.requests[1]!.request)).toEqual(['I want a two bedroom']);
    void call.prompt('I want a two bedroom');
    first.open();
    await tier.drain();
    expect(call.replies()).toEqual(['We have two left.']);
    expect(tier.llm.requests).toHaveLength(2);
    expect(tier.store.turnRecords(call.sessionId)[0]).toMatchObject({ preempted: true, speculations: 2 });
    expect(tier.store.speculationRecords(call.sessionId)).toHaveLength(1);
  });

  it('a partial still changing starts nothing: only a stable one does', async () => {
    tier = await createEngineTier();
    tier.llm.respond(() => says('Yes.'));
    const call = await speculativeCall();
    void call.partial('Do you');
    await later(100);
    void call.partial('Do you take');
    await later(100);
    void call.partial('Do you take cats');
    await later(50);
    expect(tier.llm.requests).toHaveLength(0);
    void call.prompt('Do you take cats');
    await tier.drain();
    expect(tier.llm.requests).toHaveLength(1);
    expect(call.replies()).toEqual(['Yes.']);
  });

  it('cap reached: no more speculative requests for the utterance than the setting allows', async () => {
    tier = await createEngineTier();
    tier.llm.respond(() => says('Answer.'));
    const call = await speculativeCall({ preemption: on({ maxSpeculativeRequests: 2 }) });
    for (const partial of ['One.', 'One. Two.', 'One. Two. Three.', 'One. Two. Three. Four.']) {
      void call.partial(partial);
      await later(100);
    }
    expect(tier.llm.requests).toHaveLength(2);
    void call.prompt('One. Two. Three. Four. Five.');
    await tier.drain();
    expect(tier.llm.requests).toHaveLength(3);
    expect(call.replies()).toEqual(['Answer.']);
    expect(tier.store.turnRecords(call.sessionId)[0]).toMatchObject({ speculations: 2 });
    expect(tier.store.speculationRecords(call.sessionId)).toHaveLength(2);
  });
});

describe('the speculation is written once its request is on the wire', () => {
  it('when the ledger moved on meanwhile (a newer partial), it is dropped unheard, and the partial is still kept', async () => {
    tier = await createEngineTier();
    tier.llm.respond(() => says('An answer.'));
    const call = await speculativeCall();
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.speculation?.state === 'running' });
    void call.partial('Is it sunny?');
    await held.reached;
    expect(tier.llm.requests).toHaveLength(1);
    await later(10);
    void call.partial('Is it sunny in Missoula');
    await later(10);
    held();
    await later(300);
    expect(call.frames()).toEqual([]);
    expect(tier.store.speculationRecords(call.sessionId)).toMatchObject([{ reason: 'not-registered' }]);
    expect(tier.store.session(call.sessionId)!.ledger.partial!.map((p) => p.text)).toEqual(['Is it sunny?', 'Is it sunny in Missoula']);
    void call.prompt('Is it sunny in Missoula?');
    await tier.drain();
    expect(call.replies()).toEqual(['An answer.']);
    expect(call.history()[0]).toEqual(['user', 'Is it sunny in Missoula?']);
  });
});

describe('no side effects before confirmation', () => {
  it('a speculative tool call is held, and runs once the final prompt confirms the speculation', async () => {
    tier = await createEngineTier();
    const ran: string[] = [];
    tier.tools.book_tour = async (invocation) => {
      ran.push(JSON.stringify(invocation.args));
      return { ok: true, result: { booked: true } };
    };
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'book_tour', arguments: { day: 'Friday' } }), finish('tool_calls')], says('Booked for Friday.'));
    const call = await speculativeCall({ tools: [bookTour] });
    void call.partial('Book me a tour on Friday.');
    await tier.llm.requested(1);
    await later(1_500); // long past the filler's delay: no filler for an unconfirmed turn either
    expect(ran).toEqual([]);
    expect(call.frames()).toEqual([]);
    void call.prompt('Book me a tour on Friday.');
    await tier.drain();
    expect(ran).toEqual([JSON.stringify({ day: 'Friday' })]);
    expect(call.replies()).toEqual(['Booked for Friday.']);
    expect(call.history().map(([role]) => role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });

  it('a speculative tool call is dropped with the speculation when the final prompt differs', async () => {
    tier = await createEngineTier();
    const ran: string[] = [];
    tier.tools.book_tour = async (invocation) => {
      ran.push(JSON.stringify(invocation.args));
      return { ok: true, result: { booked: true } };
    };
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'book_tour', arguments: { day: 'Friday' } }), finish('tool_calls')], says('Which day suits you?'));
    const call = await speculativeCall({ tools: [bookTour] });
    void call.partial('Book me a tour on Friday.');
    await tier.llm.requested(1);
    await later(300);
    void call.prompt('Book me a tour on Friday. Actually, no, not Friday.');
    await tier.drain();
    expect(ran).toEqual([]);
    expect(call.replies()).toEqual(['Which day suits you?']);
    expect(call.history().map(([role]) => role)).toEqual(['user', 'assistant']);
    expect(tier.store.speculationRecords(call.sessionId)).toHaveLength(1);
  });

  it('no final prompt within the hold time: the speculation gives up, and a final prompt after that runs its own turn', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Early answer.'), says('Fresh answer.'));
    const call = await speculativeCall({ preemption: on({ holdMs: 1_000 }) });
    void call.partial('Is parking included?');
    await tier.llm.requested(1);
    await later(1_500);
    expect(tier.store.speculationRecords(call.sessionId)).toMatchObject([{ reason: 'no-final-prompt' }]);
    void call.prompt('Is parking included?');
    await tier.drain();
    expect(call.replies()).toEqual(['Fresh answer.']);
  });
});

describe('a confirmed preempted reply is a turn like any other', () => {
  it('an interrupt stops it and the history keeps what was heard', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([text('The studio is available now. '), held, text('It faces the park.'), finish()]);
    const call = await speculativeCall();
    void call.partial('Is the studio available?');
    await tier.llm.requested(1);
    await later(300);
    void call.prompt('Is the studio available?');
    await later(300);
    expect(call.replies()).toEqual(['The studio is available now. ']);
    void call.interrupt('the studio is', 700);
    await later(200);
    held.open();
    await tier.drain();
    expect(tier.llm.requests[0]!.aborted).toBe(true);
    expect(call.history()).toEqual([
      ['user', 'Is the studio available?'],
      ['assistant', 'The studio is'],
    ]);
    expect(tier.store.turnRecords(call.sessionId)[0]).toMatchObject({ outcome: 'interrupted', preempted: true });

    tier.llm.enqueue(says('Yes.'));
    void call.prompt('Does it have parking?');
    await tier.drain();
    expect(tier.llm.requests[1]!.request.messages.filter((m) => m.role !== 'system').map((m) => m.content)).toEqual([
      'Is the studio available?',
      'The studio is',
      'Does it have parking?',
    ]);
  });
});

describe('partials, cumulative or in pieces', () => {
  const cases: { name: string; partials: string[]; final: string; asked: string; preempted: boolean }[] = [
    { name: 'cumulative, final equal', partials: ['When do', 'When do you open?'], final: 'When do you open?', asked: 'When do you open?', preempted: true },
    { name: 'in pieces, final the whole utterance', partials: ['When do', 'you open?'], final: 'When do you open?', asked: 'When do you open?', preempted: true },
    { name: 'in pieces, final the last piece again', partials: ['When do', 'you open?'], final: 'you open?', asked: 'When do you open?', preempted: true },
    { name: 'in pieces, final a new piece', partials: ['When do', 'you open?'], final: 'on Sunday', asked: 'When do you open? on Sunday', preempted: false },
  ];
  it.each(cases)('$name', async ({ partials, final, asked, preempted }) => {
    tier = await createEngineTier();
    tier.llm.respond(() => says('Nine.'));
    const call = await speculativeCall();
    for (const partial of partials) {
      void call.partial(partial);
      await later(50);
    }
    await later(300);
    void call.prompt(final);
    await tier.drain();
    expect(call.replies()).toEqual(['Nine.']);
    const answered = tier.llm.requests.at(-1)!;
    expect(userWords(answered.request)).toEqual([preempted ? 'When do you open?' : asked]);
    expect(call.history()[0]).toEqual(['user', preempted ? 'When do you open?' : asked]);
    expect(Boolean(tier.store.turnRecords(call.sessionId)[0]!.preempted)).toBe(preempted);
  });
});
