import type { TokenUsage, ToolTiming, TurnOutcome, TurnRecord } from '../../../layers/data/index.ts';
import type { Clock } from './ports.ts';

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

  tools(timings: ToolTiming[]): void {
    this.record.tools = [...(this.record.tools ?? []), ...timings];
  }

  failed(error: string): void {
    this.record.error = error;
  }

  interrupted(): void {
    this.record.interruptedAt ??= this.clock.now();
  }

  /** Adopted from a speculation: the turn's prompt is the final one, which came after the LLM request. */
  preempted(promptReceivedAt: number, speculations: number): void {
    this.record.promptReceivedAt = promptReceivedAt;
    this.record.preempted = true;
    this.record.speculations = speculations;
  }

  /** Speculative requests dropped before this turn answered its utterance with a request of its own. */
  speculated(count: number | undefined): void {
    if (count) this.record.speculations = count;
  }

  /** A request's token usage, summed over the turn's rounds (what the call costs is priced from it). */
  usage(u: TokenUsage): void {
    const sum = this.record.usage ?? { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
    this.record.usage = {
      inputTokens: sum.inputTokens + u.inputTokens,
      outputTokens: sum.outputTokens + u.outputTokens,
      cachedTokens: sum.cachedTokens + u.cachedTokens,
      ...(sum.estimated || u.estimated ? { estimated: true } : {}),
    };
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
