import type { Clock } from '../../../02_cr-application/src/engine/ports.ts';
import { settle } from './settle.ts';

/**
 * A Clock whose time moves only when the test moves it. Timers fire in time order (creation order at the same
 * time), and everything a fired timer sets off runs before the next one fires, including timers it sets that fall
 * due within the same advance: `await clock.advance(4_000)` is "four seconds of the call happen now".
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer due on the way; resolves once the system is quiescent. */
  advance(ms: number): Promise<void>;
  /** Moves time to `time` (never backwards), as `advance`. */
  advanceTo(time: number): Promise<void>;
  /** Moves time to the next timer and fires every timer due then. Resolves with the new time, or undefined if none. */
  advanceToNext(): Promise<number | undefined>;
  /**
   * Fires timers, moving time forward, until none is left (at most `maxTimers`, default 10,000: a timer that
   * always sets another is an error, not a hang). Resolves with the time that passed.
   */
  runUntilIdle(maxTimers?: number): Promise<number>;
  /** Timers set and not yet fired or cancelled. */
  pendingTimers(): number;
  /** When the next timer is due, or undefined. */
  nextTimerAt(): number | undefined;
}

/** A fixed, realistic epoch (2025-06-01T00:00:00Z): stored timestamps and expiry look like a real call's. */
export const MANUAL_CLOCK_START = Date.UTC(2025, 5, 1);

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export function createManualClock(start = MANUAL_CLOCK_START): ManualClock {
  let now = start;
  let seq = 0;
  const timers: Timer[] = [];

  const due = (limit: number): Timer | undefined => {
    let first: Timer | undefined;
    for (const t of timers) if (t.at <= limit && (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq))) first = t;
    return first;
  };

  /** Fires the earliest timer due by `limit`; false when there is none. */
  async function fireNext(limit: number): Promise<boolean> {
    const timer = due(limit);
    if (!timer) return false;
    timers.splice(timers.indexOf(timer), 1);
    now = Math.max(now, timer.at);
    timer.fn();
    await settle();
    return true;
  }

  const clock: ManualClock = {
    now: () => now,

    setTimer(ms, fn) {
      // As setTimeout: a negative, NaN or missing delay means "as soon as time is looked at".
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
      const timer: Timer = { at: now + delay, seq: seq++, fn };
      timers.push(timer);
      return () => {
        const i = timers.indexOf(timer);
        if (i >= 0) timers.splice(i, 1);
      };
    },

    async advance(ms) {
      if (!(ms >= 0)) throw new Error(`advance: time only moves forward (got ${ms} ms)`);
      await clock.advanceTo(now + ms);
    },

    async advanceTo(time) {
      if (time < now) throw new Error(`advanceTo: ${time} is before now (${now})`);
      // Work already runnable happens before time moves, as it would on a real event loop.
      await settle();
      while (await fireNext(time));
      now = time;
    },

    async advanceToNext() {
      await settle();
      const next = clock.nextTimerAt();
      if (next === undefined) return undefined;
      await clock.advanceTo(next);
      return now;
    },

    async runUntilIdle(maxTimers = 10_000) {
      const from = now;
      await settle();
      for (let fired = 0; fired < maxTimers; fired++) {
        if (!(await fireNext(Infinity))) return now - from;
      }
      throw new Error(`runUntilIdle: still ${timers.length} timer(s) after firing ${maxTimers} (a timer that always sets another?)`);
    },

    pendingTimers: () => timers.length,
    nextTimerAt: () => due(Infinity)?.at,
  };
  return clock;
}
