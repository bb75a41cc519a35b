import { afterEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../layers/data/turn-ledger.ts';
import { LlmError, type LlmMessage } from '../../02_cr-application/src/engine/ports.ts';
import { createEngineTier, type EngineTier, type TierCall } from './tier/engine-tier.ts';
import { fail, finish, gate, says, text, toolCall, waitMs } from './tier/scripted-llm.ts';
import { settle } from './tier/settle.ts';

/**
 * The turn ledger's invariants under overlapping invocations, in memory and on a manual clock: every race is
 * forced at an exact point, so these assert order and content and never wall-clock time.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const conversation = (request: { messages: LlmMessage[] }) =>
  request.messages.filter((m) => m.role !== 'system').map((m) => [m.role, 'content' in m ? m.content : null]);

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => text(`${tag}${i} `));

/** Lets call time pass in small steps until `promise` settles (bounded): for waits that need the clock to move. */
async function until(promise: Promise<unknown>, maxMs = 5_000): Promise<void> {
  let done = false;
  void promise.then(() => (done = true));
  for (let waited = 0; !done; waited += 10) {
    if (waited > maxMs) throw new Error(`still waiting after ${maxMs} ms of call time`);
    await tier.clock.advance(10);
  }
}

/** Frames of `call` delivered after the first frame of the reply that starts with `marker`. */
function framesAfterFirstOf(call: TierCall, marker: string, olderTag: string): number {
  const texts = call.texts();
  const first = texts.findIndex((t) => t.token.includes(marker));
  if (first < 0) return 0;
  return texts.slice(first).filter((t) => t.token.includes(olderTag)).length;
}

describe('interrupt', () => {
  it('stops the reply on the next ledger read, stores exactly the heard prefix, and the next request carries it', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([text('The office opens at nine. '), held, text('It closes at five. '), finish()]);
    const call = await tier.call();
    void call.prompt('When are you open?');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    expect(call.replies()).toEqual(['The office opens at nine. ']);

    void call.interrupt('the office opens', 900);
    await settle();
    await tier.clock.advance(100);
    expect(tier.llm.requests[0]!.aborted).toBe(true);
    held.open();
    await tier.drain();
    // Nothing more of its words: one empty last:true closes the stopped reply.
    expect(call.texts()).toEqual([
      { token: 'The office opens at nine. ', last: false },
      { token: '', last: true },
    ]);
    expect(call.history()).toEqual([
      ['user', 'When are you open?'],
      ['assistant', 'The office opens'],
    ]);
    expect(tier.store.messages(call.sessionId).at(-1)).toMatchObject({ interrupted: true });

    tier.llm.enqueue(says('Sure.'));
    void call.prompt('And on Saturday?');
    await tier.drain();
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'When are you open?'],
      ['assistant', 'The office opens'],
      ['user', 'And on Saturday?'],
    ]);
    expect(tier.store.turnRecords(call.sessionId).map((r) => r.outcome)).toEqual(['interrupted', 'completed']);
  });

  it('never stores words that were not posted, and an empty report with no duration stores nothing', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([text('Two units are left. '), held, text('Both face the park.'), finish()]);
    const call = await tier.call();
    void call.prompt('Anything left?');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    void call.interrupt('Two units are left and also a free car', 3_000);
    await tier.clock.advance(100);
    held.open();
    await tier.drain();
    expect(call.history().at(-1)).toEqual(['assistant', 'Two units are left.']);

    const second = gate();
    tier.llm.enqueue([text('Let me see. '), second, finish()]);
    void call.prompt('Which floor?');
    await second.reached;
    await settle();
    await tier.clock.advance(300);
    void call.interrupt('');
    await tier.clock.advance(100);
    second.open();
    await tier.drain();
    expect(call.history().slice(-1)).toEqual([['user', 'Which floor?']]);
  });

  it('after the reply was committed: rewrites it to the heard part, also when the next prompt is already claimed', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('The studio rents for $1,450 a month, parking included.'));
    const call = await tier.call();
    void call.prompt('How much is the studio?');
    await tier.drain();
    expect(call.history().at(-1)).toEqual(['assistant', 'The studio rents for $1,450 a month, parking included.']);

    // Twilio sends the interrupt, then the new prompt; the prompt's invocation runs first.
    const interruptAt = tier.clock.now();
    await tier.clock.advance(5);
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.heard !== undefined });
    const interrupt = call.send({ type: 'interrupt', utteranceUntilInterrupt: 'the studio rents for one thousand four hundred fifty dollars' });
    tier.llm.enqueue(says('Yes, it does.'));
    await held.reached;
    void call.prompt('Is that with parking?');
    await tier.llm.requested(2);
    held();
    await interrupt;
    await tier.drain();
    expect(interruptAt).toBeLessThan(tier.clock.now());
    expect(tier.store.messages(call.sessionId).find((m) => m.turn === 1 && m.role === 'assistant')).toMatchObject({
      content: 'The studio rents for $1,450',
      interrupted: true,
    });
  });

  it('an interrupt whose ledger write loses the race to the next prompt counts from its note: the first request carries it', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('The studio rents for $1,450 a month, parking included.'));
    const call = await tier.call();
    void call.prompt('How much is the studio?');
    await tier.drain();
    await tier.clock.advance(500);
    // Twilio sends the interrupt, then the new prompt; the interrupt's compare-and-set is still on its way when the
    // prompt reads the history (it lost a race, or its invocation is slow).
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.heard !== undefined });
    void call.interrupt('the studio rents for');
    await held.reached;
    await tier.clock.advance(5);
    tier.llm.enqueue(says('Yes, it is extra.'));
    void call.prompt('Is parking extra?');
    await tier.llm.requested(2);
    held();
    await tier.drain();
    expect(tier.llm.requests).toHaveLength(2);
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'How much is the studio?'],
      ['assistant', 'The studio rents for'],
      ['user', 'Is parking extra?'],
    ]);
    expect(call.history()[1]).toEqual(['assistant', 'The studio rents for']);
    expect(tier.store.session(call.sessionId)!.ledger.notes).toBeUndefined();
  });

  it('the reply ended, its commit and the interrupt both in flight when the next prompt waits: the wait ends with the heard part', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('The studio rents for $1,450 a month, parking included.'));
    const call = await tier.call();
    // The last words and last:true are posted; the turn's commit is on its way.
    const commit = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.committed === true });
    void call.prompt('How much is the studio?');
    await commit.reached;
    expect(call.texts().at(-1)?.last).toBe(true);
    // The caller cut in while the last words were spoken; the interrupt's ledger write loses every race for now.
    await tier.clock.advance(5);
    const interruptWrite = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.heard !== undefined && next.turnCount === 1 });
    void call.interrupt('the studio rents for one thousand four hundred fifty dollars a month');
    await interruptWrite.reached;
    await tier.clock.advance(5);
    tier.llm.enqueue(says('It is included.'));
    void call.prompt('And parking?');
    await settle();
    await tier.clock.advance(50);
    // The new turn waits for the commit; the commit lands (and, losing to the claim, decides again).
    commit();
    await until(tier.llm.requested(2));
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'How much is the studio?'],
      ['assistant', 'The studio rents for $1,450 a month,'],
      ['user', 'And parking?'],
    ]);
    interruptWrite();
    await tier.drain();
    expect(tier.llm.requests).toHaveLength(2);
    expect(call.history()[1]).toEqual(['assistant', 'The studio rents for $1,450 a month,']);
    expect(call.replies().at(-1)).toBe('It is included.');
  });

  it('an interrupt noted only after the next prompt read the history restarts that request before it says anything', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('The studio rents for $1,450 a month, parking included.'));
    const call = await tier.call();
    void call.prompt('How much is the studio?');
    await tier.drain();
    await tier.clock.advance(500);
    // The interrupt frame is in flight: not even its note has landed when the new prompt reads the history.
    const note = tier.store.hold('noteInterrupt');
    void call.interrupt('the studio rents for');
    await note.reached;
    await tier.clock.advance(5);
    const slow = gate();
    tier.llm.enqueue([slow, ...says('It does not.')], says('Yes, it is extra.'));
    void call.prompt('Is parking extra?');
    await tier.llm.requested(2);
    note();
    await settle();
    // The next ledger read (the watch, at most 100 ms later) shows it; nothing was said yet, so the request restarts.
    await tier.clock.advance(100);
    await tier.llm.requested(3);
    slow.open();
    await tier.drain();
    expect(tier.llm.requests[1]!.aborted).toBe(true);
    expect(conversation(tier.llm.requests[2]!.request)).toEqual([
      ['user', 'How much is the studio?'],
      ['assistant', 'The studio rents for'],
      ['user', 'Is parking extra?'],
    ]);
    expect(call.replies().at(-1)).toBe('Yes, it is extra.');
  });

  it('cut short after a tool round: the round\'s words are kept only as far as they were heard', async () => {
    tier = await createEngineTier();
    tier.tools.save_name = async () => ({ ok: true, result: { saved: true } });
    const manifest = [{ name: 'save_name', description: 'Saves', parameters: { type: 'object' as const, properties: {} } }];
    const held = gate();
    tier.llm.enqueue(
      [text('Nice to meet you, Jane. '), toolCall({ id: 'c1', name: 'save_name', arguments: {} }), finish('tool_calls')],
      [text('I saved your name. '), held, text('What next?'), finish()],
    );
    const call = await tier.call({ tools: manifest });
    void call.prompt('I am Jane');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    void call.interrupt('nice');
    await tier.clock.advance(100);
    held.open();
    await tier.drain();
    const assistant = tier.store.messages(call.sessionId).filter((m) => m.role === 'assistant');
    expect(assistant.map((m) => [m.content, m.toolCalls?.length ?? 0])).toEqual([['Nice', 1]]);
  });

  it('two turns interrupted in a row each keep what was heard of them', async () => {
    tier = await createEngineTier();
    const first = gate();
    const second = gate();
    tier.llm.enqueue([text('First answer goes on and on. '), first, finish()], [text('Second answer also rambles. '), second, finish()]);
    const call = await tier.call();
    void call.prompt('one');
    await first.reached;
    await settle();
    await tier.clock.advance(300);
    void call.interrupt('first answer');
    await tier.clock.advance(10);
    void call.prompt('two');
    // The second turn waits for the first to learn of its interrupt and commit what was heard.
    await until(second.reached);
    await settle();
    await tier.clock.advance(300);
    void call.interrupt('second answer also');
    await tier.clock.advance(100);
    first.open();
    second.open();
    await tier.drain();
    expect(call.history()).toEqual([
      ['user', 'one'],
      ['assistant', 'First answer'],
      ['user', 'two'],
      ['assistant', 'Second answer also'],
    ]);
  });
});

