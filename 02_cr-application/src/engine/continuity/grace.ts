import type { AppLogger } from '../../../../layers/observability/logger.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { Clock, Store } from '../ports.ts';
import type { CallTimer, GraceCheck } from './call-timer.ts';

/**
 * The end of a dropped connection's grace (ConversationRelay's `applicationReconnect`). $disconnect arms a check
 * at the end of the grace; if no reconnect has replaced the connection by then, the call is over: the session
 * ends with a reason that says it dropped, so a redial within the use case's resume window picks it up again.
 * Without the check, a call whose caller never comes back would stay `connected` until its TTL.
 */

/** Why the session ended: a dropped call (not a goodbye), which is what redial resume looks for. */
export const GRACE_OVER_REASON = 'disconnected: no reconnect within the grace';

export interface GraceDeps {
  store: Pick<Store, 'readLedger' | 'compareAndSetLedger' | 'endSession'>;
  timer: CallTimer;
  clock: Pick<Clock, 'now'>;
  log: AppLogger;
}

export type GraceOutcome = 'ended' | 'rescheduled' | 'cancelled';

/** The grace check came due: the call ends unless it reconnected (or ended) meanwhile. */
export async function onGraceDue(deps: GraceDeps, check: GraceCheck): Promise<GraceOutcome> {
  const { store, log } = deps;
  const read = await store.readLedger(check.sessionId);
  if (!read || read.status === 'ended') return 'cancelled';
  const { verdict } = await applyToLedger(store, check.sessionId, { type: 'grace-due', gen: check.gen, at: deps.clock.now() }, read);
  switch (verdict.type) {
    case 'grace-over':
      // After the ledger: a reconnect that lands from now on is refused, whichever left first.
      await store.endSession(check.sessionId, GRACE_OVER_REASON);
      log.info('dropped call not reconnected within its grace; session ended', { generation: check.gen });
      return 'ended';
    case 'grace-not-yet':
      await deps.timer.schedule({ ...check, dueAt: verdict.dueAt });
      return 'rescheduled';
    default:
      return 'cancelled';
  }
}

/** $disconnect held the call for a reconnect: the timer ends it at the end of the grace. Never throws. */
export async function armGrace(deps: { timer: CallTimer | undefined; log: AppLogger }, check: Omit<GraceCheck, 'kind'>): Promise<void> {
  if (!deps.timer) return;
  try {
    await deps.timer.schedule({ kind: 'grace', ...check });
  } catch (err) {
    // The call still ends: a late reconnect is refused and ends it then, and the TTL removes it.
    deps.log.warn('grace check not armed; the session ends only when a late reconnect is refused', { error: err as Error });
  }
}
