import { DEFAULT_FINISH_KEY, digitEntryDeadline, type DigitEntry, type DigitEntryEnd, type DigitEntrySpec } from '../../../../layers/data/digit-entry.ts';
import type { Ledger, LedgerConnection, LedgerTurn, Speculation } from '../../../../layers/data/turn-ledger.ts';
import { comparable, utteranceSoFar, type MatchRule } from '../utterance.ts';
import type { HeldWords } from './heard.ts';

/**
 * The turn ledger's protocol: who owns the reply, what became of each turn, and when a turn's history is complete.
 * Every ConversationRelay frame is its own invocation, so a streaming reply, an `interrupt`, a newer `prompt` and
 * the next turn's history read meet only in the table. They all go through `decide`: a pure function from the
 * ledger they read and an event to the ledger to write (compare-and-set on the version read) and a verdict. The
 * adapters only read and compare-and-set; no decision about reply ownership is made anywhere else.
 *
 * Invariants (docs/TURN-LEDGER.md; each has a test in tests/engine/ledger*.test.ts):
 * 1. One reply owner: the newest claimed turn. A turn that no longer owns the reply posts nothing more (at most
 *    the one post already in flight when it learns).
 * 2. Turn N+1's LLM request holds turn N's caller words and exactly what the caller heard of turn N's reply:
 *    a turn whose history is not committed makes the next one wait for it (or carry it from here).
 * 3. What is stored as heard is a prefix of what was posted (engine/ledger/heard.ts).
 * 4. A partial prompt received before a claimed prompt never leaks into a later turn.
 * 5. One connection at a time: a reconnect within the grace replaces the dropped connection (a new generation);
 *    a late $disconnect of a replaced connection changes nothing; a prompt Twilio replays after the reconnect is
 *    answered once.
 * 6. A speculative turn (preemptive generation) posts nothing and runs no tool until a claim adopts it; a claim
 *    adopts it only when the final utterance matches the one it answers, and nothing else confirms it.
 * 7. A tool round counts only while its turn owns the reply at the read after its results (`toolRoundVerdict`):
 *    it is stored whole (tool call and results) or not at all, and a dropped round's actions are never carried out.
 */

/** What happens to the ledger. Times are when the frame reached us (API Gateway's request time in AWS). */
export type LedgerEvent =
  /**
   * A final prompt (or key press) starts a turn. `key` is the utterance in comparable form: a running speculation
   * with the same key is adopted. `adoptOnly`: claim only by adopting (nothing is written otherwise).
   */
  | { type: 'claim'; promptAt: number; userText: string; key?: string | undefined; adoptOnly?: boolean }
  /** The caller cut in, having heard `heard` of the reply that was playing when the frame was received. */
  | { type: 'interrupt'; at: number; heard: string; heardMs?: number | undefined }
  /** A turn has written all its messages; `heardApplied` when its stored reply already holds only the heard part. */
  | {
      type: 'commit';
      turn: number;
      replyMessageId?: string | undefined;
      heardApplied: boolean;
      spokenBefore?: string | undefined;
      /** The messages holding the words of `spokenBefore` (ranges of it). */
      held?: readonly HeldWords[] | undefined;
      lastMessageId?: string | undefined;
    }
  /** The interrupt handler rewrote a committed reply to what was heard. */
  | { type: 'heard-applied'; turn: number }
  /** A partial prompt (`last: false`); `match` compares the utterance so far with a running speculation's. */
  | { type: 'partial'; at: number; text: string; match?: MatchRule | undefined }
  /** A stable partial: start a speculative turn `id` for the utterance `key`, if the cap and the state allow. */
  | { type: 'speculate'; id: string; at: number; key: string; max: number }
  /** A speculative turn gives up (no confirmation in time, or its LLM request failed). */
  | { type: 'speculation-end'; id: string }
  /** The call ended: whatever is streaming stops. */
  | { type: 'end' }
  /** A turn never committed (its invocation died): later turns stop waiting for it and take what the ledger has. */
  | { type: 'abandon'; turn: number }
  /**
   * A keypad key or a tool starts a multi-digit entry (replacing one in progress). `timed`: the call timer will
   * end it at its deadline. `retry`: the second try after an incomplete entry's line.
   */
  | { type: 'digits-start'; at: number; spec: DigitEntrySpec; timed?: boolean; retry?: boolean }
  /** A key was pressed. `timed`: this invocation arms the call timer at the entry's new deadline. */
  | { type: 'digit'; at: number; digit: string; timed?: boolean }
  /**
   * The turn that opened an entry (a keypad line, or the LLM's words after a tool's `collectDigits`) is spoken
   * until `at`: the caller starts typing after that, so the timeout counts from then. The call timer owns it.
   */
  | { type: 'digits-arm'; at: number }
  /** Something other than a key arrived (a final prompt), or a timer fired: a pending entry ends if it is over. */
  | { type: 'digits-check'; at: number; spoke: boolean }
  /**
   * A signed $connect for the session. `bound`: this connection just bound a `created` session (the call's first
   * connection); otherwise it asks to replace the session's connection (a reconnect). `graceMs` is recorded with
   * the first connection. `previousGone`: API Gateway says the current connection no longer exists (its
   * $disconnect has not landed yet).
   */
  | { type: 'connect'; connectionId: string; at: number; bound: boolean; graceMs: number; previousGone?: boolean | undefined }
  /** $disconnect of a connection. */
  | { type: 'disconnect'; connectionId: string; at: number }
  /**
   * Turn `turn`'s reply (turn 0: the greeting) has been spoken (estimated): the caller's silence counts until
   * `dueAt`. `afterMs` is the use case's silence, for a speaker event that says when the speech really ended.
   */
  | { type: 'silence-arm'; turn: number; dueAt: number; afterMs?: number | undefined }
  /** A speaker event: ConversationRelay says the agent started (`speaking`) or stopped speaking at `at`. */
  | { type: 'agent-speech'; speaking: boolean; at: number }
  /** A speaker event: the caller started speaking (before any prompt says what). */
  | { type: 'caller-speech'; at: number }
  /** The call timer's grace check for connection generation `gen`: the call ends if it has not reconnected. */
  | { type: 'grace-due'; gen: number; at: number }
  /**
   * A silence check of the call timer fired. `maxReprompts` reached means goodbye; otherwise the next reprompt, after which the
   * silence counts until `nextDueAt`.
   */
  | { type: 'silence-due'; turn: number; round: number; at: number; maxReprompts: number; nextDueAt: number };

