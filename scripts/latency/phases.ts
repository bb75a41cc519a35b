import type { ToolTiming, TurnRecord } from '../../layers/data/turns.ts';

/**
 * Where the time of a turn goes, as consecutive segments on one axis (ms since the caller's prompt arrived), so
 * that the phases never overlap, are never negative and add up: the path to the first word (before the LLM, LLM
 * time to first token, tool rounds, posting) sums to the time to first word, and streaming plus tail sum to the rest
 * of the turn. Only time that is spent in our code is labelled ours; LLM and tool time never is.
 *
 * A keypad line or a filler can reach the caller before the LLM's first text: the path is then cut where that first
 * post left (its first word was ours, or came while the LLM or a tool was still working), and the turn has no
 * posting phase, because no LLM token was posted first.
 */
export type PhaseId = 'firstWord' | 'preLlm' | 'llmFirstToken' | 'toolRounds' | 'postOverhead' | 'streaming' | 'tailLag' | 'wholeTurn';

/** The segments drawn as consecutive bars: the first four lead to the first word, the last two follow it. */
export type SegmentId = 'preLlm' | 'llmFirstToken' | 'toolRounds' | 'postOverhead' | 'streaming' | 'tailLag';

export interface PhaseInfo {
  id: PhaseId;
  label: string;
  /** Time spent in our code (the engine, its table reads and posts), as opposed to the LLM's or a tool's. */
  ours: boolean;
}

/** In report order; `firstWord` is what the caller feels. */
export const PHASES: readonly PhaseInfo[] = [
  { id: 'firstWord', label: 'time to first word', ours: false },
  { id: 'preLlm', label: 'before the LLM', ours: true },
  { id: 'llmFirstToken', label: 'LLM time to first token', ours: false },
  { id: 'toolRounds', label: 'tool rounds (tools and the next LLM round)', ours: false },
  { id: 'postOverhead', label: 'posting', ours: true },
  { id: 'streaming', label: 'streaming (LLM still generating)', ours: false },
  { id: 'tailLag', label: 'tail after the LLM finished', ours: true },
  { id: 'wholeTurn', label: 'whole turn', ours: false },
];

export const OURS: ReadonlySet<PhaseId> = new Set(PHASES.filter((p) => p.ours).map((p) => p.id));

export interface Segment {
  id: SegmentId;
  /** ms since the prompt arrived. */
  from: number;
  to: number;
}

export interface TurnBreakdown {
  segments: Segment[];
  /** Durations of the segments, plus firstWord and wholeTurn when the turn got that far. */
  phases: PhaseDurations;
  /** What the caller heard first: an LLM token, or a line said before the LLM's first text (keypad line, filler). */
  firstWordFrom?: 'llm' | 'early';
  /** Per tool round: the wait from the round's last tool result to the LLM's first text (the next LLM round). */
  llmAfterTools?: { from: number; to: number };
}

export type PhaseDurations = Partial<Record<PhaseId, number>>;

function mark(record: TurnRecord, name: keyof TurnRecord): number | undefined {
  const value = record[name];
  return typeof value === 'number' && Number.isFinite(value) ? value - record.promptReceivedAt : undefined;
}

/** The turn's tool calls that carry a usable duration. */
export function toolTimings(record: TurnRecord): ToolTiming[] {
  return (record.tools ?? []).filter((t) => typeof t.durationMs === 'number' && Number.isFinite(t.durationMs) && Number.isFinite(t.startedAt));
}

/** The segments of one turn; a mark out of order (a clock step) is held at the mark before it, never negative. */
export function breakdown(record: TurnRecord): TurnBreakdown {
  const request = mark(record, 'llmRequestSentAt');
  const firstToken = mark(record, 'llmFirstTokenAt');
  const firstText = mark(record, 'llmFirstTextAt');
  const firstPost = mark(record, 'firstTokenPostedAt');
  const llmLast = mark(record, 'llmLastTokenAt');
  const lastPost = mark(record, 'lastTokenPostedAt');
  const interrupted = mark(record, 'interruptedAt');

  const segments: Segment[] = [];
  let at = 0;
  const stop = firstPost ?? Number.POSITIVE_INFINITY;
  const push = (id: SegmentId, to: number) => {
    const end = Math.max(at, to);
    segments.push({ id, from: at, to: end });
    at = end;
  };

  // The path to the first word. A phase whose end mark is missing lasted until the first post, if there was one
  // (an LLM that failed before its first token, then the apology), and the path ends there.
  const path: [SegmentId, number | undefined][] = [
    ['preLlm', request],
    ['llmFirstToken', firstToken],
    ['toolRounds', firstText],
  ];
  for (const [id, end] of path) {
    if (at >= stop) break;
    if (end === undefined) {
      if (firstPost !== undefined) push(id, firstPost);
      break;
    }
    // A zero-length tool round (the LLM's first chunk was text) is not a phase the turn went through.
    if (id === 'toolRounds' && end <= at) continue;
    push(id, Math.min(end, stop));
  }
  const reachedText = firstText !== undefined && firstText <= stop;
  let firstWordFrom: TurnBreakdown['firstWordFrom'];
  if (firstPost !== undefined) {
    if (reachedText) push('postOverhead', firstPost);
    firstWordFrom = reachedText ? 'llm' : 'early';
  }

  // After the first word: the LLM still generating, then our tail once it has finished.
  if (firstPost !== undefined) {
    const end = lastPost ?? (interrupted !== undefined && interrupted > firstPost ? interrupted : undefined);
    if (end !== undefined) {
      const llmDone = llmLast !== undefined && lastPost !== undefined ? Math.min(Math.max(llmLast, at), end) : end;
      if (llmDone > at) push('streaming', llmDone);
      if (lastPost !== undefined && llmLast !== undefined) push('tailLag', lastPost);
    }
  }

  const phases: PhaseDurations = {};
  for (const s of segments) phases[s.id] = (phases[s.id] ?? 0) + (s.to - s.from);
  if (firstPost !== undefined) phases.firstWord = Math.max(0, firstPost);
  if (lastPost !== undefined && firstPost !== undefined) phases.wholeTurn = at;

  const result: TurnBreakdown = { segments, phases };
  if (firstWordFrom) result.firstWordFrom = firstWordFrom;
  const tools = toolTimings(record);
  // The tools of the rounds before the first text: the wait after the last of them is the next LLM round's.
  const ends = tools.map((t) => t.startedAt - record.promptReceivedAt + t.durationMs).filter((end) => firstText !== undefined && end <= firstText);
  if (ends.length && firstText !== undefined) result.llmAfterTools = { from: Math.max(...ends), to: firstText };
  return result;
}

/** The phase durations (ms) of one turn. */
export function turnPhases(record: TurnRecord): PhaseDurations {
  return breakdown(record).phases;
}

/** Whether the caller cut in on this turn. */
export function wasInterrupted(record: TurnRecord): boolean {
  return typeof record.interruptedAt === 'number' || record.outcome === 'interrupted';
}
