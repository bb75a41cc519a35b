import { afterEach, describe, expect, it } from 'vitest';
import { GRACE_OVER_REASON } from '../../02_cr-application/src/engine/continuity/grace.ts';
import { speakingMs } from '../../02_cr-application/src/engine/continuity/silence.ts';
import type { DigitEntrySpec } from '../../layers/data/digit-entry.ts';
import type { ToolManifestEntry } from '../../layers/data/index.ts';
import type { Ledger } from '../../layers/data/turn-ledger.ts';
import type { SilenceSettings } from '../../layers/data/use-case-config.ts';
import { createEngineTier, type EngineTier, type TierCall } from './tier/engine-tier.ts';
import { fail, finish, says, text, toolCall, waitMs } from './tier/scripted-llm.ts';
import { settle } from './tier/settle.ts';

/**
 * The per-call timer in the deterministic tier: the in-process timer on the manual clock, every check its own
 * invocation (a keypad timeout runs in $default's handler, as the SQS consumer hands it there in AWS), and each
 * race forced at the point the test names by holding one side's ledger write.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
});

const lastUser = (i: number) => tier.llm.requests[i]!.request.messages.filter((m) => m.role === 'user').at(-1)?.content;
const userTexts = () => tier.llm.requests.map((r) => r.request.messages.filter((m) => m.role === 'user').at(-1)?.content);
const outcomes = (kind: string) => tier.timerChecks.filter((c) => c.check.kind === kind).map((c) => c.outcome);

async function press(call: TierCall, digits: string, gapMs = 300): Promise<void> {
  for (const digit of digits) {
    void call.send({ type: 'dtmf', digit });
    await tier.drain();
    await tier.clock.advance(gapMs);
  }
}

describe('keypad entry timeout on the call timer', () => {
  const UNIT: DigitEntrySpec = { description: 'The unit number the caller typed.', timeoutMs: 5_000 };
  const dtmfMap = {
    '5': { description: 'The caller pressed 5 to enter a unit number.', collect: UNIT },
    '3': { say: 'You pressed three.', description: 'The caller pressed 3.' },
  };
  /** The entry in progress, after '5' opened it and '1', '2' were typed. */
  async function typedOneTwo(): Promise<{ call: TierCall; deadline: number }> {
    tier = await createEngineTier();
    const call = await tier.call({ dtmfMap });
    await press(call, '512');
    const entry = tier.store.session(call.sessionId)!.ledger.digits!;
    expect(entry).toMatchObject({ digits: '12', timed: true });
    return { call, deadline: entry.lastAt + 5_000 };
  }

  it('fires at the deadline with no further frame: the digits so far are one turn', async () => {
    const { call, deadline } = await typedOneTwo();
    tier.llm.enqueue(says('Unit 12, got it.'));
    await tier.clock.advanceTo(deadline - 1);
    expect(tier.llm.requests).toHaveLength(0);
    await tier.clock.advance(1);
    await tier.drain();
    expect(userTexts()).toEqual(['(typed 12 on the keypad, then stopped (the entry timed out)) The unit number the caller typed.']);
    expect(call.replies()).toEqual(['Unit 12, got it.']);
    // The key that opened it and each key armed a check; only the last deadline's found work.
    expect(outcomes('digits')).toEqual(['cancelled', 'cancelled', 'forwarded']);
  });

  it('a key racing the timeout: the timer wrote first, so the key is a key of its own (never lost, never in the entry too)', async () => {
    const { call, deadline } = await typedOneTwo();
    tier.llm.enqueue(says('Unit 12, got it.'));
    await tier.clock.advanceTo(deadline - 1);
    // The key reads the ledger and decides to collect; its write waits while the timer's check lands.
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.digits?.digits === '123' });
    void call.send({ type: 'dtmf', digit: '3' });
    await held.reached;
    await tier.clock.advance(1);
    await settle();
    expect(tier.store.session(call.sessionId)?.ledger.digits).toBeUndefined();
    held();
    await tier.drain();
    expect(userTexts()).toEqual(['(typed 12 on the keypad, then stopped (the entry timed out)) The unit number the caller typed.']);
    // The lost race re-read the ledger: no entry, so 3 is a key of its own. It reached us before the entry's turn
    // (its frame is older), so like any older input it yields the reply to that turn and is kept in the history.
    const userLines = call.history().filter(([role]) => role === 'user').map(([, content]) => content);
    expect(userLines.filter((c) => c === '(pressed 3) The caller pressed 3.')).toHaveLength(1);
    expect(userLines.filter((c) => c?.includes('123'))).toEqual([]);
    expect(call.replies()).toEqual(['Unit 12, got it.']);
  });

  it('a key racing the timeout: the key wrote first, so it is part of the entry and the timer finds the deadline moved', async () => {
    const { call, deadline } = await typedOneTwo();
    tier.llm.enqueue(says('Unit 123, got it.'));
    // The timer's check decides to end the entry; its write waits while the key lands.
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.digits === undefined });
    await tier.clock.advanceTo(deadline);
    await held.reached;
    void call.send({ type: 'dtmf', digit: '3' });
    await settle();
    expect(tier.store.session(call.sessionId)?.ledger.digits?.digits).toBe('123');
    held();
    await settle();
    expect(tier.llm.requests).toHaveLength(0);
    await tier.clock.advance(5_000);
    await tier.drain();
    expect(userTexts()).toEqual(['(typed 123 on the keypad, then stopped (the entry timed out)) The unit number the caller typed.']);
    expect(call.replies()).toEqual(['Unit 123, got it.']);
  });

  describe('an entry of N digits that times out short of them', () => {
    const PIN: DigitEntrySpec = { description: 'The PIN the caller typed.', maxDigits: 4, tool: 'verify_pin', timeoutMs: 5_000, incompleteLine: 'I got only part of it. Please type all four digits.' };
    const verify: ToolManifestEntry = { name: 'verify_pin', description: 'verify', parameters: { type: 'object', properties: { digits: { type: 'string' } } } };

    it('says the incomplete line and opens once more, counting from the end of the line; the whole number then goes to the tool', async () => {
      tier = await createEngineTier();
      tier.tools.verify_pin = async () => ({ ok: true, result: { verified: true } });
      const call = await tier.call({ tools: [verify], dtmfMap: { '9': { description: 'The caller pressed 9 to type a PIN.', collect: PIN } } });
      await press(call, '912');
      await tier.clock.advance(5_000);
      await tier.drain();
      expect(tier.llm.requests).toHaveLength(0);
      expect(call.replies()).toEqual([PIN.incompleteLine]);
      const reopened = tier.store.session(call.sessionId)!.ledger.digits!;
      expect(reopened).toMatchObject({ digits: '', retry: true, timed: true });
      // The caller hears the line before typing again: the new timeout counts from its end.
      const timedOutAt = tier.timerChecks.find((c) => c.outcome === 'forwarded')!.check.dueAt;
      expect(reopened.lastAt).toBe(timedOutAt + speakingMs(PIN.incompleteLine!));

      tier.llm.enqueue([toolCall({ id: 'c1', name: 'verify_pin', arguments: { digits: '1234' } }), finish('tool_calls')], says('Thanks, you are verified.'));
      await press(call, '1234');
      await tier.drain();
      expect(tier.llm.requests[0]!.request.toolChoice).toEqual({ name: 'verify_pin' });
      expect(lastUser(0)).toBe('(typed 1234 on the keypad) The PIN the caller typed.');
      // A key that opens an entry with nothing to say is no turn of its own: the entry is.
      expect(call.history().slice(0, 2)).toEqual([
        ['user', '(typed 12 on the keypad, then stopped (the entry timed out)) The PIN the caller typed.'],
        ['assistant', PIN.incompleteLine],
      ]);
    });

    it('short again after the second try: the LLM hears what was typed, and the tool is not forced on a partial PIN', async () => {
      tier = await createEngineTier();
      const call = await tier.call({ tools: [verify], dtmfMap: { '9': { description: 'The caller pressed 9 to type a PIN.', collect: PIN } } });
      await press(call, '912');
      await tier.clock.advance(5_000);
      await tier.drain();
      tier.llm.enqueue(says('I still only have two digits. Would you rather say your PIN?'));
      await press(call, '34');
      await tier.clock.advance(10_000);
      await tier.drain();
      expect(userTexts()).toEqual(['(typed 34 on the keypad, then stopped (the entry timed out)) The PIN the caller typed.']);
      expect(tier.llm.requests[0]!.request.toolChoice).not.toEqual({ name: 'verify_pin' });
      expect(call.replies()).toEqual([PIN.incompleteLine, 'I still only have two digits. Would you rather say your PIN?']);
    });
  });
});