export type Verdict =
  | { type: 'claimed'; turn: number; pieces: string[]; adopted?: string }
  /** `adoptOnly` and there was nothing to adopt: the prompt runs a turn of its own. */
  | { type: 'not-adopted' }
  | { type: 'speculating' }
  | { type: 'speculation-refused'; reason: 'late' | 'stale' | 'cap' | 'running' | 'history' }
  /** What became of a speculation that tried to end: adopted meanwhile (go on as that turn), or now dropped. */
  | { type: 'speculation-confirmed'; turn: number }
  | { type: 'speculation-dropped' }
  /** A newer prompt already owns the reply: this one says nothing and stores only the caller's words. */
  | { type: 'yield'; turnCount: number }
  | { type: 'interrupt-recorded'; turn: number; rewrite?: Omit<PendingHeard, 'turn'> }
  | { type: 'interrupt-ignored'; reason: 'no-reply-yet' | 'already-recorded' | 'turn-gone' | 'reprompt' }
  | { type: 'committed'; turn: number }
  /** The committing turn must first store only the heard part of its reply, then commit again. */
  | { type: 'apply-heard'; turn: number; heard: string; heardMs?: number | undefined }
  /** A prompt Twilio replayed on the new connection that was already answered on the old one: say nothing, store nothing. */
  | { type: 'replayed'; turn: number }
  | { type: 'connected'; gen: number }
  | { type: 'reconnected'; gen: number; retired: string }
  | { type: 'connect-refused'; reason: 'not-reconnectable' | 'grace-over' | 'in-use' }
  /** The connection dropped; a reconnect is accepted until `graceUntil`. */
  | { type: 'disconnected'; graceUntil: number; gen: number }
  /** The connection dropped and the call does not reconnect: end the session. */
  | { type: 'call-over' }
  /** $disconnect of a connection that was already replaced (or already recorded as dropped): nothing changes. */
  | { type: 'disconnect-stale' }
  | { type: 'silence-armed'; dueAt: number }
  /** Say reprompt number `round` (1-based) on `connectionId`; the next timer is due at `dueAt`. */
  | { type: 'reprompt'; round: number; dueAt: number; connectionId: string }
  /** The caller stayed silent through every reprompt: say goodbye on `connectionId` and end the call. */
  | { type: 'silence-hang-up'; connectionId: string }
  /** The caller spoke, a newer turn started, the call dropped or ended, or the timer is stale: nothing to do. */
  | { type: 'silence-cancelled' }
  /** The timer fired before the silence was due (a later reprompt moved it): schedule it again for `dueAt`. */
  | { type: 'silence-not-yet'; dueAt: number }
  /** A speaker event moved the silence: the check for `turn` and `round` is now due at `dueAt`. */
  | { type: 'silence-moved'; turn: number; round: number; dueAt: number }
  /** The grace passed with no reconnect: the call is over (end the session). Repeated checks say it again. */
  | { type: 'grace-over' }
  /** The grace check fired early: schedule it again for `dueAt`. */
  | { type: 'grace-not-yet'; dueAt: number }
  /** The call reconnected (or ended) since: the grace check has nothing to do. */
  | { type: 'grace-stale' }
  | { type: 'partial-kept' }
  | { type: 'partial-late' }
  | { type: 'digits-started' }
  /**
   * The key went into the entry in progress. `dueAt`: the entry now ends there unless another key comes, and no
   * check is armed for it yet (absent when the key left the timed deadline where it was).
   */
  | { type: 'digit-collected'; digits: string; dueAt?: number }
  /** The entry's timeout is armed: the call timer checks it at `dueAt`. */
  | { type: 'digits-armed'; dueAt: number }
  /** The entry is over: its digits become one input. `retried`: it was the second try after `incompleteLine`. */
  | { type: 'digits-complete'; spec: DigitEntrySpec; digits: string; reason: DigitEntryEnd; retried?: boolean }
  /** No entry in progress: the key means what the keypad map says. */
  | { type: 'digit-free' }
  | { type: 'noop' };

export interface Decision {
  /** The ledger to compare-and-set at the version that was read; absent when nothing changes. */
  next?: Ledger;
  verdict: Verdict;
}