describe('supersede', () => {
  it('a newer prompt stops the older reply; nothing of it reaches the caller after the newer reply starts', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([...words(5, 'old'), held, ...words(40, 'old'), finish()], says('new0 reply.'));
    const call = await tier.call();
    void call.prompt('Tell me everything');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    void call.prompt('Actually, just the price');
    await settle();
    // The older turn learns on its next ledger read; the newer one waits for its history before asking the LLM.
    expect(tier.llm.requests).toHaveLength(1);
    await tier.clock.advance(100);
    held.open();
    await tier.drain();
    expect(framesAfterFirstOf(call, 'new0', 'old')).toBe(0);
    // Each reply ends exactly once: the older with an empty close, before the newer reply's first frame.
    const texts = call.texts();
    const firstNew = texts.findIndex((t) => t.token.includes('new0'));
    expect(texts.filter((t) => t.last)).toEqual([{ token: '', last: true }, { token: 'new0 reply.', last: true }]);
    expect(texts.findIndex((t) => t.last)).toBeLessThan(firstNew);
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'Tell me everything'],
      ['assistant', 'old0 old1 old2 old3 old4'],
      ['user', 'Actually, just the price'],
    ]);
    expect(tier.store.turnRecords(call.sessionId).map((r) => [r.turn, r.outcome])).toEqual([
      [1, 'superseded'],
      [2, 'completed'],
    ]);
  });

  it('interrupt, newer prompt at once and a frame still in flight: the older reply is closed once, after that frame and before the newer reply', async () => {
    tier = await createEngineTier();
    const held = gate();
    const rest = gate();
    tier.llm.enqueue([text('old0 '), held, text('old1 '), rest, ...words(20, 'more'), finish()], says('new0 reply.'));
    const call = await tier.call();
    void call.prompt('Tell me everything');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    // The next post stays in flight: the words that left just before the caller cut in.
    const late = tier.sink.hold(call.connectionId);
    held.open();
    await late.reached;
    await rest.reached;
    await tier.clock.advance(5);
    void call.interrupt('old0');
    void call.prompt('Just the price');
    await settle();
    await tier.clock.advance(100);
    late();
    await tier.drain();
    const texts = call.texts();
    const firstNew = texts.findIndex((t) => t.token.includes('new0'));
    expect(texts.filter((t) => t.last)).toEqual([{ token: '', last: true }, { token: 'new0 reply.', last: true }]);
    expect(texts.map((t) => t.token).slice(0, 3)).toEqual(['old0 ', 'old1 ', '']);
    expect(texts.findIndex((t) => t.last)).toBeLessThan(firstNew);
    expect(framesAfterFirstOf(call, 'new0', 'old')).toBe(0);
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'Tell me everything'],
      ['assistant', 'old0'],
      ['user', 'Just the price'],
    ]);
    expect(call.history()[1]).toEqual(['assistant', 'old0']);
  });

  it('an older prompt whose claim lands after a newer one yields: it says nothing, and its words are kept', async () => {
    tier = await createEngineTier();
    tier.llm.respond(() => says('Answer.'));
    const call = await tier.call();
    const held = tier.store.hold('compareAndSetLedger');
    void call.prompt('first words');
    const parked = await held.reached;
    await tier.clock.advance(20);
    void call.prompt('second words');
    await tier.llm.requested(2);
    await settle();
    held();
    await tier.drain();
    expect(parked[2].turns['1']?.userText).toBe('first words');
    expect(call.replies()).toEqual(['Answer.']);
    expect(call.history().filter(([role]) => role === 'user').map(([, c]) => c)).toEqual(['first words', 'second words']);
  });
});