describe('reconnect grace on the call timer', () => {
  const GRACE = 60_000;

  it('ends a dropped call whose grace passes with no reconnect, though no frame ever comes; a later reconnect is refused', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ reconnectGraceMs: GRACE });
    await call.drop();
    await tier.drain();
    await tier.clock.advance(GRACE - 1);
    expect(tier.store.session(call.sessionId)?.status).not.toBe('ended');
    await tier.clock.advance(1);
    await tier.drain();
    expect(outcomes('grace')).toEqual(['ended']);
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'ended', endReason: GRACE_OVER_REASON });
    expect(tier.store.session(call.sessionId)?.ledger.connection).toMatchObject({ state: 'ended', gen: 1 });
    const { result } = await call.reconnect();
    expect(result).toEqual({ statusCode: 404 });
  });

  it('a reconnect racing the expiry, the reconnect written first: it wins, and the check finds a new generation', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ reconnectGraceMs: GRACE });
    await call.drop();
    await tier.clock.advance(GRACE - 1);
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.connection?.state === 'ended' });
    await tier.clock.advance(1);
    await held.reached;
    const { result, call: again } = await call.reconnect();
    expect(result).toEqual({ statusCode: 200 });
    held();
    await tier.drain();
    expect(outcomes('grace')).toEqual(['cancelled']);
    expect(tier.store.session(call.sessionId)?.status).not.toBe('ended');
    expect(tier.store.session(call.sessionId)?.ledger.connection).toMatchObject({ id: again.connectionId, gen: 2, state: 'connected' });
  });

  it('a reconnect racing the expiry, the expiry written first: the reconnect is refused even though it arrived within the grace', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ reconnectGraceMs: GRACE });
    await call.drop();
    await tier.clock.advance(GRACE - 1);
    const held = tier.store.hold('compareAndSetLedger', { match: (_s, _v, next: Ledger) => next.connection?.gen === 2 });
    const reconnecting = call.reconnect();
    await held.reached;
    await tier.clock.advance(1);
    await settle();
    expect(tier.store.session(call.sessionId)?.ledger.connection?.state).toBe('ended');
    held();
    const { result } = await reconnecting;
    await tier.drain();
    expect(result).toEqual({ statusCode: 404 });
    expect(outcomes('grace')).toEqual(['ended']);
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'ended', endReason: GRACE_OVER_REASON });
  });

  it('a call that does not reconnect arms no grace check: its drop ends it at once', async () => {
    tier = await createEngineTier();
    const call = await tier.call();
    await call.drop();
    await tier.drain();
    expect(tier.store.session(call.sessionId)?.status).toBe('ended');
    expect(tier.clock.pendingTimers()).toBe(0);
  });
});

