import { describe, expect, it } from 'vitest';
import { sleep } from '../../../02_cr-application/src/engine/ports.ts';
import { createManualClock, MANUAL_CLOCK_START } from './manual-clock.ts';

describe('manual clock', () => {
  it('stands still until the test moves it, then fires due timers in time order (creation order on a tie)', async () => {
    const clock = createManualClock();
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`c@${clock.now() - MANUAL_CLOCK_START}`));
    clock.setTimer(100, () => fired.push(`a@${clock.now() - MANUAL_CLOCK_START}`));
    clock.setTimer(100, () => fired.push(`b@${clock.now() - MANUAL_CLOCK_START}`));
    await clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.now()).toBe(MANUAL_CLOCK_START + 99);
    await clock.advance(250);
    expect(fired).toEqual(['a@100', 'b@100', 'c@300']);
    expect(clock.now()).toBe(MANUAL_CLOCK_START + 349);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires timers set by timers (and by the promise work they start) when they fall due within the same advance', async () => {
    const clock = createManualClock(0);
    const fired: number[] = [];
    clock.setTimer(100, () => {
      fired.push(clock.now());
      clock.setTimer(50, () => fired.push(clock.now()));
    });
    // A loop of awaited sleeps: each timer is set only after the previous promise resolved.
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 40);
        fired.push(-clock.now());
      }
    })();
    await clock.advance(130);
    expect(fired).toEqual([-40, -80, 100, -120]);
    await clock.advance(100);
    expect(fired).toEqual([-40, -80, 100, -120, 150]);
  });

  it('cancels: a cancelled timer never fires, and cancelling twice or after firing is harmless', async () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    const cancelA = clock.setTimer(10, () => fired.push('a'));
    const cancelB = clock.setTimer(20, () => fired.push('b'));
    cancelA();
    cancelA();
    await clock.advance(30);
    cancelB();
    expect(fired).toEqual(['b']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('treats a zero, negative or NaN delay as due now, fired at the next look at time', async () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(0, () => fired.push('zero'));
    clock.setTimer(-5, () => fired.push('negative'));
    clock.setTimer(Number.NaN, () => fired.push('nan'));
    expect(fired).toEqual([]);
    await clock.advance(0);
    expect(fired).toEqual(['zero', 'negative', 'nan']);
    expect(clock.now()).toBe(0);
  });

  it('steps to the next timer, and runs until idle reporting the time that passed', async () => {
    const clock = createManualClock(1_000);
    const fired: number[] = [];
    expect(await clock.advanceToNext()).toBeUndefined();
    clock.setTimer(250, () => fired.push(clock.now()));
    clock.setTimer(700, () => clock.setTimer(300, () => fired.push(clock.now())));
    expect(clock.nextTimerAt()).toBe(1_250);
    expect(await clock.advanceToNext()).toBe(1_250);
    expect(fired).toEqual([1_250]);
    expect(await clock.runUntilIdle()).toBe(750);
    expect(fired).toEqual([1_250, 2_000]);
    expect(clock.now()).toBe(2_000);
  });

  it('refuses to move backwards, and stops a timer that always sets another instead of hanging', async () => {
    const clock = createManualClock(0);
    await expect(clock.advance(-1)).rejects.toThrow(/only moves forward/);
    await expect(clock.advanceTo(-1)).rejects.toThrow(/before now/);
    const again = () => clock.setTimer(10, again);
    again();
    await expect(clock.runUntilIdle(100)).rejects.toThrow(/after firing 100/);
  });

  it('drives the engine port helper: sleep resolves on time, or at once when its signal aborts', async () => {
    const clock = createManualClock(0);
    const done: string[] = [];
    void sleep(clock, 500).then(() => done.push(`slept@${clock.now()}`));
    const abort = new AbortController();
    void sleep(clock, 10_000, abort.signal).then(() => done.push(`aborted@${clock.now()}`));
    await clock.advance(200);
    abort.abort();
    await clock.advance(0);
    expect(done).toEqual(['aborted@200']);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(300);
    expect(done).toEqual(['aborted@200', 'slept@500']);
  });
});