/** The item stays small: only the end of what was said before a reply is needed to align what was heard. */
export const MAX_SPOKEN_BEFORE = 2_000;

/** How many decided interrupts the ledger remembers (by arrival), so that none is decided twice. */
export const KEPT_INTERRUPTS = 8;

/** How many committed turns the ledger keeps (the next turn needs only the last few). */
export const KEPT_TURNS = 4;

/**
 * Twilio replays buffered events as soon as the new socket opens: a final prompt this soon after a reconnect that
 * repeats, word for word, a prompt already answered on the old connection is that prompt again. Later than this,
 * the same words are the caller speaking again.
 */
export const REPLAY_WINDOW_MS = 2_000;

export function decide(ledger: Ledger, event: LedgerEvent): Decision {
  switch (event.type) {
    case 'claim':
      return claim(ledger, event);
    case 'interrupt':
      return interrupt(ledger, event.at, event.heard, event.heardMs);
    case 'speculate':
      return speculate(ledger, event);
    case 'speculation-end': {
      const standing = speculationStanding(ledger, '', event.id);
      if (standing.type === 'confirmed') return { verdict: { type: 'speculation-confirmed', turn: standing.turn } };
      if (ledger.speculation?.id !== event.id || ledger.speculation.state !== 'running') return { verdict: { type: 'speculation-dropped' } };
      return write(ledger, { speculation: { ...ledger.speculation, state: 'dropped' } }, { type: 'speculation-dropped' });
    }
    case 'commit':
      return commit(ledger, event);
    case 'heard-applied': {
      const turn = ledger.turns[event.turn];
      if (!turn || turn.heardApplied) return { verdict: { type: 'noop' } };
      return write(ledger, { turns: { ...ledger.turns, [event.turn]: { ...turn, heardApplied: true } } }, { type: 'noop' });
    }
    case 'partial': {
      if (ledger.partialsUntil !== undefined && event.at < ledger.partialsUntil) return { verdict: { type: 'partial-late' } };
      const partial = [...(ledger.partial ?? []), { at: event.at, text: event.text }].sort((a, b) => a.at - b.at);
      // The caller went on talking: a speculation for fewer (or other) words is dropped.
      const running = ledger.speculation?.state === 'running' ? ledger.speculation : undefined;
      const changed = running && event.at > running.at && comparable(utteranceSoFar(partial.map((p) => p.text)), event.match) !== running.key;
      // The caller is speaking: the silence timer stops counting.
      return write(ledger, { partial, silence: undefined, ...(changed ? { speculation: { ...running, state: 'dropped' } } : {}) }, { type: 'partial-kept' });
    }
    case 'abandon': {
      const turn = ledger.turns[event.turn];
      if (!turn || turn.committed) return { verdict: { type: 'noop' } };
      const state = turn.state === 'streaming' ? 'ended' : turn.state;
      return write(ledger, { turns: { ...ledger.turns, [event.turn]: { ...turn, state, committed: true, abandoned: true } } }, { type: 'noop' });
    }
    case 'end': {
      const turns = mapTurns(ledger, (t) => (t.state === 'streaming' ? { ...t, state: 'ended' } : t));
      const speculation = dropRunning(ledger.speculation);
      if (!turns && speculation === ledger.speculation) return { verdict: { type: 'noop' } };
      return write(ledger, { ...(turns ? { turns } : {}), speculation }, { type: 'noop' });
    }
    case 'digits-start':
      return write(
        ledger,
        { digits: { spec: event.spec, digits: '', lastAt: event.at, ...(event.timed ? { timed: true } : {}), ...(event.retry ? { retry: true } : {}) } },
        { type: 'digits-started' },
      );
    case 'digit':
      return digit(ledger, event.at, event.digit, event.timed === true);
    case 'digits-arm': {
      const entry = ledger.digits;
      // Keys already came: each armed its own check.
      if (!entry || entry.digits !== '') return { verdict: { type: 'noop' } };
      const next: DigitEntry = { ...entry, lastAt: Math.max(entry.lastAt, event.at), timed: true };
      return write(ledger, { digits: next }, { type: 'digits-armed', dueAt: digitEntryDeadline(next) });
    }
    case 'digits-check': {
      const entry = ledger.digits;
      if (!entry) return { verdict: { type: 'noop' } };
      const over = event.at >= digitEntryDeadline(entry);
      if (!over && !event.spoke) return { verdict: { type: 'noop' } };
      return write(ledger, { digits: undefined }, complete(entry, entry.digits, over ? 'timeout' : 'spoke'));
    }
    case 'connect':
      return connect(ledger, event);
    case 'disconnect':
      return disconnect(ledger, event.connectionId, event.at);
    case 'silence-arm': {
      const entry = ledger.turns[event.turn];
      // Only after the newest turn's reply was spoken in full (an interrupted or superseded one means the caller
      // spoke), or after the greeting while the caller has not said a word (turn 0).
      const spoken = event.turn === 0 ? ledger.turnCount === 0 : entry?.state === 'finished';
      // A keypad entry is open: its timeout speaks next, and the turn it becomes arms the silence again.
      if (ledger.turnCount !== event.turn || !spoken || ledger.digits || (ledger.connection && ledger.connection.state !== 'connected')) {
        return { verdict: { type: 'silence-cancelled' } };
      }
      if (ledger.silence?.turn === event.turn) return { verdict: { type: 'silence-armed', dueAt: ledger.silence.dueAt } };
      const silence = { turn: event.turn, round: 0, dueAt: event.dueAt, ...(event.afterMs !== undefined ? { afterMs: event.afterMs } : {}) };
      return write(ledger, { silence }, { type: 'silence-armed', dueAt: event.dueAt });
    }
    case 'silence-due':
      return silenceDue(ledger, event);
    case 'agent-speech':
      return agentSpeech(ledger, event.speaking, event.at);
    case 'caller-speech':
      // The caller is talking: the silence stops counting (the prompt that follows says what they said).
      return ledger.silence ? write(ledger, { silence: undefined }, { type: 'silence-cancelled' }) : { verdict: { type: 'noop' } };
    case 'grace-due':
      return graceDue(ledger, event.gen, event.at);
  }
}