describe('the next turn sees the previous one, whatever the timing', () => {
  it('a prompt right after last:true waits for the previous reply to be committed, then includes it', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue(says('Nine to five.'), says('You are welcome.'));
    const call = await tier.call();
    const commit = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.committed === true });
    void call.prompt('Opening hours?');
    await commit.reached;
    expect(call.replies()).toEqual(['Nine to five.']);
    void call.prompt('Thanks');
    await settle();
    await tier.clock.advance(50);
    expect(tier.llm.requests).toHaveLength(1);
    commit();
    await tier.drain();
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'Opening hours?'],
      ['assistant', 'Nine to five.'],
      ['user', 'Thanks'],
    ]);
    expect(tier.store.turnRecords(call.sessionId)[1]!.historyWaitMs).toBeGreaterThan(0);
  });

  it('a turn whose invocation died is abandoned after the wait; its caller words are still sent', async () => {
    tier = await createEngineTier({ config: { historyWaitMs: 500 } });
    tier.llm.enqueue(says('Reply.'), says('Second reply.'));
    const call = await tier.call();
    // The first turn never commits (its invocation "died": the write fails for good).
    tier.store.fail('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.committed === true, times: 100 });
    void call.prompt('first');
    await tier.drain();
    void call.prompt('second');
    await tier.drain();
    const sent = conversation(tier.llm.requests[1]!.request);
    expect(sent[0]).toEqual(['user', 'first']);
    expect(sent.at(-1)).toEqual(['user', 'second']);
  });
});

