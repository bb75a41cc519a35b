import { spread, type Spread } from './stats.ts';
import type { CallLog, ReceivedFrame, TurnOutcome } from './load-caller.ts';
import type { TurnFate } from './load-plan.ts';
import { callsNamed, markersIn, utterance, utteranceTurn } from './load-markers.ts';

/**
 * The reply-ownership figures of a load run, computed from what the callers received, what the LLM server was
 * asked and what the table holds afterwards. Pure: the smoke test feeds it hand-made runs with known answers.
 */
export interface ServedRequest {
  /** Arrival order at the LLM server, the `r` of the reply's markers. */
  id: number;
  /** The call and turn the request's last user message names. */
  call?: number;
  turn?: number;
  messages: { role: string; content: string | null }[];
  /** The text the LLM server streamed for it. */
  sent: string;
}

export interface StoredMessage {
  role: string;
  content: string | null;
  interrupted?: boolean;
}

export interface CallEvidence extends CallLog {
  /** The call's chat history as the table holds it after the run, in sort-key order. */
  stored: StoredMessage[];
  /** DynamoDB read requests on the call's session partition while its turns ran. */
  reads: number;
}

export interface OwnershipFigures {
  turns: number;
  planned: Record<TurnFate, number>;
  outcomes: Record<TurnOutcome, number>;
  /** Interrupts sent after the reply's `last: true` had arrived (the caller was still hearing it). */
  interruptedAfterLast: number;
  /** Interrupted turns: the stored reply is exactly `utteranceUntilInterrupt`, the whole reply, something else, absent, or stored more than once. */
  storedAsHeard: { interrupted: number; exact: number; full: number; other: number; missing: number; several: number };
  /** Frames of an older turn's reply that reached the caller after a newer turn's reply had started. */
  lateFrames: { total: number; maxPerReply: number; replies: number };
  /** The first LLM request of every turn after the first, against the turn before it. */
  nextRequests: { checked: number; missingUser: number; missingReply: number; wrongReply: number; noRequest: number; extraRequests: number };
  /** Replies that reached the caller, by the number of `last: true` frames among theirs; complete turns apart. */
  lastFlags: { replies: number; exactlyOne: number; none: number; several: number; completeNotOne: number };
  crossSession: { frames: number; messages: number };
  duplicates: { user: number; assistant: number };
  reads: { total: number; turns: number; perTurn?: Spread };
  /** The first examples of each kind of failure, for the terminal. */
  examples: string[];
}

const MAX_EXAMPLES = 30;

const isPrefix = (prefix: string, text: string) => text.startsWith(prefix);

/** Assistant messages holding the reply of a call's turn (any request of it). */
function repliesOf(stored: readonly StoredMessage[], call: number, turn: number): StoredMessage[] {
  return stored.filter((m) => m.role === 'assistant' && markersIn(m.content ?? '').some((k) => k.call === call && k.turn === turn));
}

function textOfTurn(frames: readonly ReceivedFrame[], call: number, turn: number): string {
  return frames
    .filter((f) => f.call === call && f.turn === turn)
    .map((f) => f.token)
    .join('');
}