/**
 * The ledger with the session item's interrupt notes decided in, oldest first, as the interrupt events they are
 * (`changed` when one of them was not in the ledger yet), at the version read. An interrupt counts from the moment
 * its note lands, not from the moment its own compare-and-set wins: every reader sees it, and every writer writes
 * it with its own event. Deciding a note the ledger already holds changes nothing, so notes are folded in on every
 * read until the interrupt's invocation clears its own.
 */
export function foldNotes(ledger: Ledger): { ledger: Ledger; changed: boolean } {
  if (ledger.notes === undefined) return { ledger, changed: false };
  const { notes, ...rest } = ledger;
  let state: Ledger = rest;
  let changed = false;
  for (const note of [...notes].sort((a, b) => a.at - b.at)) {
    const { next } = interrupt(state, note.at, note.heard, note.heardMs);
    if (!next) continue;
    state = { ...next, v: ledger.v };
    changed = true;
  }
  return { ledger: state, changed };
}

/** `foldNotes` for a reader: the ledger as it stands once every interrupt that reached us counts. */
export const withNotes = (ledger: Ledger): Ledger => foldNotes(ledger).ledger;

/**
 * The stored reply an interrupt must still cut to what was heard: its turn is committed with this interrupt's
 * words and nobody has rewritten it yet. Asked by the interrupt's own invocation after its ledger write, whoever
 * wrote the interrupt into the ledger (it may be another writer that folded the note in).
 */
export function heardToRewrite(ledger: Ledger, at: number, heard: string): PendingHeard | undefined {
  const target = interruptTarget(ledger, at);
  if (!target) return undefined;
  const { n, t } = target;
  if (!t.committed || t.heard !== heard || t.heardApplied !== false || !t.replyMessageId) return undefined;
  return { turn: n, replyMessageId: t.replyMessageId, heard, heardMs: t.heardMs, spokenBefore: t.spokenBefore ?? '', ...(t.held ? { held: t.held } : {}) };
}

/**
 * Several events decided in order and written as one change (one version step): a partial prompt that is stable
 * at once and the speculation it starts cost one write, not two, ahead of the speculative LLM request.
 */
export function decideAll(ledger: Ledger, events: readonly LedgerEvent[]): { next?: Ledger; verdicts: Verdict[] } {
  let state = ledger;
  const verdicts: Verdict[] = [];
  for (const event of events) {
    const d = decide(state, event);
    verdicts.push(d.verdict);
    if (d.next) state = d.next;
  }
  return state === ledger ? { verdicts } : { next: { ...state, v: ledger.v + 1 }, verdicts };
}

/**
 * One key of a multi-digit entry. A key that arrives after the entry timed out ends it with what it had (the
 * timeout resolved lazily, by the next frame of the call) and is not part of it.
 */
function digit(ledger: Ledger, at: number, key: string, timed: boolean): Decision {
  const entry = ledger.digits;
  if (!entry) return { verdict: { type: 'digit-free' } };
  // With the call timer the entry ends when the timer's check lands, and a key that lands first still belongs to
  // it: one compare-and-set decides which came first, so a key racing the timeout is never lost or counted twice.
  if (!entry.timed && !timed && at >= digitEntryDeadline(entry)) {
    return write(ledger, { digits: undefined }, complete(entry, entry.digits, 'timeout'));
  }
  if (key === (entry.spec.finishOnKey ?? DEFAULT_FINISH_KEY)) {
    return write(ledger, { digits: undefined }, complete(entry, entry.digits, 'finish-key'));
  }
  // Each key is its own invocation, and a slow one (a cold start) can land after a later key: place it by arrival.
  const ats = entry.ats ?? [];
  const place = ats.filter((t) => t <= at).length;
  const digits = entry.digits.slice(0, place) + key + entry.digits.slice(place);
  if (entry.spec.maxDigits !== undefined && digits.length >= entry.spec.maxDigits) {
    return write(ledger, { digits: undefined }, complete(entry, digits, 'length'));
  }
  const next: DigitEntry = { ...entry, digits, ats: [...ats.slice(0, place), at, ...ats.slice(place)], lastAt: Math.max(entry.lastAt, at) };
  if (timed) next.timed = true;
  const dueAt = digitEntryDeadline(next);
  const armed = entry.timed && digitEntryDeadline(entry) === dueAt;
  // A key is the caller answering: a silence armed before the entry stops counting.
  return write(ledger, { digits: next, silence: undefined }, { type: 'digit-collected', digits, ...(armed ? {} : { dueAt }) });
}