describe('silence on the call timer', () => {
  const silence: SilenceSettings = { afterSeconds: 8, reprompts: 1, lines: ['Are you still there?'], goodbye: 'Goodbye for now.' };
  const GREETING = 'Hi, thanks for calling Parkview Apartments. How can I help?';
  const setup = { type: 'setup', sessionId: 'VX1', callSid: 'CA1', from: '+14065550100', to: '+14065550199' };

  async function greeted(overrides = {}): Promise<{ call: TierCall; setupAt: number }> {
    tier = await createEngineTier();
    const call = await tier.call({ silence, ...overrides });
    await tier.store.appendMessages(call.sessionId, [{ messageId: '0'.repeat(26), role: 'assistant', content: GREETING, turn: 0 }]);
    const setupAt = tier.clock.now();
    void call.send(setup);
    await tier.drain();
    return { call, setupAt };
  }

  it('is armed after the greeting: a caller who never answers hears the reprompt, then the goodbye', async () => {
    const { call, setupAt } = await greeted();
    await tier.clock.advanceTo(setupAt + speakingMs(GREETING) + 8_000 - 1);
    expect(call.replies()).toEqual([]);
    await tier.clock.advance(1);
    await tier.drain();
    expect(call.replies()).toEqual(['Are you still there?']);
    await tier.clock.advance(speakingMs('Are you still there?') + 8_000);
    await tier.drain();
    expect(call.replies()).toEqual(['Are you still there?', 'Goodbye for now.']);
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'ended', endReason: 'silence' });
  });

  it('a caller who answers the greeting (or cuts into it) is not reprompted for it', async () => {
    const { call } = await greeted();
    tier.llm.enqueue(says('Sure, what would you like to know?'));
    void call.prompt('Hi, I have a question');
    await tier.drain();
    await tier.clock.advance(8_000 + speakingMs(GREETING));
    await tier.drain();
    const afterGreeting = tier.timerChecks.filter((c) => c.check.kind === 'silence' && c.check.turn === 0);
    expect(afterGreeting.map((c) => c.outcome)).toEqual(['cancelled']);

    const second = await greeted();
    void second.call.interrupt('Hi, thanks');
    await tier.drain();
    await tier.clock.advance(60_000);
    await tier.drain();
    expect(second.call.replies()).toEqual([]);
  });

  it('is armed after a turn continued in another invocation (a slow tool round handed on)', async () => {
    tier = await createEngineTier({ continuation: true });
    let release!: () => void;
    tier.tools.slow = () => new Promise((resolve) => (release = () => resolve({ ok: true, result: { done: true } })));
    const manifest = [{ name: 'slow', description: 'Slow', parameters: { type: 'object' as const, properties: {} }, timeoutMs: 25_000 }];
    tier.llm.enqueue([text('Let me check. '), toolCall({ id: 'c1', name: 'slow', arguments: {} }), finish('tool_calls')], says('All done.'));
    const call = await tier.call({ tools: manifest, silence });
    void call.prompt('Do the slow thing');
    await tier.drain();
    expect(tier.continuations).toHaveLength(1);
    const running = tier.runContinuation(tier.continuations[0]!);
    await settle();
    release();
    await running;
    await tier.drain();
    expect(call.replies()).toEqual(['Let me check. All done.']);
    await tier.clock.advance(speakingMs('Let me check. All done.') + 8_000);
    await tier.drain();
    expect(call.replies().at(-1)).toBe('Are you still there?');
  });

  describe('speaker events (ConversationRelay `info` frames)', () => {
    const REPLY = 'The studio is available now.';
    async function answered(): Promise<{ call: TierCall; estimate: number }> {
      tier = await createEngineTier();
      const call = await tier.call({ silence });
      tier.llm.enqueue(says(REPLY));
      void call.prompt('Is the studio available?');
      await tier.drain();
      return { call, estimate: tier.clock.now() + speakingMs(REPLY) + 8_000 };
    }
    const agent = (value: string) => ({ type: 'info', name: 'agentSpeaking', value });
    /** Nothing but the reply until `dueAt`, and the first reprompt exactly then. */
    async function expectRepromptAt(call: TierCall, dueAt: number): Promise<void> {
      await tier.clock.advanceTo(dueAt - 1);
      await tier.drain();
      expect(call.replies()).toEqual([REPLY]);
      await tier.clock.advance(1);
      await tier.drain();
      expect(call.replies()).toEqual([REPLY, 'Are you still there?']);
    }

    it('the silence counts from when the agent stopped speaking, earlier than the estimate', async () => {
      const { call, estimate } = await answered();
      void call.send(agent('on'));
      await tier.drain();
      await tier.clock.advance(1_000);
      void call.send(agent('off'));
      await tier.drain();
      const offAt = tier.clock.now();
      expect(offAt + 8_000).toBeLessThan(estimate);
      await expectRepromptAt(call, offAt + 8_000);
    });

    it('while the agent is still speaking past the estimate, no reprompt; its stop starts the count', async () => {
      const { call, estimate } = await answered();
      void call.send(agent('on'));
      await tier.drain();
      await tier.clock.advanceTo(estimate + 2_000);
      await tier.drain();
      expect(call.replies()).toEqual([REPLY]);
      void call.send(agent('off'));
      await tier.drain();
      await expectRepromptAt(call, tier.clock.now() + 8_000);
    });

    it('the caller starting to speak stops the count; other info frames change nothing', async () => {
      const { call, estimate } = await answered();
      void call.send({ type: 'info', name: 'debug', value: 'something' });
      void call.send({ type: 'info', name: 'agentSpeaking', value: 42 });
      await tier.drain();
      void call.send({ type: 'info', name: 'clientSpeaking', value: 'on' });
      await tier.drain();
      await tier.clock.advanceTo(estimate + 60_000);
      await tier.drain();
      expect(call.replies()).toEqual([REPLY]);
      expect(outcomes('silence')).toEqual(['cancelled']);
    });
  });

  describe('reprompts phrased by the LLM (opt-in)', () => {
    const REPLY = 'Tours run every day from ten to four.';
    const phrased: SilenceSettings = { ...silence, llmPhrasing: { timeoutMs: 1_000, maxWords: 20 } };
    async function answered(): Promise<{ call: TierCall; due: number }> {
      tier = await createEngineTier();
      const call = await tier.call({ silence: phrased });
      tier.llm.enqueue(says(REPLY));
      void call.prompt('When can I tour?');
      await tier.drain();
      return { call, due: tier.clock.now() + speakingMs(REPLY) + 8_000 };
    }

    it('says the LLM\'s line, asked with a short request (recent conversation, no tools)', async () => {
      const { call, due } = await answered();
      tier.llm.enqueue(says('Still with me? Take your time picking a day.'));
      await tier.clock.advanceTo(due);
      await tier.drain();
      expect(call.replies()).toEqual([REPLY, 'Still with me? Take your time picking a day.']);
      const request = tier.llm.requests[1]!.request;
      expect(request).toMatchObject({ tools: [], toolChoice: 'none' });
      expect(request.messages.slice(1)).toEqual([
        { role: 'user', content: 'When can I tour?' },
        { role: 'assistant', content: REPLY },
      ]);
      expect(call.history().at(-1)).toEqual(['assistant', 'Still with me? Take your time picking a day.']);
    });

    it('falls back to the configured line when the LLM fails, or has not answered within its time', async () => {
      const first = await answered();
      tier.llm.enqueue([fail(new Error('upstream 500'))]);
      await tier.clock.advanceTo(first.due);
      await tier.drain();
      expect(first.call.replies()).toEqual([REPLY, 'Are you still there?']);

      const second = await answered();
      tier.llm.enqueue([waitMs(5_000), ...says('Too late to be said.')]);
      await tier.clock.advanceTo(second.due + 1_000 - 1);
      expect(second.call.replies()).toEqual([REPLY]);
      await tier.clock.advance(1);
      await tier.drain();
      expect(second.call.replies()).toEqual([REPLY, 'Are you still there?']);
    });
  });
});
