import { digitEntryDeadline } from '../../../../layers/data/digit-entry.ts';
import type { AppLogger } from '../../../../layers/observability/logger.ts';
import type { Clock, ConnectionsEndpoint, Store } from '../ports.ts';
import type { CallTimer, DigitsCheck, EngineCheck } from './call-timer.ts';

/**
 * A keypad entry's inter-digit timeout on the call timer. Each key (and the turn that opened the entry, once its
 * words are said) arms a check at the entry's deadline; a check whose deadline a later key moved is stale and
 * dropped. A check that is still current is run where turns run ($default): the ledger ends the entry there
 * (`digits-check`) and its digits become one caller turn (engine/messages/digit-entry.ts).
 */

export interface DigitsDueDeps {
  store: Pick<Store, 'readLedger'>;
  timer: CallTimer;
  clock: Pick<Clock, 'now'>;
  /** Hands a current check to the engine: an async invocation of $default in AWS, a direct call locally. */
  runInEngine: (check: EngineCheck) => Promise<unknown>;
}

export type DigitsOutcome = 'forwarded' | 'rescheduled' | 'cancelled';

/** One read decides whether the engine is needed at all: most checks are made stale by the next key. */
export async function onDigitsDue(deps: DigitsDueDeps, check: DigitsCheck): Promise<DigitsOutcome> {
  const read = await deps.store.readLedger(check.sessionId);
  const entry = read?.ledger.digits;
  if (!read || read.status === 'ended' || !entry || digitEntryDeadline(entry) !== check.dueAt) return 'cancelled';
  if (deps.clock.now() < check.dueAt) {
    await deps.timer.schedule(check);
    return 'rescheduled';
  }
  await deps.runInEngine(check);
  return 'forwarded';
}

/** Arms the entry's check at `dueAt`. Never throws: without it, the call's next frame ends the entry. */
export async function armDigits(deps: { callTimer?: CallTimer | undefined; endpoint: ConnectionsEndpoint; log: AppLogger }, sessionId: string, dueAt: number): Promise<void> {
  if (!deps.callTimer) return;
  try {
    await deps.callTimer.schedule({ kind: 'digits', sessionId, dueAt, endpoint: deps.endpoint });
  } catch (err) {
    deps.log.warn('keypad entry timeout not armed; the next frame of the call ends the entry', { error: err as Error });
  }
}
