import type { TimerCheck } from './call-timer.ts';
import { onDigitsDue, type DigitsDueDeps, type DigitsOutcome } from './digits-timer.ts';
import { onGraceDue, type GraceOutcome } from './grace.ts';
import { onSilenceDue, type SilenceDeps, type SilenceOutcome } from './silence.ts';

/** What the call timer's consumer needs: the silence checks' edges, and a way to run an entry's timeout as a turn. */
export type TimerDeps = SilenceDeps & Pick<DigitsDueDeps, 'runInEngine'>;

export type TimerOutcome = SilenceOutcome | GraceOutcome | DigitsOutcome;

/** A check of the call timer came due: each kind to its module; the ledger decides whether it still has work. */
export function onTimerDue(deps: TimerDeps, check: TimerCheck): Promise<TimerOutcome> {
  switch (check.kind) {
    case 'silence':
      return onSilenceDue(deps, check);
    case 'grace':
      return onGraceDue(deps, check);
    case 'digits':
      return onDigitsDue(deps, check);
  }
}
