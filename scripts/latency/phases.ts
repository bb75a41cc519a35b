import type { ToolTiming, TurnRecord } from '../../layers/data/turns.ts';

/** The epoch-ms marks of a turn record, in the order a turn normally passes them. */
export type Mark = 'promptReceivedAt' | 'llmRequestSentAt' | 'llmFirstTokenAt' | 'llmFirstTextAt' | 'firstTokenPostedAt' | 'llmLastTokenAt' | 'lastTokenPostedAt';

export type PhaseId = 'preLlm' | 'llmFirstToken' | 'postOverhead' | 'firstWord' | 'tailLag' | 'wholeTurn';

export interface Phase {
  id: PhaseId;
  label: string;
  from: Mark;
  to: Mark;
  /** Why a turn can have both marks in the wrong order, in which case this phase did not happen as such. */
  whenReversed: string;
}

/**
 * Where the time of a turn goes. `firstWord` is what the caller feels; `preLlm`, `postOverhead` and `tailLag` are
 * ours to shrink; `llmFirstToken` is the provider's.
 */
export const PHASES: readonly Phase[] = [
  { id: 'preLlm', label: 'pre-LLM overhead', from: 'promptReceivedAt', to: 'llmRequestSentAt', whenReversed: 'the LLM was asked on a partial prompt, before the final one (preemption)' },
  { id: 'llmFirstToken', label: 'LLM time to first token', from: 'llmRequestSentAt', to: 'llmFirstTokenAt', whenReversed: 'LLM first token marked before the request (a misplaced mark)' },
  { id: 'postOverhead', label: 'posting overhead', from: 'llmFirstTextAt', to: 'firstTokenPostedAt', whenReversed: "something was said before the LLM's first token (a keypad line or a filler)" },
  { id: 'firstWord', label: 'time to first word', from: 'promptReceivedAt', to: 'firstTokenPostedAt', whenReversed: 'first post marked before the prompt arrived (a misplaced mark)' },
  { id: 'tailLag', label: 'tail lag', from: 'llmLastTokenAt', to: 'lastTokenPostedAt', whenReversed: 'the reply stopped before the LLM finished (interrupted or superseded)' },
  { id: 'wholeTurn', label: 'whole turn', from: 'promptReceivedAt', to: 'lastTokenPostedAt', whenReversed: 'last post marked before the prompt arrived (a misplaced mark)' },
];

export type PhaseDurations = Partial<Record<PhaseId, number>>;

function mark(record: TurnRecord, name: Mark): number | undefined {
  const value = record[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function phaseMarks(record: TurnRecord, phase: Phase): { from: number; to: number } | undefined {
  const from = mark(record, phase.from);
  const to = mark(record, phase.to);
  return from !== undefined && to !== undefined ? { from, to } : undefined;
}

/**
 * The phase durations (ms) of one turn. A phase is present only when both its marks are, in order: a turn the caller
 * hung up on before the first word has a pre-LLM overhead but no time to first word, and a keypad turn whose line
 * was posted before the LLM answered has no posting overhead (that post was not an LLM token).
 */
export function turnPhases(record: TurnRecord): PhaseDurations {
  const durations: PhaseDurations = {};
  for (const phase of PHASES) {
    const marks = phaseMarks(record, phase);
    if (marks && marks.to >= marks.from) durations[phase.id] = marks.to - marks.from;
  }
  return durations;
}

/** Phases whose two marks exist but in reverse order; the report counts them rather than average them in. */
export function reversedPhases(record: TurnRecord): PhaseId[] {
  return PHASES.filter((phase) => {
    const marks = phaseMarks(record, phase);
    return marks !== undefined && marks.to < marks.from;
  }).map((phase) => phase.id);
}

/** The turn's tool calls that carry a usable duration. */
export function toolTimings(record: TurnRecord): ToolTiming[] {
  return (record.tools ?? []).filter((t) => typeof t.durationMs === 'number' && Number.isFinite(t.durationMs));
}

/** Whether the caller cut in on this turn. */
export function wasInterrupted(record: TurnRecord): boolean {
  return typeof record.interruptedAt === 'number' || record.outcome === 'interrupted';
}
