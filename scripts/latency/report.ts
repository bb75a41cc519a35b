import type { SpeculationRecord, ToolTiming, TurnRecord } from '../../layers/data/turns.ts';
import type { LlmPrice } from '../lib/prices.ts';
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
  unit: 'ms' | 'count' | 'usd';
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

/** Prices LLM tokens per call in the report: the model the calls used and its price (config/prices.json). */
export interface LlmPricing {
  model: string;
  price: LlmPrice | undefined;
}

/**
 * Token rows per call (a call's turns summed, as the provider reported them) and, with a price, what that costs.
 * Calls whose turns carry no usage (recorded before usage was, or a provider that does not report it) are left out.
 */
function llmCostRows(turns: TurnView[], pricing: LlmPricing | undefined): StatRow[] {
  const perCall = new Map<string, { input: number; cached: number; output: number }>();
  for (const t of turns) {
    const u = t.record.usage;
    if (!u) continue;
    const sum = perCall.get(t.sessionId) ?? { input: 0, cached: 0, output: 0 };
    sum.input += u.inputTokens;
    sum.cached += u.cachedTokens;
    sum.output += u.outputTokens;
    perCall.set(t.sessionId, sum);
  }
  const calls = [...perCall.values()];
  const rows = [
    countRow('llmInput', 'LLM input tokens per call', calls.map((c) => c.input)),
    countRow('llmCached', 'LLM cached input tokens per call', calls.map((c) => c.cached)),
    countRow('llmOutput', 'LLM output tokens per call', calls.map((c) => c.output)),
  ];
  const price = pricing?.price;
  if (pricing && price) {
    const usd = (c: { input: number; cached: number; output: number }) =>
      ((c.input - c.cached) * price.inputPerMillion + c.cached * price.cachedInputPerMillion + c.output * price.outputPerMillion) / 1_000_000;
    rows.push({ id: 'llmCost', label: `LLM cost per call (${pricing.model})`, unit: 'usd', spread: spread(calls.map(usd)) });
  }
  return rows;
}

/** Phase, tool and post statistics of the turns of one use case. */
export function summarizeUseCase(useCaseId: string, turns: TurnView[], pricing?: LlmPricing, speculations: SpeculationRecord[] = []): UseCaseReport {
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
  rows.push(...llmCostRows(turns, pricing));

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
export function buildReport(calls: CallTurns[], context: { source: string; selection: string; now?: number; pricing?: LlmPricing }): LatencyReport {
  const turns = calls.flatMap((call) => call.turns.map((record) => viewTurn(call, record)));
  const byUseCase = new Map<string, TurnView[]>();
  for (const t of turns) byUseCase.set(t.useCaseId, [...(byUseCase.get(t.useCaseId) ?? []), t]);
  const speculations = calls.flatMap((call) => call.speculations ?? []);
  const useCases = [...byUseCase.keys()].sort().map((id) =>
    summarizeUseCase(id, byUseCase.get(id)!, context.pricing, speculations.filter((s) => s.useCaseId === id)),
  );
  return {
    generatedAt: new Date(context.now ?? Date.now()).toISOString(),
    source: context.source,
    selection: context.selection,
    calls,
    useCases,
    turns,
  };
}
