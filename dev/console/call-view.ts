import type { ChatMessage } from '../../layers/data/messages.ts';
import type { Session } from '../../layers/data/sessions.ts';
import type { TurnRecord } from '../../layers/data/turns.ts';
import { buildReport } from '../../scripts/latency/report.ts';
import { axisDomain, renderWaterfall } from '../../scripts/latency/waterfall.ts';
import { turnLine } from '../local/turn-line.ts';

/**
 * What the console shows of a call, built from what the app stored: the transcript (with tool calls and their
 * results, interruptions and handoffs) and the same waterfall and turn lines as `npm run latency` and `npm start`.
 */
export interface TranscriptEntry {
  who: 'caller' | 'keypad' | 'app' | 'tool-call' | 'tool-result';
  text: string;
  turn: number;
  interrupted?: boolean;
  tool?: string;
}

export interface CallSummary {
  sessionId: string;
  callSid: string;
  useCaseId: string;
  from: string;
  createdAt: string;
  status: string;
  turns: number;
  outcome?: string | undefined;
  handoffData?: string | undefined;
}

export function summarize(session: Session): CallSummary {
  return {
    sessionId: session.sessionId,
    callSid: session.callSid,
    useCaseId: session.useCaseId,
    from: session.from,
    createdAt: session.createdAt,
    status: session.status,
    turns: session.ledger.turnCount,
    outcome: session.outcome,
    handoffData: session.handoffData,
  };
}

export function transcript(messages: ChatMessage[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  for (const m of messages) {
    if (m.role === 'user') entries.push({ who: m.source === 'dtmf' ? 'keypad' : 'caller', text: m.content ?? '', turn: m.turn });
    else if (m.role === 'tool') entries.push({ who: 'tool-result', text: m.content ?? '', turn: m.turn, tool: m.toolName ?? '' });
    else {
      if (m.content) entries.push({ who: 'app', text: m.content, turn: m.turn, ...(m.interrupted ? { interrupted: true } : {}) });
      for (const call of m.toolCalls ?? []) entries.push({ who: 'tool-call', text: call.arguments, turn: m.turn, tool: call.name });
    }
  }
  return entries;
}

export interface Latency {
  /** The call's waterfall (SVG markup, escaped by the renderer). */
  svg: string;
  lines: string[];
}

export function latency(session: Pick<Session, 'sessionId' | 'callSid' | 'useCaseId' | 'createdAt'>, records: TurnRecord[]): Latency {
  const turns = [...records].sort((a, b) => a.turn - b.turn);
  const report = buildReport([{ sessionId: session.sessionId, callSid: session.callSid, useCaseId: session.useCaseId, startedAt: session.createdAt, turns }], {
    source: 'console',
    selection: session.sessionId,
  });
  const svg = renderWaterfall([{ title: `Call ${session.callSid}`, detail: `session ${session.sessionId}`, turns: report.turns }], axisDomain(report.turns));
  return { svg, lines: turns.map(turnLine) };
}