function complete(entry: DigitEntry, digits: string, reason: DigitEntryEnd): Verdict {
  return { type: 'digits-complete', spec: entry.spec, digits, reason, ...(entry.retry ? { retried: true } : {}) };
}

/** What a turn that is (or was) streaming must do now. */
export type Standing =
  | { type: 'owner' }
  | { type: 'interrupted'; heard: string; heardMs?: number | undefined }
  | { type: 'superseded' }
  | { type: 'ended' }
  /** Its connection dropped: nothing it posts reaches anyone. */
  | { type: 'cut-off' };

export function standingOf(ledger: Ledger, status: string, turn: number): Standing {
  const entry = ledger.turns[turn];
  if (entry?.heard !== undefined) return { type: 'interrupted', heard: entry.heard, heardMs: entry.heardMs };
  if (status === 'ended' || entry?.state === 'ended') return { type: 'ended' };
  if (entry?.state === 'cut-off') return { type: 'cut-off' };
  if (ledger.turnCount > turn || entry?.state === 'superseded') return { type: 'superseded' };
  return { type: 'owner' };
}

/**
 * What a turn does with a tool round whose results are in hand, decided on the one ledger read it makes between
 * that round and its next LLM round (`undefined`: the session is gone). The interrupt notes are folded in first:
 * an interrupt counts from its note, so results that came back after the note but before this read belong to an
 * interrupted turn as surely as results that came back after the read. The round is kept (its tool call and
 * results stored, its actions carried out, the next LLM round asked) only while the turn owns the reply.
 * Otherwise it is dropped whole: no tool call is stored without its result (strict OpenAI-compatible servers
 * reject that) and none with it, nothing of it is said or done, and the words the caller heard during it are
 * stored as heard, after the last round kept.
 */
export type RoundVerdict = { type: 'keep' } | { type: 'drop'; standing: Exclude<Standing, { type: 'owner' }> };

export function toolRoundVerdict(read: { ledger: Ledger; status: string } | undefined, turn: number): RoundVerdict {
  if (!read) return { type: 'drop', standing: { type: 'ended' } };
  const standing = standingOf(withNotes(read.ledger), read.status, turn);
  return standing.type === 'owner' ? { type: 'keep' } : { type: 'drop', standing };
}

/** Where a speculative turn stands: still waiting for its final prompt, adopted as a turn, or dropped. */
export type SpeculationStanding = { type: 'pending' } | { type: 'confirmed'; turn: number; userText: string } | { type: 'dropped' };

export function speculationStanding(ledger: Ledger, status: string, id: string): SpeculationStanding {
  for (const [n, t] of Object.entries(ledger.turns)) if (t.speculationId === id) return { type: 'confirmed', turn: Number(n), userText: t.userText };
  if (status === 'ended') return { type: 'dropped' };
  return ledger.speculation?.id === id && ledger.speculation.state === 'running' ? { type: 'pending' } : { type: 'dropped' };
}

/** Earlier turns whose history is not in the table yet: the turn about to ask the LLM must wait for (or carry) them. */
export function uncommittedBefore(ledger: Ledger, turn: number): number[] {
  return Object.entries(ledger.turns)
    .filter(([n, t]) => Number(n) < turn && !t.committed)
    .map(([n]) => Number(n))
    .sort((a, b) => a - b);
}

export interface PendingHeard {
  turn: number;
  replyMessageId: string;
  heard: string;
  heardMs?: number | undefined;
  spokenBefore: string;
  /** The messages holding the words of `spokenBefore`: cut to what was heard with the reply. */
  held?: readonly HeldWords[] | undefined;
}

/** Interrupts that landed after their turn was committed and whose rewrite has not (yet) happened: carried in memory. */
export function pendingHeard(ledger: Ledger): PendingHeard[] {
  return Object.entries(ledger.turns)
    .filter(([, t]) => t.committed && t.heard !== undefined && !t.heardApplied && t.replyMessageId)
    .map(([n, t]) => ({
      turn: Number(n),
      replyMessageId: t.replyMessageId as string,
      heard: t.heard as string,
      heardMs: t.heardMs,
      spokenBefore: t.spokenBefore ?? '',
      ...(t.held ? { held: t.held } : {}),
    }));
}

/**
 * Whether a history read missed messages of a committed turn: the session item and the messages are read
 * together, so the read of the messages can predate a commit that the session item already shows. Message ids
 * sort by time; a turn's newest message older than everything loaded was simply left out by the budget.
 */
export function historyRaced(ledger: Ledger, messageIds: readonly string[]): boolean {
  const loaded = new Set(messageIds);
  const oldest = messageIds[0];
  return Object.values(ledger.turns).some(
    (t) => t.committed && t.lastMessageId !== undefined && !loaded.has(t.lastMessageId) && (oldest === undefined || t.lastMessageId > oldest),
  );
}

