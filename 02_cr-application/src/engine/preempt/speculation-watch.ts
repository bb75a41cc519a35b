import type { AppLogger } from '../../../../layers/observability/logger.ts';
import type { LedgerTurn } from '../../../../layers/data/turn-ledger.ts';
import { speculationStanding, withNotes } from '../ledger/decide.ts';
import { applyToLedger } from '../ledger/ledger-client.ts';
import type { Clock, LedgerStore } from '../ports.ts';

export type SpeculationOutcome =
  | { type: 'confirmed'; turn: number; entry: LedgerTurn }
  /** Dropped by the ledger (other words, more words, an interrupt, a newer turn), or given up for want of a final prompt. */
  | { type: 'dropped'; reason: 'dropped' | 'no-final-prompt' | 'ended' | 'not-registered' };

/**
 * How a speculative turn learns whether the final prompt confirmed it: a small, strongly consistent ledger read on
 * a short timer (at most one in flight) from the moment it starts until it is confirmed or dropped. The interval
 * is short because the confirmation is what the caller waits for once the reply is ready; the reads stop with the
 * speculation, which lasts from a partial to its final prompt (a second or two), never longer than `holdMs` after
 * its reply (or tool calls) is complete.
 */
export class SpeculationWatch {
  reads = 0;
  readonly outcome: Promise<SpeculationOutcome>;
  private resolve!: (outcome: SpeculationOutcome) => void;
  private settled = false;
  private registered = false;
  private inFlight = false;
  private cancelPoll: (() => void) | undefined;
  private cancelHold: (() => void) | undefined;

  constructor(
    private readonly store: LedgerStore,
    private readonly sessionId: string,
    private readonly id: string,
    private readonly clock: Clock,
    private readonly pollMs: number,
    private readonly holdMs: number,
    private readonly log: AppLogger,
  ) {
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
  }

  /** Starts watching, once the speculation is in the ledger. */
  start(): void {
    this.registered = true;
    // Given up while its write was on the way (its LLM request failed): the ledger must not offer it to a claim.
    if (this.settled) void applyToLedger(this.store, this.sessionId, { type: 'speculation-end', id: this.id }).catch(() => undefined);
    else this.schedule();
  }

  /** The ledger had moved on before the speculation could be written: it never existed for anyone else. */
  notRegistered(): void {
    this.settle({ type: 'dropped', reason: 'not-registered' });
  }

  /** The reply (or this round's tool calls) is complete: wait at most `holdMs` more for the final prompt. */
  replyReady(): void {
    if (this.settled || this.cancelHold) return;
    this.cancelHold = this.clock.setTimer(this.holdMs, () => void this.giveUp());
  }

  /** The speculation stopped on its own (its LLM request failed): the ledger must not hand it a turn. */
  async abandon(): Promise<void> {
    await this.giveUp();
  }

  close(): void {
    this.cancelPoll?.();
    this.cancelHold?.();
  }

  private settle(outcome: SpeculationOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.close();
    this.resolve(outcome);
  }

  private schedule(): void {
    if (this.settled) return;
    this.cancelPoll = this.clock.setTimer(this.pollMs, () => void this.poll());
  }

  private async poll(): Promise<void> {
    if (this.settled || this.inFlight) return;
    this.inFlight = true;
    try {
      this.reads++;
      const raw = await this.store.readLedger(this.sessionId);
      if (!raw) return this.settle({ type: 'dropped', reason: 'ended' });
      const read = { ...raw, ledger: withNotes(raw.ledger) };
      const standing = speculationStanding(read.ledger, read.status, this.id);
      if (standing.type === 'confirmed') return this.settle({ type: 'confirmed', turn: standing.turn, entry: read.ledger.turns[standing.turn]! });
      if (standing.type === 'dropped') return this.settle({ type: 'dropped', reason: read.status === 'ended' ? 'ended' : 'dropped' });
    } catch (err) {
      this.log.warn('turn ledger read failed; the speculation goes on waiting', { error: err as Error });
    } finally {
      this.inFlight = false;
    }
    this.schedule();
  }

  /** Ends the speculation in the ledger; a claim that adopted it first wins, and then it goes on as that turn. */
  private async giveUp(): Promise<void> {
    if (this.settled) return;
    if (!this.registered) return this.settle({ type: 'dropped', reason: 'no-final-prompt' });
    try {
      const { verdict, ledger } = await applyToLedger(this.store, this.sessionId, { type: 'speculation-end', id: this.id });
      if (verdict.type === 'speculation-confirmed') return this.settle({ type: 'confirmed', turn: verdict.turn, entry: ledger.turns[verdict.turn]! });
      this.settle({ type: 'dropped', reason: 'no-final-prompt' });
    } catch (err) {
      // The table is failing: a final prompt's adopting claim (a write too) is then failing as well, and its turn
      // goes on uncoordinated, so stopping here cannot leave an adopted utterance unanswered in practice.
      this.log.error('could not end the speculation in the ledger; stopping it', { error: err as Error });
      this.settle({ type: 'dropped', reason: 'no-final-prompt' });
    }
  }
}
