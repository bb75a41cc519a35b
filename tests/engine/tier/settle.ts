/**
 * Runs everything that can run without time passing: promise chains, `setImmediate` work (the reply pump drains
 * on the check phase) and whatever those schedule in turn, until nothing is left but timers, sockets and other
 * things that wait. A test then asserts on a quiescent system instead of guessing how many ticks a chain needs.
 *
 * Each round waits for one `setImmediate`: by the time it fires, every microtask queued before it has run (Node
 * drains them between callbacks). The loop stops once a round leaves no immediate pending, which is the only
 * work that can still be queued without a timer or I/O. A system that keeps rescheduling itself is a bug in the
 * code under test, so the bound is an error, not a silent stop.
 */
export interface SettleOptions {
  /** Rounds before giving up (default 1,000). */
  maxRounds?: number;
}

const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const immediatePending = () => process.getActiveResourcesInfo().includes('Immediate');

export async function settle(options: SettleOptions = {}): Promise<void> {
  const maxRounds = options.maxRounds ?? 1_000;
  for (let round = 1; round <= maxRounds; round++) {
    await nextImmediate();
    if (!immediatePending()) return;
  }
  throw new Error(`settle: still busy after ${maxRounds} rounds of setImmediate (something reschedules itself forever)`);
}