function claim(ledger: Ledger, event: Extract<LedgerEvent, { type: 'claim' }>): Decision {
  const { promptAt, userText } = event;
  const newest = ledger.turns[ledger.turnCount];
  if (newest && newest.promptAt > promptAt) return event.adoptOnly ? { verdict: { type: 'not-adopted' } } : { verdict: { type: 'yield', turnCount: ledger.turnCount } };
  const replayOf = replayedTurn(ledger, promptAt, userText);
  if (replayOf !== undefined) return { verdict: { type: 'replayed', turn: replayOf } };
  const running = ledger.speculation?.state === 'running' ? ledger.speculation : undefined;
  // Adopted only for the words it answers (later partials that changed them have dropped it already).
  const adopt = running && event.key !== undefined && running.key === event.key && running.at < promptAt;
  if (event.adoptOnly && !adopt) return { verdict: { type: 'not-adopted' } };
  const turn = ledger.turnCount + 1;
  const consumed = (ledger.partial ?? []).filter((p) => p.at < promptAt);
  const left = (ledger.partial ?? []).filter((p) => p.at >= promptAt);
  const turns: Record<string, LedgerTurn> = {};
  for (const [n, t] of Object.entries(ledger.turns)) turns[n] = t.state === 'streaming' ? { ...t, state: 'superseded' } : t;
  turns[turn] = { state: 'streaming', promptAt, userText, committed: false };
  if (ledger.connection) turns[turn].gen = ledger.connection.gen;
  if (adopt) turns[turn].speculationId = running.id;
  if (ledger.speculations) turns[turn].speculations = ledger.speculations;
  const speculation: Speculation | undefined = adopt ? { ...running, state: 'confirmed', turn } : dropRunning(ledger.speculation);
  return write(
    ledger,
    {
      turnCount: turn,
      turns: prune(turns, turn),
      partial: left.length > 0 ? left : undefined,
      partialsUntil: Math.max(ledger.partialsUntil ?? 0, promptAt),
      silence: undefined,
      speculation,
      speculations: undefined,
    },
    { type: 'claimed', turn, pieces: consumed.map((p) => p.text), ...(adopt ? { adopted: running.id } : {}) },
  );
}

/**
 * The turn an early prompt on a new connection repeats (the claim decides it; a prompt handler may ask first, from
 * the ledger it already read, to save an LLM request): one claimed on an older connection, before the reconnect,
 * with the same words, whose reply was not cut off by the drop (a cut-off reply is answered again).
 */
export function replayedTurn(ledger: Ledger, promptAt: number, userText: string): number | undefined {
  const c = ledger.connection;
  if (!c || c.gen < 2 || c.state !== 'connected' || promptAt < c.at || promptAt - c.at > REPLAY_WINDOW_MS) return undefined;
  const match = Object.entries(ledger.turns).find(
    ([, t]) => (t.gen ?? 1) < c.gen && t.promptAt < c.at && t.userText === userText && t.state !== 'cut-off',
  );
  return match ? Number(match[0]) : undefined;
}

function connect(ledger: Ledger, event: Extract<LedgerEvent, { type: 'connect' }>): Decision {
  const current = ledger.connection;
  if (current?.id === event.connectionId) return { verdict: { type: 'connected', gen: current.gen } };
  if (event.bound) {
    // The session was `created` until this connection bound it: whatever the ledger says belongs to no call.
    const connection: LedgerConnection = { id: event.connectionId, gen: 1, state: 'connected', at: event.at, graceMs: event.graceMs };
    return write(ledger, { connection }, { type: 'connected', gen: 1 });
  }
  if (!current || current.graceMs === 0) return { verdict: { type: 'connect-refused', reason: 'not-reconnectable' } };
  // The call timer ended the call when the grace passed: a reconnect that lands after it loses, whenever it left.
  if (current.state === 'ended') return { verdict: { type: 'connect-refused', reason: 'grace-over' } };
  if (current.state === 'connected' && !event.previousGone) return { verdict: { type: 'connect-refused', reason: 'in-use' } };
  if (current.state === 'disconnected' && event.at - current.at > current.graceMs) return { verdict: { type: 'connect-refused', reason: 'grace-over' } };
  const gen = current.gen + 1;
  const connection: LedgerConnection = { id: event.connectionId, gen, state: 'connected', at: event.at, graceMs: current.graceMs };
  // A reply still streaming went to the old connection: it stops (its $disconnect may not have landed yet), and so
  // does a speculation, whose reply would go there too.
  const turns = mapTurns(ledger, cutOff) ?? ledger.turns;
  return write(ledger, { connection, turns, speculation: dropRunning(ledger.speculation) }, { type: 'reconnected', gen, retired: current.id });
}

function disconnect(ledger: Ledger, connectionId: string, at: number): Decision {
  const current = ledger.connection;
  // No connection on record (its $connect could not write it): the call ends, as it would without reconnects.
  if (!current) return { verdict: { type: 'call-over' } };
  if (current.id !== connectionId || current.state !== 'connected') return { verdict: { type: 'disconnect-stale' } };
  const connection: LedgerConnection = { ...current, state: 'disconnected', at };
  const turns = mapTurns(ledger, cutOff) ?? ledger.turns;
  // Nobody hears a reprompt on a dropped socket; a reconnected caller gets the silence counted from their next reply.
  // A speculation was answering on the dropped socket: nothing it holds can reach the caller.
  const speculation = dropRunning(ledger.speculation);
  if (current.graceMs === 0) return write(ledger, { connection, turns, silence: undefined, speculation }, { type: 'call-over' });
  return write(ledger, { connection, turns, silence: undefined, speculation }, { type: 'disconnected', graceUntil: at + current.graceMs, gen: current.gen });
}