describe('a turn abandoned while it was alive (slow, not dead)', () => {
  it('the waiting turn sends what was heard of it; its late commit still cuts the stored reply to the heard part', async () => {
    tier = await createEngineTier({ config: { historyWaitMs: 500 } });
    tier.llm.enqueue(says('The studio rents for $1,450 a month, parking included.'));
    const call = await tier.call();
    const commit = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.turns['1']?.committed === true && !next.turns['1'].abandoned });
    void call.prompt('How much is the studio?');
    await commit.reached;
    await tier.clock.advance(5);
    void call.interrupt('the studio rents for');
    await settle();
    await tier.clock.advance(5);
    tier.llm.enqueue(says('It is included.'));
    void call.prompt('And parking?');
    // The commit takes longer than the wait: the new turn gives up on it, and reads the history once more.
    await until(tier.llm.requested(2));
    expect(conversation(tier.llm.requests[1]!.request)).toEqual([
      ['user', 'How much is the studio?'],
      ['assistant', 'The studio rents for'],
      ['user', 'And parking?'],
    ]);
    commit();
    await tier.drain();
    expect(call.history()[1]).toEqual(['assistant', 'The studio rents for']);
    expect(tier.store.session(call.sessionId)!.ledger.turns['1']).toMatchObject({ committed: true, heardApplied: true });
  });
});

