import type { ToolTiming, TurnOutcome, TurnRecord } from '../../../layers/data/index.ts';
import { addUsage } from './llm-usage.ts';
import type { Clock, LlmUsage } from './ports.ts';

/**
 * Reduces what happens in a turn to its record (the raw material of `npm run latency` and the turn metrics).
 * Marks are set once, at the first time they happen; a continued turn starts from the marks handed over.
 */
export class TurnRecorder {
  readonly record: TurnRecord;

  constructor(
    private readonly clock: Clock,
    base: Pick<TurnRecord, 'sessionId' | 'turn' | 'useCaseId' | 'callSid' | 'kind' | 'promptReceivedAt' | 'coldStart'>,
    carried: Partial<TurnRecord> = {},
  ) {
    this.record = { ...carried, ...base, outcome: 'completed' };
  }

  turn(turn: number): void {
    this.record.turn = turn;
  }

  requestSent(onWire: boolean, calledAt: number): void {
    this.record.llmRequestSentAt ??= onWire ? this.clock.now() : calledAt;
  }

  roundStarted(): void {
    this.record.llmRounds = (this.record.llmRounds ?? 0) + 1;
  }

  firstChunk(): void {
    this.record.llmFirstTokenAt ??= this.clock.now();
  }

  /** The first text of the turn's replies: "our overhead" is measured from here (tool calls cannot be heard). */
  firstText(): void {
    this.record.llmFirstTextAt ??= this.clock.now();
  }

  roundEnded(): void {
    this.record.llmLastTokenAt = this.clock.now();
  }

  /** A request's token usage, summed over the turn's rounds (what the call costs is priced from it). */
  usage(usage: LlmUsage): void {
    this.record.llmUsage = addUsage(this.record.llmUsage, usage);
  }

  tools(timings: ToolTiming[]): void {
    this.record.tools = [...(this.record.tools ?? []), ...timings];
  }

  failed(error: string): void {
    this.record.error = error;
  }

  interrupted(): void {
    this.record.interruptedAt ??= this.clock.now();
  }

  historyWaited(ms: number): void {
    this.record.historyWaitMs = (this.record.historyWaitMs ?? 0) + ms;
  }

  /** The marks so far, for a turn handed to another invocation. */
  carry(pump: PumpCounts): Partial<TurnRecord> {
    return this.with(pump);
  }

  finish(outcome: TurnOutcome, pump: PumpCounts, ledgerReads: number): TurnRecord {
    const record = this.with(pump);
    record.outcome = outcome;
    record.ledgerReads = (record.ledgerReads ?? 0) + ledgerReads;
    return record;
  }

  private with(pump: PumpCounts): TurnRecord {
    const record: TurnRecord = {
      ...this.record,
      posts: (this.record.posts ?? 0) + pump.posts,
      tokens: (this.record.tokens ?? 0) + pump.tokens,
    };
    const first = this.record.firstTokenPostedAt ?? pump.firstTextPostedAt;
    if (first !== undefined) record.firstTokenPostedAt = first;
    const last = pump.lastTextPostedAt ?? this.record.lastTokenPostedAt;
    if (last !== undefined) record.lastTokenPostedAt = last;
    return record;
  }
}

export interface PumpCounts {
  posts: number;
  tokens: number;
  firstTextPostedAt: number | undefined;
  lastTextPostedAt: number | undefined;
}