const cutOff = (t: LedgerTurn): LedgerTurn => (t.state === 'streaming' ? { ...t, state: 'cut-off' } : t);

function silenceDue(ledger: Ledger, event: Extract<LedgerEvent, { type: 'silence-due' }>): Decision {
  const s = ledger.silence;
  const connection = ledger.connection;
  if (!s || s.turn !== event.turn || s.round !== event.round || ledger.turnCount !== event.turn || connection?.state !== 'connected') {
    return { verdict: { type: 'silence-cancelled' } };
  }
  if (event.at < s.dueAt) return { verdict: { type: 'silence-not-yet', dueAt: s.dueAt } };
  // Still speaking by ConversationRelay's own report: its stop event counts the silence from then. This check
  // comes again a silence later, in case that event never arrives.
  if (s.speaking) return { verdict: { type: 'silence-not-yet', dueAt: event.at + (s.afterMs ?? event.nextDueAt - event.at) } };
  if (s.round >= event.maxReprompts) return write(ledger, { silence: undefined }, { type: 'silence-hang-up', connectionId: connection.id });
  const round = s.round + 1;
  const silence = { turn: s.turn, round, dueAt: event.nextDueAt, spokeAt: event.at, ...(s.afterMs !== undefined ? { afterMs: s.afterMs } : {}) };
  return write(ledger, { silence }, { type: 'reprompt', round, dueAt: event.nextDueAt, connectionId: connection.id });
}

/**
 * A speaker event refines the estimate of when the agent stopped speaking. Only an armed silence cares: while the
 * agent speaks, no reprompt; once it stops, the silence counts from then (the check is moved to the new time).
 */
function agentSpeech(ledger: Ledger, speaking: boolean, at: number): Decision {
  const s = ledger.silence;
  if (!s) return { verdict: { type: 'noop' } };
  if (speaking) return s.speaking ? { verdict: { type: 'noop' } } : write(ledger, { silence: { ...s, speaking: true } }, { type: 'noop' });
  if (s.afterMs === undefined) return { verdict: { type: 'noop' } };
  const { speaking: _was, ...rest } = s;
  const dueAt = at + s.afterMs;
  return write(ledger, { silence: { ...rest, dueAt } }, { type: 'silence-moved', turn: s.turn, round: s.round, dueAt });
}

/**
 * The grace of a dropped connection has passed. Exactly one of this check and a reconnect wins: both are
 * compare-and-sets on the ledger, and the one that lands second finds the other's write (a new generation, or
 * a connection that is `ended`).
 */
function graceDue(ledger: Ledger, gen: number, at: number): Decision {
  const c = ledger.connection;
  if (!c || c.gen !== gen || c.state === 'connected') return { verdict: { type: 'grace-stale' } };
  if (c.state === 'ended') return { verdict: { type: 'grace-over' } };
  const graceUntil = c.at + c.graceMs;
  if (at < graceUntil) return { verdict: { type: 'grace-not-yet', dueAt: graceUntil } };
  return write(ledger, { connection: { ...c, state: 'ended' }, silence: undefined, speculation: dropRunning(ledger.speculation) }, { type: 'grace-over' });
}

/**
 * A stable partial asks to start a speculative turn. Refused when the utterance was already answered (late), a
 * newer partial came since (stale: the caller is still talking), the cap for this utterance is reached, the same
 * words are already being answered, or an earlier turn's history is not committed (its request could not hold it).
 */
function speculate(ledger: Ledger, event: Extract<LedgerEvent, { type: 'speculate' }>): Decision {
  const refuse = (reason: Extract<Verdict, { type: 'speculation-refused' }>['reason']): Decision => ({ verdict: { type: 'speculation-refused', reason } });
  if (ledger.partialsUntil !== undefined && event.at < ledger.partialsUntil) return refuse('late');
  if ((ledger.partial ?? []).some((p) => p.at > event.at)) return refuse('stale');
  const running = ledger.speculation?.state === 'running' ? ledger.speculation : undefined;
  if (running && running.key === event.key) return refuse('running');
  if ((ledger.speculations ?? 0) >= event.max) return refuse('cap');
  if (uncommittedBefore(ledger, ledger.turnCount + 1).length > 0) return refuse('history');
  return write(
    ledger,
    { speculation: { id: event.id, at: event.at, key: event.key, state: 'running' }, speculations: (ledger.speculations ?? 0) + 1 },
    { type: 'speculating' },
  );
}

function dropRunning(speculation: Speculation | undefined): Speculation | undefined {
  return speculation?.state === 'running' ? { ...speculation, state: 'dropped' } : speculation;
}

/** The turn an interrupt received at `at` cut into: the newest whose prompt came before it. */
function interruptTarget(ledger: Ledger, at: number): { n: number; t: LedgerTurn } | undefined {
  return Object.entries(ledger.turns)
    .map(([n, t]) => ({ n: Number(n), t }))
    .filter(({ t }) => t.promptAt < at)
    .sort((a, b) => b.n - a.n)[0];
}

