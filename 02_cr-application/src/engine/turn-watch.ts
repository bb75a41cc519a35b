import type { TurnControl } from '../../../layers/data/index.ts';
import type { AppLogger } from '../../../layers/observability/logger.ts';
import type { Store } from './ports.ts';

export type TurnVerdict = 'interrupted' | 'superseded' | 'ended';

/** Whether a turn should stop, given the coordination fields on the session item (see layers/data/turn-control.ts). */
export function verdictFor(control: TurnControl | undefined, turn: number): TurnVerdict | undefined {
  if (!control) return 'ended';
  if (control.status === 'ended') return 'ended';
  if (control.turnCount > turn) return 'superseded';
  if (control.interruptedTurn === turn) return 'interrupted';
  return undefined;
}

/**
 * Learns, while a turn streams, that an `interrupt` or a newer `prompt` (other invocations) wants it to stop.
 * The pump calls `check()` after each post; at most one strongly consistent read is in flight and the pump never
 * waits for it, so the watch costs the stream nothing. A stop is noticed within one post plus one read.
 */
export class TurnWatch {
  private inFlight = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly sessionId: string,
    private readonly currentTurn: () => number,
    private readonly onStop: (verdict: TurnVerdict, control: TurnControl | undefined) => void,
    private readonly log: AppLogger,
  ) {}

  check(): void {
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    this.store.readTurnControl(this.sessionId).then(
      (control) => {
        this.inFlight = false;
        if (this.stopped) return;
        const verdict = verdictFor(control, this.currentTurn());
        if (verdict) {
          this.stopped = true;
          this.onStop(verdict, control);
        }
      },
      (err: unknown) => {
        this.inFlight = false;
        this.log.warn('turn control read failed; the turn goes on', { error: err as Error });
      },
    );
  }

  /** A one-off read the caller waits for (between tool rounds, where nothing is streaming anyway). */
  async checkNow(): Promise<{ verdict: TurnVerdict; control: TurnControl | undefined } | undefined> {
    try {
      const control = await this.store.readTurnControl(this.sessionId);
      const verdict = verdictFor(control, this.currentTurn());
      return verdict ? { verdict, control } : undefined;
    } catch (err) {
      this.log.warn('turn control read failed; the turn goes on', { error: err as Error });
      return undefined;
    }
  }

  close(): void {
    this.stopped = true;
  }
}