describe('a turn whose claim is still landing', () => {
  it('asks for a tool before its claim landed: the tools wait for the claim, and the turn is not taken for superseded', async () => {
    tier = await createEngineTier();
    const ran: string[] = [];
    tier.tools.handoff = async () => {
      ran.push('handoff');
      return { ok: true, result: { transferring: true } };
    };
    const manifest = [{ name: 'handoff', description: 'Hands off', parameters: { type: 'object' as const, properties: {} } }];
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'handoff', arguments: {} }), finish('tool_calls')], says('Connecting you now.'));
    const call = await tier.call({ tools: manifest });
    const slowClaim = tier.store.hold('compareAndSetLedger');
    void call.prompt('Let me talk to a person');
    await slowClaim.reached;
    await settle();
    expect(ran).toEqual([]);
    slowClaim();
    await tier.drain();
    expect(ran).toEqual(['handoff']);
    expect(call.replies()).toEqual(['Connecting you now.']);
    expect(tier.store.turnRecords(call.sessionId).map((r) => r.outcome)).toEqual(['completed']);
  });
});

describe('a stalled LLM stream', () => {
  it('ends with the stall line and one last:true within the idle time plus a second', async () => {
    tier = await createEngineTier();
    const never = gate();
    tier.llm.enqueue([text('Let me think about '), never]);
    const call = await tier.call();
    const startedAt = tier.clock.now();
    void call.prompt('What is the best unit?');
    await never.reached;
    await settle();
    await tier.clock.advance(300);
    await tier.clock.advance(4_000);
    await tier.drain();
    const last = tier.sink.posts.find((p) => p.message.type === 'text' && p.message.last);
    expect(last).toBeDefined();
    expect(last!.postedAt - startedAt).toBeLessThanOrEqual(4_000 + 1_000);
    expect(call.replies()).toEqual(['Let me think about Sorry, I lost my train of thought. Could you say that again?']);
    expect(call.texts().filter((t) => t.last)).toHaveLength(1);
    expect(tier.llm.requests[0]!.aborted).toBe(true);
    expect(tier.store.turnRecords(call.sessionId)[0]).toMatchObject({ outcome: 'failed', error: 'LLM stream stalled' });
  });

  it('a newer prompt during the stall is answered, and nothing of the stalled turn is heard afterwards', async () => {
    tier = await createEngineTier();
    const never = gate();
    tier.llm.enqueue([text('stalled0 '), never], says('fresh0 answer.'));
    const call = await tier.call();
    void call.prompt('first');
    await never.reached;
    await settle();
    await tier.clock.advance(300);
    await tier.clock.advance(1_000);
    void call.prompt('hello?');
    await tier.drain();
    // The stalled reply, no longer the owner, is closed without a word more (no stall line), before the fresh answer.
    expect(call.texts()).toEqual([
      { token: 'stalled0 ', last: false },
      { token: '', last: true },
      { token: 'fresh0 answer.', last: true },
    ]);
    expect(framesAfterFirstOf(call, 'fresh0', 'stalled')).toBe(0);
    expect(tier.sink.posts.some((p) => p.message.type === 'text' && p.message.token.includes('train of thought'))).toBe(false);
  });

  it('reads the ledger on a timer while the LLM is silent: at most 10 reads a second', async () => {
    tier = await createEngineTier();
    const held = gate();
    tier.llm.enqueue([text('Hmm. '), held, text('Done.'), finish()]);
    const call = await tier.call();
    void call.prompt('Think hard');
    await held.reached;
    await settle();
    await tier.clock.advance(300);
    await tier.clock.advance(3_000);
    held.open();
    await tier.drain();
    const record = tier.store.turnRecords(call.sessionId)[0]!;
    const seconds = (record.lastTokenPostedAt! - record.promptReceivedAt) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(record.ledgerReads!).toBeGreaterThanOrEqual(Math.floor(seconds * 10) - 2);
    expect(record.ledgerReads!).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2);
  });
});