function interrupt(ledger: Ledger, at: number, heard: string, heardMs: number | undefined): Decision {
  // A reprompt is not part of any turn's reply: cutting into it only stops the silence timer.
  const spokeAt = ledger.silence?.spokeAt;
  // The same frame decided again (its note folded in by another writer first, or read again before it was cleared):
  // deciding it twice could place it on another turn once the state it cut into has moved on.
  if (ledger.interrupts?.includes(at)) return { verdict: { type: 'interrupt-ignored', reason: 'already-recorded' } };
  const interrupts = [...(ledger.interrupts ?? []), at].slice(-KEPT_INTERRUPTS);
  if (spokeAt !== undefined && at >= spokeAt) return write(ledger, { silence: undefined, interrupts }, { type: 'interrupt-ignored', reason: 'reprompt' });
  // The reply the caller cut into is the newest one whose prompt came before the interrupt: a newer prompt may
  // have been claimed by the time this frame is handled, and its reply had not started when the caller spoke.
  const target = interruptTarget(ledger, at);
  if (!target) {
    const verdict: Verdict = { type: 'interrupt-ignored', reason: ledger.turnCount === 0 ? 'no-reply-yet' : 'turn-gone' };
    // The caller cut into the greeting: they are there, so the silence armed after it stops counting.
    return ledger.silence ? write(ledger, { silence: undefined, interrupts }, verdict) : { verdict };
  }
  const { n, t } = target;
  if (t.heard !== undefined) return { verdict: { type: 'interrupt-ignored', reason: 'already-recorded' } };
  const entry: LedgerTurn = { ...t, heard, state: 'interrupted' };
  if (heardMs !== undefined) entry.heardMs = heardMs;
  const rewrite = t.committed && t.replyMessageId ? { replyMessageId: t.replyMessageId, heard, heardMs, spokenBefore: t.spokenBefore ?? '', ...(t.held ? { held: t.held } : {}) } : undefined;
  if (t.committed) entry.heardApplied = false;
  // A speculation was asked with the whole reply in its history: the caller heard less of it.
  return write(
    ledger,
    { turns: { ...ledger.turns, [n]: entry }, silence: undefined, speculation: dropRunning(ledger.speculation), interrupts },
    { type: 'interrupt-recorded', turn: n, ...(rewrite ? { rewrite } : {}) },
  );
}

function commit(ledger: Ledger, event: Extract<LedgerEvent, { type: 'commit' }>): Decision {
  const { turn, replyMessageId, heardApplied } = event;
  const entry = ledger.turns[turn];
  // Pruned or never claimed (the claim failed): nothing to record, the messages are in the table.
  if (!entry) return { verdict: { type: 'committed', turn } };
  // Committed already, unless by a turn that gave up waiting for this one: a slow turn still records its reply, so
  // that an interrupt of it is applied (now, or by whoever reads it later) like any other.
  if (entry.committed && !(entry.abandoned && replyMessageId && !entry.replyMessageId)) return { verdict: { type: 'committed', turn } };
  if (entry.heard !== undefined && !heardApplied && replyMessageId) {
    return { verdict: { type: 'apply-heard', turn, heard: entry.heard, heardMs: entry.heardMs } };
  }
  const { abandoned: _abandoned, ...kept } = entry;
  const next: LedgerTurn = { ...kept, committed: true, state: entry.state === 'streaming' ? 'finished' : entry.state };
  if (replyMessageId) next.replyMessageId = replyMessageId;
  if (event.spokenBefore) {
    next.spokenBefore = event.spokenBefore.slice(-MAX_SPOKEN_BEFORE);
    const held = keptHeld(event.held ?? [], event.spokenBefore.length - next.spokenBefore.length);
    if (held.length > 0) next.held = held;
  }
  if (event.lastMessageId) next.lastMessageId = event.lastMessageId;
  if (entry.heard !== undefined) next.heardApplied = true;
  return write(ledger, { turns: prune({ ...ledger.turns, [turn]: next }, ledger.turnCount) }, { type: 'committed', turn });
}

/** The held ranges that fall in what is kept of `spokenBefore` (its first `cut` characters dropped), moved with it. */
function keptHeld(held: readonly HeldWords[], cut: number): HeldWords[] {
  return held.filter((h) => h.end > cut && h.end > h.start).map((h) => ({ messageId: h.messageId, start: Math.max(0, h.start - cut), end: h.end - cut }));
}

/**
 * Keeps the newest turns and every recent uncommitted one (a newer turn may still have to wait for it). The item
 * stays small whatever happens: an uncommitted turn far behind is long dead and its waiters have abandoned it.
 */
function prune(turns: Record<string, LedgerTurn>, newest: number): Record<string, LedgerTurn> {
  const out: Record<string, LedgerTurn> = {};
  for (const [n, t] of Object.entries(turns)) {
    const age = newest - Number(n);
    if (age < KEPT_TURNS || (!t.committed && age < 2 * KEPT_TURNS)) out[n] = t;
  }
  return out;
}

function mapTurns(ledger: Ledger, f: (t: LedgerTurn) => LedgerTurn): Record<string, LedgerTurn> | undefined {
  let changed = false;
  const turns: Record<string, LedgerTurn> = {};
  for (const [n, t] of Object.entries(ledger.turns)) {
    turns[n] = f(t);
    if (turns[n] !== t) changed = true;
  }
  return changed ? turns : undefined;
}

function write(ledger: Ledger, changes: Partial<Ledger>, verdict: Verdict): Decision {
  const next: Ledger = { ...ledger, ...changes, v: ledger.v + 1 };
  for (const key of Object.keys(next) as (keyof Ledger)[]) if (next[key] === undefined) delete next[key];
  return { next, verdict };
}
