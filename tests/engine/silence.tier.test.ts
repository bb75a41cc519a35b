import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SilenceSettings } from '../../layers/data/use-case-config.ts';
import { speakingMs } from '../../02_cr-application/src/engine/continuity/silence.ts';
import { createEngineTier, type EngineTier, type TierCall } from './tier/engine-tier.ts';
import { says } from './tier/scripted-llm.ts';
import { settle } from './tier/settle.ts';

/**
 * A silent caller, in the deterministic tier: the silence timer is the in-process one on the manual clock, each
 * check its own invocation, and whether a check still has something to do is the turn ledger's decision.
 */
let tier: EngineTier;
afterEach(async () => {
  await tier?.drain().catch(() => undefined);
  vi.restoreAllMocks();
});

const silence: SilenceSettings = {
  afterSeconds: 8,
  reprompts: 2,
  lines: ['Are you still there?', 'I am still here if you need anything.'],
  goodbye: 'Goodbye for now.',
};
const REPLY = 'The studio is available now.';

/** Moves call time forward and lets every check that came due run to its end. */
async function pass(ms: number): Promise<void> {
  await tier.clock.advance(ms);
  await settle();
  await tier.drain();
}

async function answered(call: TierCall, reply = REPLY): Promise<number> {
  tier.llm.enqueue(says(reply));
  void call.prompt('Is the studio available?');
  await tier.drain();
  // The reply was posted at once; text-to-speech needs about this long to say it.
  return speakingMs(reply) + silence.afterSeconds * 1000;
}

describe('silence', () => {
  it('a silent caller hears each reprompt after N seconds, then the goodbye, and the call ends', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ silence });
    const due = await answered(call);

    await pass(due - 10);
    expect(call.replies()).toEqual([REPLY]);
    await pass(10);
    expect(call.replies()).toEqual([REPLY, 'Are you still there?']);

    const second = speakingMs('Are you still there?') + 8_000;
    await pass(second);
    expect(call.replies().at(-1)).toBe('I am still here if you need anything.');
    await pass(speakingMs('I am still here if you need anything.') + 8_000);
    expect(call.replies().at(-1)).toBe('Goodbye for now.');
    expect(call.frames().at(-1)).toEqual({ type: 'end', handoffData: JSON.stringify({ reason: 'silence', goodbyeSaid: true }) });
    expect(tier.store.session(call.sessionId)).toMatchObject({ status: 'ended', endReason: 'silence' });
    expect(tier.silenceChecks).toEqual(['reprompted', 'reprompted', 'hung-up']);
    expect(call.history()).toEqual([
      ['user', 'Is the studio available?'],
      ['assistant', REPLY],
      ['assistant', 'Are you still there?'],
      ['assistant', 'I am still here if you need anything.'],
      ['assistant', 'Goodbye for now.'],
    ]);
    await pass(60_000);
    expect(tier.silenceChecks).toHaveLength(3);
  });

  it('a longer reply takes longer to say: the silence counts from the estimated end of its speech', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ silence });
    const long = 'We have studios, one-bedrooms and two-bedrooms, and every one of them has a balcony and in-unit laundry.';
    const due = await answered(call, long);
    expect(due).toBeGreaterThan(speakingMs(REPLY) + 8_000 + 4_000);
    await pass(due - 10);
    expect(call.replies()).toHaveLength(1);
    await pass(10);
    expect(call.replies()).toHaveLength(2);
  });

  it('speech at any point cancels it: the pending check finds the caller spoke, and the next reply arms a new one', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ silence });
    const due = await answered(call);
    await pass(due);
    expect(call.replies().at(-1)).toBe('Are you still there?');

    tier.llm.enqueue(says('Great, what day works?'));
    void call.prompt('Yes, sorry. Can I book a tour?');
    await tier.drain();
    // The reprompt's pending check comes due and finds a newer turn.
    await pass(speakingMs('Are you still there?') + 8_000);
    expect(tier.silenceChecks).toEqual(['reprompted', 'cancelled']);
    expect(call.replies().at(-1)).toBe('Great, what day works?');

    // The new reply's own check: the count starts again at the first line.
    await pass(speakingMs('Great, what day works?'));
    expect(call.replies().at(-1)).toBe('Are you still there?');
  });

  it('a partial prompt cancels it too, and an interrupt of a reprompt leaves the reply before it as it was', async () => {
    tier = await createEngineTier();
    const call = await tier.call({ silence });
    const due = await answered(call);
    await pass(due);
    void call.interrupt('Are you');
    await tier.drain();
    expect(call.history().slice(0, 2)).toEqual([
      ['user', 'Is the studio available?'],
      ['assistant', REPLY],
    ]);
    await pass(60_000);
    expect(tier.silenceChecks).toEqual(['reprompted', 'cancelled']);

    const second = await tier.call({ silence });
    const dueAgain = await answered(second);
    void second.partial('Um');
    await tier.drain();
    await pass(dueAgain);
    expect(second.replies()).toEqual([REPLY]);
  });

  it('a reprompt reads back after the reply it follows, even when both ids are minted in the same millisecond', async () => {
    // Message ids are time-ordered; within one millisecond only a single monotonic factory keeps mint order (two
    // factories order their ids by random bits). Wall time stands still here, so every id shares one millisecond.
    vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 30, 12));
    tier = await createEngineTier();
    for (let i = 0; i < 8; i++) {
      const call = await tier.call({ silence });
      await pass(await answered(call));
      expect(call.history()).toEqual([
        ['user', 'Is the studio available?'],
        ['assistant', REPLY],
        ['assistant', 'Are you still there?'],
      ]);
    }
  });

  it('a call whose use case sets no silence handling is left alone', async () => {
    tier = await createEngineTier();
    const call = await tier.call();
    await answered(call);
    await pass(120_000);
    expect(call.replies()).toEqual([REPLY]);
    expect(tier.silenceChecks).toEqual([]);
  });
});
