import type { TurnRecord } from '../../layers/data/turns.ts';
import { breakdown, toolTimings, type SegmentId } from '../../scripts/latency/phases.ts';

/**
 * The one line `npm start` prints per turn: the same segments `npm run latency` and the waterfall use, so the
 * parts add up to the first word and then to the whole turn, and the words "ours" mark only our own code.
 */
const SHORT: Record<SegmentId, string> = {
  preLlm: 'before LLM (ours)',
  llmFirstToken: 'LLM first token',
  toolRounds: 'tools',
  postOverhead: 'posting (ours)',
  streaming: 'streaming',
  tailLag: 'tail (ours)',
};

const ms = (n: number) => `${Math.round(n)}`;

/** What was heard first when it was not an LLM token. */
function earlyWhat(r: TurnRecord): string {
  if (r.outcome === 'failed') return 'an apology';
  return r.kind === 'dtmf' ? 'the keypad line' : 'a filler';
}

export function turnLine(r: TurnRecord): string {
  const parts = breakdown(r);
  const sum = (ids: SegmentId[]) =>
    parts.segments
      .filter((s) => ids.includes(s.id))
      .map((s) => `${SHORT[s.id]} ${ms(s.to - s.from)}${s.id === 'preLlm' && r.historyWaitMs ? ` (waiting ${ms(r.historyWaitMs)} for the last turn's history)` : ''}`)
      .join(' + ');
  const head = `turn ${r.turn} [${r.useCaseId}] ${r.kind === 'dtmf' ? 'keypad' : 'prompt'} ${r.outcome}`;
  const pieces: string[] = [];
  if (r.error) pieces.push(r.error);
  const path = sum(['preLlm', 'llmFirstToken', 'toolRounds', 'postOverhead']);
  if (parts.phases.firstWord !== undefined) {
    const early = parts.firstWordFrom === 'early' ? ` (${earlyWhat(r)})` : '';
    pieces.push(`first word ${ms(parts.phases.firstWord)} ms${early} = ${path || '0'}`);
    const rest = sum(['streaming', 'tailLag']);
    if (rest) pieces.push(`then ${rest}`);
  } else {
    pieces.push(path ? `no reply after ${path}` : 'no reply');
  }
  // Tool calls on their own: they may run across phases (a tool after the first words is part of the streaming).
  const tools = toolTimings(r).map((t) => `${t.name} ${ms(t.durationMs)}${t.timedOut ? ' timed out' : t.ok ? '' : ' failed'}`);
  if (parts.llmAfterTools) tools.push(`LLM after tools ${ms(parts.llmAfterTools.to - parts.llmAfterTools.from)}`);
  if (tools.length) pieces.push(`tool calls: ${tools.join(', ')}`);
  pieces.push(`${r.posts ?? 0} posts`);
  if (r.preempted && r.llmRequestSentAt !== undefined) {
    pieces.push(`preempted: LLM asked ${ms(r.promptReceivedAt - r.llmRequestSentAt)} ms before the final prompt (${r.speculations ?? 1} speculative request(s))`);
  } else if (r.speculations) {
    pieces.push(`${r.speculations} speculative request(s) wasted`);
  }
  return `${head}: ${pieces.join('; ')}`;
}