export function ownershipFigures(calls: readonly CallEvidence[], requests: readonly ServedRequest[]): OwnershipFigures {
  const examples: string[] = [];
  const note = (line: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(line);
  };
  const figures: OwnershipFigures = {
    turns: 0,
    planned: { complete: 0, interrupt: 0, supersede: 0 },
    outcomes: { complete: 0, interrupted: 0, superseded: 0, fallback: 0, 'no-reply': 0 },
    interruptedAfterLast: 0,
    storedAsHeard: { interrupted: 0, exact: 0, full: 0, other: 0, missing: 0, several: 0 },
    lateFrames: { total: 0, maxPerReply: 0, replies: 0 },
    nextRequests: { checked: 0, missingUser: 0, missingReply: 0, wrongReply: 0, noRequest: 0, extraRequests: 0 },
    lastFlags: { replies: 0, exactlyOne: 0, none: 0, several: 0, completeNotOne: 0 },
    crossSession: { frames: 0, messages: 0 },
    duplicates: { user: 0, assistant: 0 },
    reads: { total: 0, turns: 0 },
    examples,
  };
  const sentBy = new Map(requests.map((r) => [r.id, r.sent]));
  const requestsOf = new Map<string, ServedRequest[]>();
  for (const r of requests) {
    if (r.call === undefined) continue;
    const key = `${r.call}/${r.turn}`;
    requestsOf.set(key, [...(requestsOf.get(key) ?? []), r]);
  }
  const readsPerTurn: number[] = [];

  for (const call of calls) {
    const c = call.call;
    const outcomeOf = new Map(call.turns.map((t) => [t.turn, t]));
    figures.turns += call.turns.length;
    for (const t of call.turns) {
      figures.planned[t.planned]++;
      figures.outcomes[t.outcome]++;
      if (t.afterLast) figures.interruptedAfterLast++;
    }

    // Frames on the wire: another call's words, late frames of an older reply, last:true per reply.
    let newestTurn = 0;
    const late = new Map<number, number>();
    const lastsByRequest = new Map<number, { turn: number; lasts: number }>();
    for (const frame of call.frames) {
      if (frame.call === undefined || frame.turn === undefined || frame.request === undefined) continue;
      if (frame.call !== c) {
        figures.crossSession.frames++;
        note(`call ${c}: received a frame of call ${frame.call}: ${JSON.stringify(frame.token.slice(0, 40))}`);
        continue;
      }
      if (frame.turn < newestTurn) late.set(frame.request, (late.get(frame.request) ?? 0) + 1);
      newestTurn = Math.max(newestTurn, frame.turn);
      const entry = lastsByRequest.get(frame.request) ?? { turn: frame.turn, lasts: 0 };
      if (frame.last) entry.lasts++;
      lastsByRequest.set(frame.request, entry);
    }
    for (const [request, count] of late) {
      figures.lateFrames.total += count;
      figures.lateFrames.replies++;
      figures.lateFrames.maxPerReply = Math.max(figures.lateFrames.maxPerReply, count);
      note(`call ${c}: ${count} frame(s) of request r${request} after a newer reply's first frame`);
    }
    for (const [request, { turn, lasts }] of lastsByRequest) {
      figures.lastFlags.replies++;
      if (lasts === 1) figures.lastFlags.exactlyOne++;
      else if (lasts === 0) figures.lastFlags.none++;
      else figures.lastFlags.several++;
      if (lasts === 1) continue;
      const outcome = outcomeOf.get(turn)?.outcome;
      if (outcome === 'complete') figures.lastFlags.completeNotOne++;
      note(`call ${c} turn ${turn}: ${outcome ?? 'unplanned'} reply r${request} had ${lasts} last:true frames`);
    }

    // The table afterwards: interrupted replies as heard, other sessions' words, duplicates.
    for (const t of call.turns) {
      if (t.outcome !== 'interrupted') continue;
      figures.storedAsHeard.interrupted++;
      const stored = repliesOf(call.stored, c, t.turn);
      if (stored.length === 0) {
        figures.storedAsHeard.missing++;
        note(`call ${c} turn ${t.turn}: interrupted reply not stored at all`);
      } else if (stored.length > 1) {
        figures.storedAsHeard.several++;
        note(`call ${c} turn ${t.turn}: interrupted reply stored ${stored.length} times`);
      } else {
        const content = stored[0]!.content ?? '';
        const request = markersIn(content)[0]?.request;
        if (content === t.heard) figures.storedAsHeard.exact++;
        else if (request !== undefined && content === sentBy.get(request)) {
          figures.storedAsHeard.full++;
          note(`call ${c} turn ${t.turn}: interrupted reply stored in full (${markersIn(content).length} words; heard ${markersIn(t.heard ?? '').length})`);
        } else {
          figures.storedAsHeard.other++;
          note(`call ${c} turn ${t.turn}: stored ${JSON.stringify(content.slice(-30))}, heard ${JSON.stringify((t.heard ?? '').slice(-30))}`);
        }
      }
    }
    const userTurns = new Map<number, number>();
    const assistantTurns = new Map<number, number>();
    for (const m of call.stored) {
      const text = m.content ?? '';
      if ([...callsNamed(text)].some((other) => other !== c)) {
        figures.crossSession.messages++;
        note(`call ${c}: stored a ${m.role} message naming another call: ${JSON.stringify(text.slice(0, 40))}`);
      }
      if (m.role === 'user') {
        const named = utteranceTurn(text);
        if (named?.call === c) userTurns.set(named.turn, (userTurns.get(named.turn) ?? 0) + 1);
      } else if (m.role === 'assistant') {
        for (const turn of new Set(markersIn(text).filter((k) => k.call === c).map((k) => k.turn))) assistantTurns.set(turn, (assistantTurns.get(turn) ?? 0) + 1);
      }
    }
    for (const [turn, n] of userTurns) if (n > 1) (figures.duplicates.user += n - 1), note(`call ${c} turn ${turn}: caller message stored ${n} times`);
    for (const [turn, n] of assistantTurns) if (n > 1) (figures.duplicates.assistant += n - 1), note(`call ${c} turn ${turn}: reply stored ${n} times`);

    // The next LLM request of every turn: the previous turn's user message and the part of its reply heard.
    for (const t of call.turns) {
      const sent = requestsOf.get(`${c}/${t.turn}`) ?? [];
      if (sent.length === 0) {
        if (t.outcome !== 'no-reply') note(`call ${c} turn ${t.turn}: no LLM request`);
        figures.nextRequests.noRequest += t.turn > 1 ? 1 : 0;
        continue;
      }
      figures.nextRequests.extraRequests += sent.length - 1;
      if (t.turn === 1) continue;
      const previous = outcomeOf.get(t.turn - 1);
      if (!previous) continue;
      const request = sent[0]!;
      figures.nextRequests.checked++;
      const said = utterance(c, t.turn - 1);
      if (!request.messages.some((m) => m.role === 'user' && (m.content ?? '').includes(said))) {
        figures.nextRequests.missingUser++;
        note(`call ${c} turn ${t.turn}: request r${request.id} lacks the caller's turn ${t.turn - 1}`);
      }
      // An unanswered turn, or one the engine answered with its own line, has no LLM reply to carry.
      if (previous.outcome === 'no-reply' || previous.outcome === 'fallback') continue;
      const candidates = request.messages.filter((m) => m.role === 'assistant' && markersIn(m.content ?? '').some((k) => k.call === c && k.turn === t.turn - 1));
      const received = textOfTurn(call.frames, c, t.turn - 1);
      const fits = (content: string): boolean => {
        switch (previous.outcome) {
          case 'interrupted':
            return content === previous.heard;
          case 'superseded':
            return content.length > 0 && isPrefix(previous.heardBeforeSupersede ?? '', content) && isPrefix(content, received);
          default:
            return content === received;
        }
      };
      if (candidates.length === 0) {
        figures.nextRequests.missingReply++;
        note(`call ${c} turn ${t.turn}: request r${request.id} lacks the ${previous.outcome} reply of turn ${t.turn - 1}`);
      } else if (!candidates.some((m) => fits(m.content ?? ''))) {
        figures.nextRequests.wrongReply++;
        note(`call ${c} turn ${t.turn}: request r${request.id} carries turn ${t.turn - 1}'s ${previous.outcome} reply as ${JSON.stringify((candidates[0]!.content ?? '').slice(-30))}, not as heard`);
      }
    }

    figures.reads.total += call.reads;
    figures.reads.turns += call.turns.length;
    if (call.turns.length > 0) readsPerTurn.push(call.reads / call.turns.length);
  }
  const perTurn = spread(readsPerTurn);
  if (perTurn) figures.reads.perTurn = perTurn;
  return figures;
}

