import type { SpeculationRecord, ToolTiming, TurnRecord } from '../../layers/data/turns.ts';
import { spread, type Spread } from './percentiles.ts';
import { PHASES, reversedPhases, toolTimings, turnPhases, wasInterrupted, type PhaseDurations, type PhaseId } from './phases.ts';

/** One call and the turn records it left, turns in order. */
export interface CallTurns {
  sessionId: string;
  callSid: string;
  useCaseId: string;
  /** ISO time the session was created. */
  startedAt?: string | undefined;
  turns: TurnRecord[];
  /** Speculative turns of the call that were never confirmed (preemption's waste). */
  speculations?: SpeculationRecord[] | undefined;
}

/** Preemptive generation: how often a speculative reply was used, and what the others cost. */
export interface PreemptionSummary {
  /** Turns answered by a speculative reply. */
  preempted: number;
  /** Speculative turns dropped (the final prompt differed, the caller talked on, ...). */
  wasted: number;
  /** preempted / (preempted + wasted). */
  hitRate: number;
  wastedRequests: number;
  wastedTokens: number;
  /** Some wasted tokens were counted from the aborted stream, not reported by the provider. */
  estimated: boolean;
}

export interface StatRow {
  /** `preLlm`..`wholeTurn`, `tool:<name>`, `posts` or `tokens`. */
  id: string;
  label: string;
  unit: 'ms' | 'count';
  /** Undefined when no turn had the marks this row needs. */
  spread: Spread | undefined;
  /** Turns left out because their two marks were in reverse order, and why that happens. */
  reversed?: { turns: number; why: string } | undefined;
}

export interface UseCaseReport {
  useCaseId: string;
  calls: number;
  turns: number;
  interruptions: number;
  coldStarts: number;
  /** Turns per outcome (completed, interrupted, superseded, ...). */
  outcomes: Record<string, number>;
  rows: StatRow[];
  /** Present when the use case's calls preempted or tried to. */
  preemption?: PreemptionSummary | undefined;
}

/** One turn, its phases computed: what the waterfall draws and `--json` prints. */
export interface TurnView {
  sessionId: string;
  callSid: string;
  turn: number;
  useCaseId: string;
  kind: TurnRecord['kind'];
  outcome: TurnRecord['outcome'];
  phases: PhaseDurations;
  /** Phases with both marks in reverse order (not in `phases`). */
  reversed: PhaseId[];
  tools: ToolTiming[];
  posts?: number | undefined;
  tokens?: number | undefined;
  interrupted: boolean;
  coldStart: boolean;
  error?: string | undefined;
  record: TurnRecord;
}

export interface LatencyReport {
  generatedAt: string;
  /** Where the records came from, in words ("local table x at http://..."). */
  source: string;
  /** What was asked for, in words ("last 20 calls of the last 2 days"). */
  selection: string;
  calls: CallTurns[];
  useCases: UseCaseReport[];
  turns: TurnView[];
}

export function viewTurn(call: CallTurns, record: TurnRecord): TurnView {
  return {
    sessionId: call.sessionId,
    callSid: record.callSid || call.callSid,
    turn: record.turn,
    useCaseId: record.useCaseId || call.useCaseId,
    kind: record.kind,
    outcome: record.outcome,
    phases: turnPhases(record),
    reversed: reversedPhases(record),
    tools: toolTimings(record),
    posts: record.posts,
    tokens: record.tokens,
    interrupted: wasInterrupted(record),
    coldStart: record.coldStart === true,
    error: record.error,
    record,
  };
}

function countRow(id: string, label: string, values: (number | undefined)[]): StatRow {
  return { id, label, unit: 'count', spread: spread(values.filter((v): v is number => typeof v === 'number')) };
}

/** Phase, tool and post statistics of the turns of one use case. */
export function summarizeUseCase(useCaseId: string, turns: TurnView[], speculations: SpeculationRecord[] = []): UseCaseReport {
  const rows: StatRow[] = PHASES.map((phase) => {
    const reversed = turns.filter((t) => t.reversed.includes(phase.id)).length;
    return {
      id: phase.id,
      label: phase.label,
      unit: 'ms' as const,
      spread: spread(turns.map((t) => t.phases[phase.id]).filter((v): v is number => v !== undefined)),
      ...(reversed > 0 ? { reversed: { turns: reversed, why: phase.whenReversed } } : {}),
    };
  });
  const toolNames = [...new Set(turns.flatMap((t) => t.tools.map((tool) => tool.name)))].sort();
  for (const name of toolNames) {
    const durations = turns.flatMap((t) => t.tools.filter((tool) => tool.name === name).map((tool) => tool.durationMs));
    rows.push({ id: `tool:${name}`, label: `tool ${name}`, unit: 'ms', spread: spread(durations) });
  }
  rows.push(countRow('posts', 'posts per turn', turns.map((t) => t.posts)));
  rows.push(countRow('tokens', 'tokens per turn', turns.map((t) => t.tokens)));

  const outcomes: Record<string, number> = {};
  for (const t of turns) outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + 1;
  return {
    useCaseId,
    calls: new Set(turns.map((t) => t.sessionId)).size,
    turns: turns.length,
    interruptions: turns.filter((t) => t.interrupted).length,
    coldStarts: turns.filter((t) => t.coldStart).length,
    outcomes,
    rows,
    preemption: summarizePreemption(turns, speculations),
  };
}

function summarizePreemption(turns: TurnView[], speculations: SpeculationRecord[]): PreemptionSummary | undefined {
  const preempted = turns.filter((t) => t.record.preempted).length;
  const wasted = speculations.length;
  if (preempted + wasted === 0) return undefined;
  return {
    preempted,
    wasted,
    hitRate: preempted / (preempted + wasted),
    wastedRequests: speculations.reduce((n, s) => n + s.llmRequests, 0),
    wastedTokens: speculations.reduce((n, s) => n + s.usage.inputTokens + s.usage.outputTokens, 0),
    estimated: speculations.some((s) => s.usage.estimated),
  };
}

/** The report over the given calls: one summary per use case (by the use case each turn ran under). */
export function buildReport(calls: CallTurns[], context: { source: string; selection: string; now?: number }): LatencyReport {
  const turns = calls.flatMap((call) => call.turns.map((record) => viewTurn(call, record)));
  const byUseCase = new Map<string, TurnView[]>();
  for (const t of turns) byUseCase.set(t.useCaseId, [...(byUseCase.get(t.useCaseId) ?? []), t]);
  const speculations = calls.flatMap((call) => call.speculations ?? []);
  const useCases = [...byUseCase.keys()].sort().map((id) => summarizeUseCase(id, byUseCase.get(id)!, speculations.filter((s) => s.useCaseId === id)));
  return {
    generatedAt: new Date(context.now ?? Date.now()).toISOString(),
    source: context.source,
    selection: context.selection,
    calls,
    useCases,
    turns,
  };
}