describe('retries, partial prompts and history hygiene', () => {
  it('retries once before the first token, then answers', async () => {
    tier = await createEngineTier();
    tier.llm.enqueue([fail(new LlmError('upstream exploded', 500, true))], says('Recovered.'));
    const call = await tier.call();
    void call.prompt('Hello?');
    await tier.drain();
    expect(call.replies()).toEqual(['Recovered.']);
    expect(tier.llm.requests).toHaveLength(2);
  });

  it('aborts a request with no first token in time and retries once', async () => {
    tier = await createEngineTier({ config: { firstTokenTimeoutMs: 300 } });
    tier.llm.enqueue([waitMs(3_000), ...says('Too late.')], says('On time.'));
    const call = await tier.call();
    void call.prompt('Hello?');
    await tier.drain();
    expect(call.replies()).toEqual(['On time.']);
    expect(tier.llm.requests[0]!.aborted).toBe(true);
    expect(tier.llm.requests[0]!.abortedAt! - tier.llm.requests[0]!.startedAt).toBe(300);
  });

  it('a partial prompt that lands after its utterance was claimed never leaks into the next turn', async () => {
    tier = await createEngineTier();
    tier.llm.respond(() => says('Okay.'));
    const call = await tier.call();
    const late = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => (next.partial ?? []).some((p) => p.text === 'I want a') });
    void call.partial('I want a');
    await late.reached;
    await tier.clock.advance(10);
    void call.prompt('I want a flat');
    await tier.llm.requested(1);
    await settle();
    late();
    await tier.drain();
    void call.prompt('with a balcony');
    await tier.drain();
    expect(conversation(tier.llm.requests[1]!.request).at(-1)).toEqual(['user', 'with a balcony']);
  });

  it('invalid tool arguments are kept as {} with the error as the result, so strict servers accept the history', async () => {
    tier = await createEngineTier();
    tier.tools.lookup = async () => ({ ok: true, result: { found: true } });
    const manifest = [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object' as const, properties: { unit: { type: 'string' } }, required: ['unit'] } }];
    tier.llm.enqueue([toolCall({ id: 'c1', name: 'lookup', arguments: '{"unit": 12' }), finish('tool_calls')], says('Which unit?'), says('Fine.'));
    const call = await tier.call({ tools: manifest });
    void call.prompt('Look it up');
    await tier.drain();
    void call.prompt('Unit 12');
    await tier.drain();
    const replayed = tier.llm.requests[2]!.request.messages.find((m) => m.role === 'assistant' && m.toolCalls);
    expect(replayed).toMatchObject({ toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{}' }] });
    const result = tier.llm.requests[2]!.request.messages.find((m) => m.role === 'tool');
    expect(result && 'content' in result ? result.content : '').toContain('invalid_arguments');
  });

  it('cuts a huge utterance to the configured maximum before it reaches the LLM or the table', async () => {
    tier = await createEngineTier({ config: { maxUtteranceChars: 200 } });
    tier.llm.enqueue(says('That was long.'));
    const call = await tier.call();
    void call.prompt('word '.repeat(100_000));
    await tier.drain();
    const sent = conversation(tier.llm.requests[0]!.request).at(-1)![1] as string;
    expect(sent.length).toBeLessThanOrEqual(200);
    expect(call.history()[0]![1]!.length).toBeLessThanOrEqual(200);
  });

  it('sends only the newest messages within the history budget', async () => {
    tier = await createEngineTier({ config: { maxHistoryMessages: 4 } });
    tier.llm.respond((_r, i) => says(`Answer ${i}.`));
    const call = await tier.call();
    for (let i = 0; i < 4; i++) {
      void call.prompt(`Question ${i}`);
      await tier.drain();
    }
    expect(conversation(tier.llm.requests[3]!.request)).toEqual([
      ['user', 'Question 1'],
      ['assistant', 'Answer 1.'],
      ['user', 'Question 2'],
      ['assistant', 'Answer 2.'],
      ['user', 'Question 3'],
    ]);
  });
});

describe('continuations', () => {
  it('a slow tool round near the 29 s limit is handed on once; the continuation never hands on again', async () => {
    tier = await createEngineTier({ continuation: true });
    let release!: () => void;
    tier.tools.slow = () => new Promise((resolve) => (release = () => resolve({ ok: true, result: { done: true } })));
    const manifest = [{ name: 'slow', description: 'Slow', parameters: { type: 'object' as const, properties: {} }, timeoutMs: 25_000 }];
    tier.llm.enqueue(
      [text('Let me check. '), toolCall({ id: 'c1', name: 'slow', arguments: {} }), finish('tool_calls')],
      [toolCall({ id: 'c2', name: 'slow', arguments: {} }), finish('tool_calls')],
      says('All done.'),
    );
    const call = await tier.call({ tools: manifest });
    void call.prompt('Do the slow thing');
    await tier.drain();
    expect(tier.continuations).toHaveLength(1);
    expect(tier.continuations[0]).toMatchObject({ hops: 1, round: 0 });

    const running = tier.runContinuation(tier.continuations[0]!);
    await settle();
    release();
    await settle();
    await tier.clock.advance(20_000);
    release();
    await running;
    await tier.drain();
    expect(tier.continuations).toHaveLength(1);
    // The second slow round runs in place (no second hop), so the filler covers it.
    expect(call.replies()).toEqual(['Let me check. One moment please. All done.']);
  });

  it('a continuation that cannot run ends in a spoken line, not silence', async () => {
    tier = await createEngineTier({ continuation: true });
    const call = await tier.call();
    tier.store.fail('loadConversation');
    await tier.runContinuation({
      kind: 'prompt',
      connectionId: call.connectionId,
      sessionId: call.sessionId,
      endpoint: {},
      turn: 1,
      round: 1,
      hops: 1,
      pendingToolCalls: [{ id: 'c1', name: 'slow', arguments: '{}' }],
      roundText: '',
      spokenText: 'Let me check. ',
      timings: {},
    });
    expect(call.texts()).toEqual([{ token: "Sorry, I'm having trouble right now. Could you say that again?", last: true }]);
  });
});
