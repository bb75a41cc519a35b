import type { Session } from '../../../../layers/data/index.ts';
import type { LedgerEvent } from '../ledger/decide.ts';
import { applyAllToLedger } from '../ledger/ledger-client.ts';
import type { TurnEnd } from '../turn.ts';
import { armDigits } from './digits-timer.ts';
import { spokenUntil, type ArmDeps } from './silence.ts';

/**
 * After a turn ran to its end (in the frame's invocation, or in a continuation after a slow tool round), the call
 * timer is armed for what the caller does next: a keypad entry the turn opened times out counting from when the
 * turn's words end (the caller types after hearing "please type your unit number"), and otherwise a silent caller
 * is reprompted. Both are decided on one ledger read and written at once. `opened`: the turn opened an entry (a
 * key with `collect`); a turn that ran tools may have too (`collectDigits`). Never throws.
 */
export async function armAfterTurn(deps: ArmDeps, session: Session, end: TurnEnd | undefined, opened = false): Promise<void> {
  if (!end || end.handedOff || end.record.outcome !== 'completed' || !deps.callTimer) return;
  const { record } = end;
  const first = record.firstTokenPostedAt;
  const until = first !== undefined ? spokenUntil({ turn: record.turn, text: end.spoken, firstPostedAt: first, lastPostedAt: record.lastTokenPostedAt }) : deps.clock.now();
  const events: LedgerEvent[] = [];
  if (opened || (record.tools?.length ?? 0) > 0) events.push({ type: 'digits-arm', at: until });
  // An open entry refuses the silence (its timeout speaks next), so the two never both arm.
  if (session.silence && record.firstTokenPostedAt !== undefined) {
    const afterMs = session.silence.afterSeconds * 1000;
    events.push({ type: 'silence-arm', turn: record.turn, dueAt: until + afterMs, afterMs });
  }
  if (events.length === 0) return;
  try {
    const { verdicts } = await applyAllToLedger(deps.store, session.sessionId, events);
    for (const verdict of verdicts) {
      if (verdict.type === 'digits-armed') await armDigits(deps, session.sessionId, verdict.dueAt);
      if (verdict.type === 'silence-armed') {
        await deps.callTimer.schedule({ kind: 'silence', sessionId: session.sessionId, turn: record.turn, round: 0, dueAt: verdict.dueAt, endpoint: deps.endpoint });
      }
    }
  } catch (err) {
    deps.log.warn('call timer not armed after the turn; the call goes on without it', { error: err as Error });
  }
}
