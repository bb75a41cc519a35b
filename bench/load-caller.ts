import { setTimeout as sleep } from 'node:timers/promises';
import type { RelayCall, TextFrame } from '../dev/caller/relay-call.ts';
import { preciseNow } from '../dev/llm/index.ts';
import type { PlannedTurn, TurnFate } from './load-plan.ts';
import { markersIn, utterance } from './load-markers.ts';

/**
 * One simulated caller of a load run: says each turn's prompt, and per its plan lets the reply finish, cuts in
 * once the planned number of words has arrived (`interrupt` with exactly those words) or speaks again while the
 * reply is still streaming (a superseding `prompt` once the planned words have arrived, unless `last: true` came
 * with them). Records
 * every text frame as it arrived, attributed to the reply its words name.
 */
export interface ReceivedFrame extends TextFrame {
  /** The reply the frame belongs to; an empty frame (a closing `last: true`) belongs to the reply before it. */
  call?: number;
  turn?: number;
  request?: number;
  words: number;
  /** Words the LLM never wrote: the engine's own spoken line (an apology after a failed LLM request). */
  engineLine?: boolean;
}

/**
 * What actually happened: a supersede planned after more words than arrived before `last: true` is a finished
 * turn; `fallback` is a turn answered by the engine's own line (its apology) instead of the LLM's reply.
 */
export type TurnOutcome = 'complete' | 'interrupted' | 'superseded' | 'fallback' | 'no-reply';

export interface TurnLog {
  call: number;
  turn: number;
  planned: TurnFate;
  outcome: TurnOutcome;
  promptSentAt: number;
  /** Interrupted: the `utteranceUntilInterrupt` sent: the reply's first words, up to the planned cut. */
  heard?: string;
  /** Interrupted after the reply's `last: true` had arrived (its speech still going on). */
  afterLast?: boolean;
  /** Superseded: the words of the reply received before the newer prompt was sent. */
  heardBeforeSupersede?: string;
}

export interface CallLog {
  call: number;
  sessionId: string;
  frames: ReceivedFrame[];
  turns: TurnLog[];
}

export interface DriveOptions {
  /** Pause between the end of a reply (its `last: true`, or the interrupt) and the next prompt. */
  thinkMs: number;
  /** Longest wait for a reply (or for the words a cut waits for) before the turn counts as unanswered. */
  replyTimeoutMs: number;
}

/** A frame belongs to the reply its words name; one without words (a closing `last: true`) to the frame before. */
export function attributeFrame(frame: TextFrame, previous: ReceivedFrame | undefined): ReceivedFrame {
  const marks = markersIn(frame.token);
  const received: ReceivedFrame = { ...frame, words: marks.length };
  if (marks.length === 0 && frame.token.trim().length > 0) return { ...received, engineLine: true };
  if (marks[0]) return { ...received, call: marks[0].call, turn: marks[0].turn, request: marks[0].request };
  if (previous?.engineLine) return { ...received, engineLine: true };
  if (previous?.call !== undefined) Object.assign(received, { call: previous.call, turn: previous.turn, request: previous.request });
  return received;
}

/** The frames of one call, with waits that wake on each new frame. */
class FrameLog {
  readonly frames: ReceivedFrame[] = [];
  private waiters = new Set<() => void>();

  add(frame: TextFrame): void {
    this.frames.push(attributeFrame(frame, this.frames[this.frames.length - 1]));
    for (const wake of [...this.waiters]) wake();
  }

  ofTurn(call: number, turn: number): ReceivedFrame[] {
    return this.frames.filter((f) => f.call === call && f.turn === turn);
  }

  until(test: () => boolean, timeoutMs: number): Promise<boolean> {
    if (test()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = () => {
        if (test()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
    });
  }
}

export const textOf = (frames: readonly ReceivedFrame[]) => frames.map((f) => f.token).join('');

/** The text up to the end of its `count`-th marked word (the whole text when it has fewer). */
export function firstWords(text: string, count: number): string {
  const words = [...text.matchAll(/\S+/g)];
  const last = words[Math.min(count, words.length) - 1];
  return last ? text.slice(0, last.index + last[0].length) : '';
}

export async function driveCall(call: RelayCall, sessionId: string, plan: readonly PlannedTurn[], options: DriveOptions): Promise<CallLog> {
  const log = new FrameLog();
  call.on('text', (frame: TextFrame) => log.add(frame));
  const turns: TurnLog[] = [];
  let sentAhead: number | undefined;
  for (const planned of plan) {
    const { call: n, turn } = planned;
    const promptSentAt = sentAhead ?? preciseNow();
    if (sentAhead === undefined) call.say(utterance(n, turn));
    sentAhead = undefined;
    const frames = () => log.ofTurn(n, turn);
    const closed = () => frames().some((f) => f.last);
    const apologised = () => log.frames.some((f) => f.engineLine && f.last && f.at >= promptSentAt);
    const words = () => frames().reduce((sum, f) => sum + f.words, 0);
    const entry: TurnLog = { call: n, turn, planned: planned.fate, outcome: 'complete', promptSentAt };
    turns.push(entry);
    const cut = planned.cutAfterWords;
    if (planned.fate === 'complete') {
      if (!(await log.until(() => closed() || apologised(), options.replyTimeoutMs))) entry.outcome = 'no-reply';
      else if (!closed()) entry.outcome = 'fallback';
    } else if (!(await log.until(() => apologised() || words() >= cut || closed(), options.replyTimeoutMs))) {
      entry.outcome = 'no-reply';
    } else if (words() < cut && !closed()) {
      entry.outcome = 'fallback';
    } else if (planned.fate === 'interrupt') {
      // Speech runs behind the frames: the caller cuts in having heard the first words, even when the frame that
      // brought them brought more, or the whole reply.
      const heard = firstWords(textOf(frames()), cut);
      entry.outcome = 'interrupted';
      entry.heard = heard;
      entry.afterLast = closed();
      call.interrupt(heard, Math.round(preciseNow() - frames()[0]!.at));
    } else if (!closed()) {
      entry.outcome = 'superseded';
      entry.heardBeforeSupersede = textOf(frames());
      sentAhead = preciseNow();
      call.say(utterance(n, turn + 1));
      continue;
    }
    if (options.thinkMs > 0 && planned !== plan[plan.length - 1]) await sleep(options.thinkMs);
  }
  return { call: plan[0]?.call ?? 0, sessionId, frames: log.frames, turns };
}
