import { ConditionFailedError, NotFoundError } from '../../../../layers/data/errors.ts';
import { sessionKey } from '../../../../layers/data/keys.ts';
import type { Ledger, LedgerRead } from '../../../../layers/data/turn-ledger.ts';
import type { LedgerStore } from '../ports.ts';
import { decide, decideAll, foldNotes, type LedgerEvent, type Verdict } from './decide.ts';

export interface LedgerOutcome {
  verdict: Verdict;
  /** The ledger as this write left it (or as read, when nothing was written). */
  ledger: Ledger;
  status: string;
}

/** What deciding needs of the store: a read and a compare-and-set. */
export type LedgerAccess = Pick<LedgerStore, 'readLedger' | 'compareAndSetLedger'>;

/** Writers of one session are few (a turn, an interrupt, the next prompt): a handful of retries always settles. */
const MAX_ATTEMPTS = 8;

/**
 * Applies one event to a session's ledger: decide on the state read, compare-and-set at that version, and on a
 * lost race read again and decide again. `known` is a ledger the caller already holds (from the per-turn Query),
 * which saves the first read on the fast path.
 */
export async function applyToLedger(store: LedgerAccess, sessionId: string, event: LedgerEvent, known?: LedgerRead): Promise<LedgerOutcome> {
  const { verdicts, ledger, status } = await applyAllToLedger(store, sessionId, [event], known, (l) => {
    const d = decide(l, event);
    return { ...(d.next ? { next: d.next } : {}), verdicts: [d.verdict] };
  });
  return { verdict: verdicts[0]!, ledger, status };
}

/** Several events decided in order on one read and written as one change (engine/ledger/decide.ts decideAll). */
export async function applyAllToLedger(
  store: LedgerAccess,
  sessionId: string,
  events: readonly LedgerEvent[],
  known?: LedgerRead,
  decider: (ledger: Ledger) => { next?: Ledger; verdicts: Verdict[] } = (l) => decideAll(l, events),
): Promise<{ verdicts: Verdict[]; ledger: Ledger; status: string }> {
  let current = known;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    current ??= await store.readLedger(sessionId);
    if (!current) throw new NotFoundError('session', sessionKey(sessionId));
    // Interrupt notes that the ledger does not hold yet are decided first, and written with this event.
    const { ledger: folded, changed } = foldNotes(current.ledger);
    const decision = decider(folded);
    const next = decision.next ?? (changed ? { ...folded, v: folded.v + 1 } : undefined);
    if (!next) return { verdicts: decision.verdicts, ledger: folded, status: current.status };
    try {
      await store.compareAndSetLedger(sessionId, current.ledger.v, next);
      return { verdicts: decision.verdicts, ledger: next, status: current.status };
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      current = undefined;
    }
  }
  throw new Error(`turn ledger of session ${sessionId}: ${events.map((e) => e.type).join('+')} lost ${MAX_ATTEMPTS} races in a row`);
}
