import { expect } from 'vitest';
import { decide, type LedgerEvent, type Verdict } from '../../../02_cr-application/src/engine/ledger/decide.ts';
import { emptyLedger, type Ledger } from '../../../layers/data/turn-ledger.ts';

/**
 * Feeds events to the pure `decide` in order, as the ledger client would, and keeps every verdict. Each write must
 * move the version by one: that is the compare-and-set the adapters rely on.
 */
export function runEvents(events: LedgerEvent[], from: Ledger = emptyLedger()): { ledger: Ledger; verdicts: Verdict[] } {
  let ledger = from;
  const verdicts: Verdict[] = [];
  for (const event of events) {
    const d = decide(ledger, event);
    verdicts.push(d.verdict);
    if (d.next) {
      expect(d.next.v).toBe(ledger.v + 1);
      ledger = d.next;
    }
  }
  return { ledger, verdicts };
}
