import type { ToolTiming, TurnRecord } from '../../layers/data/turns.ts';

/** The epoch-ms marks of a turn record, in the order a turn normally passes them. */
export type Mark = 'promptReceivedAt' | 'llmRequestSentAt' | 'llmFirstTokenAt' | 'firstTokenPostedAt' | 'llmLastTokenAt' | 'lastTokenPostedAt';

export type PhaseId = 'preLlm' | 'llmFirstToken' | 'postOverhead' | 'firstWord' | 'tailLag' | 'wholeTurn';

export interface Phase {
  id: PhaseId;
  label: string;
  from: Mark;
  to: Mark;
}

/**
 * Where the time of a turn goes. `firstWord` is what the caller feels; `preLlm`, `postOverhead` and `tailLag` are
 * ours to shrink; `llmFirstToken` is the provider's.
 */
export const PHASES: readonly Phase[] = [
  { id: 'preLlm', label: 'pre-LLM overhead', from: 'promptReceivedAt', to: 'llmRequestSentAt' },
  { id: 'llmFirstToken', label: 'LLM time to first token', from: 'llmRequestSentAt', to: 'llmFirstTokenAt' },
  { id: 'postOverhead', label: 'posting overhead', from: 'llmFirstTokenAt', to: 'firstTokenPostedAt' },
  { id: 'firstWord', label: 'time to first word', from: 'promptReceivedAt', to: 'firstTokenPostedAt' },
  { id: 'tailLag', label: 'tail lag', from: 'llmLastTokenAt', to: 'lastTokenPostedAt' },
  { id: 'wholeTurn', label: 'whole turn', from: 'promptReceivedAt', to: 'lastTokenPostedAt' },
];

export type PhaseDurations = Partial<Record<PhaseId, number>>;

function mark(record: TurnRecord, name: Mark): number | undefined {
  const value = record[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The phase durations (ms) of one turn. A phase is present only when both its marks are: a turn the caller hung up
 * on before the first word has a pre-LLM overhead but no time to first word. Negative durations are kept, not
 * hidden: they mean clocks of two invocations disagree or a mark was taken in the wrong place.
 */
export function turnPhases(record: TurnRecord): PhaseDurations {
  const durations: PhaseDurations = {};
  for (const phase of PHASES) {
    const from = mark(record, phase.from);
    const to = mark(record, phase.to);
    if (from !== undefined && to !== undefined) durations[phase.id] = to - from;
  }
  return durations;
}

/** The turn's tool calls that carry a usable duration. */
export function toolTimings(record: TurnRecord): ToolTiming[] {
  return (record.tools ?? []).filter((t) => typeof t.durationMs === 'number' && Number.isFinite(t.durationMs));
}

/** Whether the caller cut in on this turn. */
export function wasInterrupted(record: TurnRecord): boolean {
  return typeof record.interruptedAt === 'number' || record.outcome === 'interrupted';
}
