/**
 * What each simulated caller does on each turn of a load run, decided before the run from a seed so two runs
 * with the same flags ask the engine the same questions. Shares are exact counts over all turns, not
 * per-turn coin flips: "30% interrupted" means 30% of the turns (rounded), whatever the number of calls.
 */
export type TurnFate = 'complete' | 'interrupt' | 'supersede';

export interface PlannedTurn {
  call: number;
  turn: number;
  fate: TurnFate;
  /**
   * Interrupt once the caller has received at least this many words of the reply. A supersede always comes with
   * the reply's first frame: under load a reply arrives in as few as two posts (its first word, then the rest with
   * `last: true`), and only the first frame is sure to land while the reply is still streaming.
   */
  cutAfterWords: number;
}

export interface LoadPlanOptions {
  calls: number;
  turns: number;
  /** Words in each reply; a cut point always leaves at least two words unsent. */
  tokens: number;
  /** Shares of all turns, 0..1. */
  interruptShare: number;
  supersedeShare: number;
  seed: number;
}

/** A small seeded generator (mulberry32): the plan is the same on every machine for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One list per call, turn 1 first. A call's last turn is never superseded: no later prompt would do it. */
export function planLoad(options: LoadPlanOptions): PlannedTurn[][] {
  const random = seededRandom(options.seed);
  const plan: PlannedTurn[][] = Array.from({ length: options.calls }, (_, c) =>
    Array.from({ length: options.turns }, (_, t) => ({ call: c + 1, turn: t + 1, fate: 'complete' as TurnFate, cutAfterWords: 0 })),
  );
  const slots = plan.flat();
  for (let i = slots.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [slots[i], slots[j]] = [slots[j]!, slots[i]!];
  }
  const total = slots.length;
  let interrupts = Math.round(options.interruptShare * total);
  let supersedes = Math.round(options.supersedeShare * total);
  const interruptCuts = Math.max(1, options.tokens - 2);
  for (const slot of slots) {
    if (interrupts > 0) {
      slot.fate = 'interrupt';
      slot.cutAfterWords = 1 + Math.floor(random() * interruptCuts);
      interrupts--;
    } else if (supersedes > 0 && slot.turn < options.turns) {
      slot.fate = 'supersede';
      slot.cutAfterWords = 1;
      supersedes--;
    }
  }
  return plan;
}
