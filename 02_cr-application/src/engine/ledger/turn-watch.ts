import type { AppLogger } from '../../../../layers/observability/logger.ts';
import type { LedgerRead } from '../../../../layers/data/turn-ledger.ts';
import type { Clock, LedgerStore } from '../ports.ts';
import { standingOf, withNotes, type Standing } from './decide.ts';

/**
 * How a turn learns, while it streams, waits for the LLM or runs tools, that an `interrupt`, a newer `prompt` or
 * the end of the call (other invocations) took the reply from it: a strongly consistent read of the ledger on a
 * timer, at most one in flight. Bounded by time, not by posts: a silent LLM stream is watched as closely as a
 * chatty one, and a long reply costs no more reads per second than a short one.
 */
export class TurnWatch {
  /** Ledger reads made by this watch (reported on the turn record). */
  reads = 0;
  private cancelTimer: (() => void) | undefined;
  private inFlight = false;
  private closed = false;
  private turn = 0;

  constructor(
    private readonly store: LedgerStore,
    private readonly sessionId: string,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly log: AppLogger,
    private readonly onStop: (standing: Exclude<Standing, { type: 'owner' }>) => void,
    private readonly onRead: (read: LedgerRead) => void = () => undefined,
  ) {}

  /** Starts watching `turn` (once its claim has landed). */
  start(turn: number): void {
    if (this.closed) return;
    this.turn = turn;
    this.schedule();
  }

  /**
   * A read the caller waits for: before a fallback line is spoken, between tool rounds. Before the turn's claim
   * has landed there is no turn to judge (a turn number of 0 would read as superseded by any claimed turn): the
   * turn is taken to own the reply, which its claim then confirms or denies.
   */
  async checkNow(): Promise<Standing> {
    const read = await this.readNow();
    if (read === 'unknown') return { type: 'owner' };
    return read ? standingOf(read.ledger, read.status, this.turn) : { type: 'ended' };
  }

  /**
   * The same read, for a caller that judges it itself (a tool round's verdict): the ledger with its interrupt
   * notes folded in, `undefined` when the session is gone, `unknown` before the claim landed or when the read
   * failed (the turn goes on, as it would have without the read).
   */
  async readNow(): Promise<LedgerRead | undefined | 'unknown'> {
    if (this.turn === 0) return 'unknown';
    try {
      this.reads++;
      const raw = await this.store.readLedger(this.sessionId);
      if (!raw) return undefined;
      const read = { ...raw, ledger: withNotes(raw.ledger) };
      this.onRead(read);
      return read;
    } catch (err) {
      this.log.warn('turn ledger read failed; the turn goes on', { error: err as Error });
      return 'unknown';
    }
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
  }

  private schedule(): void {
    if (this.closed) return;
    this.cancelTimer = this.clock.setTimer(this.intervalMs, () => this.tick());
  }

  private tick(): void {
    if (this.closed) return;
    if (this.inFlight) return this.schedule();
    this.inFlight = true;
    void this.checkNow().then((standing) => {
      this.inFlight = false;
      if (this.closed) return;
      if (standing.type === 'owner') return this.schedule();
      this.close();
      this.onStop(standing);
    });
  }
}