/** The figures that must be zero (or whole) for the engine to own its replies correctly. */
export function ownershipProblems(f: OwnershipFigures): string[] {
  const problems: string[] = [];
  const s = f.storedAsHeard;
  if (s.exact !== s.interrupted) problems.push(`${s.interrupted - s.exact} of ${s.interrupted} interrupted replies not stored as heard`);
  if (f.lateFrames.maxPerReply > 1) problems.push(`up to ${f.lateFrames.maxPerReply} frames of an older reply after a newer reply's first frame`);
  const n = f.nextRequests;
  if (n.missingUser > 0) problems.push(`${n.missingUser} of ${n.checked} next LLM requests lack the previous caller message`);
  if (n.missingReply + n.wrongReply > 0) problems.push(`${n.missingReply + n.wrongReply} of ${n.checked} next LLM requests lack the previous reply as heard`);
  if (f.lastFlags.none + f.lastFlags.several > 0) problems.push(`${f.lastFlags.none + f.lastFlags.several} of ${f.lastFlags.replies} replies without exactly one last:true`);
  if (f.crossSession.frames + f.crossSession.messages > 0) problems.push('words of one call reached another');
  if (f.duplicates.user + f.duplicates.assistant > 0) problems.push(`${f.duplicates.user + f.duplicates.assistant} duplicate messages stored`);
  if (f.outcomes['no-reply'] > 0) problems.push(`${f.outcomes['no-reply']} turns went unanswered`);
  if (f.outcomes.fallback > 0) problems.push(`${f.outcomes.fallback} turns answered by the engine's fallback line instead of the LLM`);
  return problems;
}
