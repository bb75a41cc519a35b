import { describe, expect, it } from 'vitest';
import { emptyLedger, type Ledger, type LedgerTurn } from '../../layers/data/turn-ledger.ts';
import {
  decide,
  historyRaced,
  KEPT_TURNS,
  MAX_SPOKEN_BEFORE,
  pendingHeard,
  REPLAY_WINDOW_MS,
  standingOf,
  uncommittedBefore,
  speculationStanding,
  decideAll,
  foldNotes,
  heardToRewrite,
  toolRoundVerdict,
  type LedgerEvent,
} from '../../02_cr-application/src/engine/ledger/decide.ts';
import { comparable } from '../../02_cr-application/src/engine/utterance.ts';

/** The ledger protocol as a table: (state, event) -> (write, verdict). No I/O, no time. */

const turn = (over: Partial<LedgerTurn> = {}): LedgerTurn => ({ state: 'streaming', promptAt: 100, userText: 'hi', committed: false, ...over });
const ledger = (turns: Record<number, LedgerTurn>, over: Partial<Ledger> = {}): Ledger => ({
  v: 5,
  turnCount: Math.max(0, ...Object.keys(turns).map(Number)),
  turns: Object.fromEntries(Object.entries(turns).map(([n, t]) => [String(n), t])),
  ...over,
});

function apply(state: Ledger, ...events: LedgerEvent[]): { state: Ledger; verdicts: unknown[] } {
  const verdicts: unknown[] = [];
  for (const event of events) {
    const d = decide(state, event);
    verdicts.push(d.verdict);
    if (d.next) {
      expect(d.next.v, 'every write advances the version by one').toBe(state.v + 1);
      state = d.next;
    }
  }
  return { state, verdicts };
}

describe('claim', () => {
  const cases: { name: string; before: Ledger; promptAt: number; verdict: unknown; turns?: Record<string, Partial<LedgerTurn>> }[] = [
    { name: 'first turn of the call', before: emptyLedger(), promptAt: 10, verdict: { type: 'claimed', turn: 1, pieces: [] }, turns: { 1: { state: 'streaming', committed: false } } },
    {
      name: 'a newer prompt supersedes the turn still streaming',
      before: ledger({ 1: turn({ promptAt: 10 }) }),
      promptAt: 20,
      verdict: { type: 'claimed', turn: 2, pieces: [] },
      turns: { 1: { state: 'superseded' }, 2: { state: 'streaming' } },
    },
    {
      name: 'a finished turn stays finished',
      before: ledger({ 1: turn({ promptAt: 10, state: 'finished', committed: true }) }),
      promptAt: 20,
      verdict: { type: 'claimed', turn: 2, pieces: [] },
      turns: { 1: { state: 'finished' }, 2: { state: 'streaming' } },
    },
    {
      name: 'an older prompt whose claim lands after a newer one yields',
      before: ledger({ 1: turn({ promptAt: 30 }) }),
      promptAt: 20,
      verdict: { type: 'yield', turnCount: 1 },
    },
  ];
  it.each(cases)('$name', ({ before, promptAt, verdict, turns }) => {
    const d = decide(before, { type: 'claim', promptAt, userText: 'words' });
    expect(d.verdict).toEqual(verdict);
    if (!turns) return expect(d.next).toBeUndefined();
    for (const [n, t] of Object.entries(turns)) expect(d.next!.turns[n]).toMatchObject(t);
  });

  it('takes the partial pieces that came before the prompt and drops later ones as late', () => {
    const { state, verdicts } = apply(
      emptyLedger(),
      { type: 'partial', at: 1, text: 'I want' },
      { type: 'partial', at: 2, text: 'a flat' },
      { type: 'partial', at: 9, text: 'next utterance' },
      { type: 'claim', promptAt: 5, userText: 'I want a flat' },
      { type: 'partial', at: 3, text: 'late piece of the claimed utterance' },
    );
    expect(verdicts[3]).toEqual({ type: 'claimed', turn: 1, pieces: ['I want', 'a flat'] });
    expect(verdicts[4]).toEqual({ type: 'partial-late' });
    expect(state.partial).toEqual([{ at: 9, text: 'next utterance' }]);
    expect(state.partialsUntil).toBe(5);
  });

  it('keeps the item small: old committed turns are pruned, recent uncommitted ones kept', () => {
    let state = emptyLedger();
    for (let n = 1; n <= 12; n++) {
      state = decide(state, { type: 'claim', promptAt: n * 10, userText: `u${n}` }).next!;
      if (n !== 10) state = decide(state, { type: 'commit', turn: n, heardApplied: false }).next!;
    }
    expect(Object.keys(state.turns).map(Number).sort((a, b) => a - b)).toEqual([9, 10, 11, 12]);
    expect(Object.keys(state.turns).length).toBeLessThanOrEqual(2 * KEPT_TURNS);
  });
});

describe('interrupt', () => {
  it('marks the streaming turn with what was heard; the turn then stands interrupted', () => {
    const { state, verdicts } = apply(ledger({ 1: turn({ promptAt: 10 }) }), { type: 'interrupt', at: 50, heard: 'Hello th', heardMs: 800 });
    expect(verdicts[0]).toEqual({ type: 'interrupt-recorded', turn: 1 });
    expect(state.turns['1']).toMatchObject({ state: 'interrupted', heard: 'Hello th', heardMs: 800, committed: false });
    expect(standingOf(state, 'connected', 1)).toEqual({ type: 'interrupted', heard: 'Hello th', heardMs: 800 });
  });

  it('aims at the turn whose prompt came before it, even when a newer prompt was claimed first', () => {
    // Twilio sends `interrupt` then the new `prompt`; their invocations can run in either order.
    const claimedFirst = apply(ledger({ 1: turn({ promptAt: 10 }) }), { type: 'claim', promptAt: 60, userText: 'new' }).state;
    const { state, verdicts } = apply(claimedFirst, { type: 'interrupt', at: 50, heard: 'part' });
    expect(verdicts[0]).toEqual({ type: 'interrupt-recorded', turn: 1 });
    expect(state.turns['1']).toMatchObject({ heard: 'part' });
    expect(state.turns['2']!.heard).toBeUndefined();
    expect(standingOf(state, 'connected', 2)).toEqual({ type: 'owner' });
  });

  it('two turns interrupted in a row each keep their own heard text (no single slot)', () => {
    const { state } = apply(
      emptyLedger(),
      { type: 'claim', promptAt: 10, userText: 'one' },
      { type: 'claim', promptAt: 60, userText: 'two' },
      { type: 'interrupt', at: 70, heard: 'second reply' },
      { type: 'interrupt', at: 50, heard: 'first reply' },
    );
    expect(state.turns['1']).toMatchObject({ heard: 'first reply' });
    expect(state.turns['2']).toMatchObject({ heard: 'second reply' });
  });

  it('after the commit, asks for the stored reply to be rewritten; until then the next turn carries it', () => {
    const committed = ledger({ 1: turn({ promptAt: 10, state: 'finished', committed: true, replyMessageId: 'm1', spokenBefore: 'Sure. ' }) });
    const { state, verdicts } = apply(committed, { type: 'interrupt', at: 50, heard: 'The office' });
    expect(verdicts[0]).toEqual({ type: 'interrupt-recorded', turn: 1, rewrite: { replyMessageId: 'm1', heard: 'The office', heardMs: undefined, spokenBefore: 'Sure. ' } });
    expect(pendingHeard(state)).toEqual([{ turn: 1, replyMessageId: 'm1', heard: 'The office', heardMs: undefined, spokenBefore: 'Sure. ' }]);
    const applied = apply(state, { type: 'heard-applied', turn: 1 }).state;
    expect(pendingHeard(applied)).toEqual([]);
  });

  it.each([
    { name: 'before any reply (the welcome greeting)', before: emptyLedger(), reason: 'no-reply-yet' },
    { name: 'a second interrupt of the same turn (a replayed frame)', before: ledger({ 1: turn({ heard: 'first', state: 'interrupted' }) }), reason: 'already-recorded' },
  ])('changes nothing $name', ({ before, reason }) => {
    const d = decide(before, { type: 'interrupt', at: 500, heard: 'x' });
    expect(d.next).toBeUndefined();
    expect(d.verdict).toEqual({ type: 'interrupt-ignored', reason });
  });
});

describe('commit', () => {
  it('a streaming turn commits as finished', () => {
    const { state, verdicts } = apply(ledger({ 1: turn() }), { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: false, lastMessageId: 'r1' });
    expect(verdicts[0]).toEqual({ type: 'committed', turn: 1 });
    expect(state.turns['1']).toMatchObject({ state: 'finished', committed: true, replyMessageId: 'r1', lastMessageId: 'r1' });
  });

  it('an interrupt that landed after the full reply was stored makes the commit apply the heard text first', () => {
    const interrupted = apply(ledger({ 1: turn() }), { type: 'interrupt', at: 500, heard: 'Hel' }).state;
    const d = decide(interrupted, { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: false });
    expect(d.next).toBeUndefined();
    expect(d.verdict).toEqual({ type: 'apply-heard', turn: 1, heard: 'Hel', heardMs: undefined });
    const { state } = apply(interrupted, { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: true });
    expect(state.turns['1']).toMatchObject({ state: 'interrupted', committed: true, heardApplied: true });
    expect(pendingHeard(state)).toEqual([]);
  });

  it('records which messages hold the words before the reply, so an interrupt after the commit cuts them too', () => {
    const spokenBefore = 'Let me check. One moment please. ';
    const held = [
      { messageId: 'call', start: 0, end: 14 },
      { messageId: 'line', start: 14, end: spokenBefore.length },
    ];
    const { state } = apply(ledger({ 1: turn() }), { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: false, spokenBefore, held });
    expect(state.turns['1']).toMatchObject({ spokenBefore, held });
    const interrupted = apply(state, { type: 'interrupt', at: 500, heard: 'let me' });
    expect(interrupted.verdicts[0]).toEqual({ type: 'interrupt-recorded', turn: 1, rewrite: { replyMessageId: 'r1', heard: 'let me', heardMs: undefined, spokenBefore, held } });
    expect(pendingHeard(interrupted.state)).toEqual([{ turn: 1, replyMessageId: 'r1', heard: 'let me', heardMs: undefined, spokenBefore, held }]);
  });

  it('keeps only the held ranges within the end of what was said that it keeps, moved with it', () => {
    const spokenBefore = 'x'.repeat(MAX_SPOKEN_BEFORE + 10);
    const held = [
      { messageId: 'early', start: 0, end: 8 },
      { messageId: 'late', start: 8, end: spokenBefore.length },
    ];
    const { state } = apply(ledger({ 1: turn() }), { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: false, spokenBefore, held });
    expect(state.turns['1']!.spokenBefore).toHaveLength(MAX_SPOKEN_BEFORE);
    expect(state.turns['1']!.held).toEqual([{ messageId: 'late', start: 0, end: MAX_SPOKEN_BEFORE }]);
  });

  it('the next turn waits for uncommitted turns, and a dead one can be abandoned', () => {
    const state = apply(emptyLedger(), { type: 'claim', promptAt: 10, userText: 'one' }, { type: 'claim', promptAt: 20, userText: 'two' }).state;
    expect(uncommittedBefore(state, 2)).toEqual([1]);
    const abandoned = apply(state, { type: 'abandon', turn: 1 }).state;
    expect(uncommittedBefore(abandoned, 2)).toEqual([]);
    expect(abandoned.turns['1']).toMatchObject({ committed: true, userText: 'one' });
  });
});

describe('a turn abandoned while it was alive', () => {
  it('commits late all the same: its reply is recorded, and an interrupt of it makes the commit apply the heard text first', () => {
    const claimed = apply(emptyLedger(), { type: 'claim', promptAt: 10, userText: 'one' }, { type: 'interrupt', at: 30, heard: 'Hel' }, { type: 'claim', promptAt: 40, userText: 'two' }).state;
    const abandoned = apply(claimed, { type: 'abandon', turn: 1 }).state;
    expect(abandoned.turns['1']).toMatchObject({ committed: true, abandoned: true });
    expect(decide(abandoned, { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: false }).verdict).toEqual({ type: 'apply-heard', turn: 1, heard: 'Hel', heardMs: undefined });
    const { state } = apply(abandoned, { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: true, lastMessageId: 'r1' });
    expect(state.turns['1']).toMatchObject({ committed: true, replyMessageId: 'r1', lastMessageId: 'r1', heardApplied: true });
    expect(state.turns['1']!.abandoned).toBeUndefined();
    // Recorded once: a repeat changes nothing.
    expect(decide(state, { type: 'commit', turn: 1, replyMessageId: 'r1', heardApplied: true }).next).toBeUndefined();
  });

  it('a dead one (no reply to record) stays as the abandon left it', () => {
    const abandoned = apply(emptyLedger(), { type: 'claim', promptAt: 10, userText: 'one' }, { type: 'abandon', turn: 1 }).state;
    expect(decide(abandoned, { type: 'commit', turn: 1, heardApplied: false })).toEqual({ verdict: { type: 'committed', turn: 1 } });
  });
});

describe('interrupt notes (an interrupt counts from its unconditional write, before its compare-and-set lands)', () => {
  const note = (at: number, heard: string) => ({ at, heard });

  it('a note folds in as the interrupt event it is, at the version read', () => {
    const read = ledger({ 1: turn({ promptAt: 10 }) }, { notes: [note(30, 'Hel')] });
    const { ledger: folded, changed } = foldNotes(read);
    expect(changed).toBe(true);
    expect(folded.v).toBe(read.v);
    expect(folded.notes).toBeUndefined();
    expect(folded).toEqual({ ...decide(ledger({ 1: turn({ promptAt: 10 }) }), { type: 'interrupt', at: 30, heard: 'Hel' }).next!, v: read.v });
    expect(standingOf(folded, 'connected', 1)).toEqual({ type: 'interrupted', heard: 'Hel', heardMs: undefined });
  });

  it('a note already decided changes nothing, and its own interrupt event is not decided twice', () => {
    const decided = apply(ledger({ 1: turn({ promptAt: 10 }) }), { type: 'interrupt', at: 30, heard: 'Hel' }).state;
    expect(foldNotes({ ...decided, notes: [note(30, 'Hel')] })).toEqual({ ledger: decided, changed: false });
    expect(decide(decided, { type: 'interrupt', at: 30, heard: 'Hel' })).toEqual({ verdict: { type: 'interrupt-ignored', reason: 'already-recorded' } });
  });

  it('a reprompt cut, decided once, is never placed on the reply before it when its note is read again', () => {
    const finished = ledger({ 1: turn({ promptAt: 10, state: 'finished', committed: true, replyMessageId: 'r1' }) }, { silence: { turn: 1, round: 1, dueAt: 900, spokeAt: 500 } });
    const once = apply(finished, { type: 'interrupt', at: 600, heard: 'Are you' }).state;
    expect(once.silence).toBeUndefined();
    expect(once.turns['1']!.heard).toBeUndefined();
    expect(foldNotes({ ...once, notes: [note(600, 'Are you')] }).changed).toBe(false);
  });

  it('notes fold in arrival order, each on the turn whose reply was playing', () => {
    const read = ledger({ 1: turn({ promptAt: 10 }), 2: turn({ promptAt: 40 }) }, { notes: [note(50, 'Two'), note(30, 'One')] });
    const { ledger: folded } = foldNotes(read);
    expect(folded.turns['1']).toMatchObject({ heard: 'One', state: 'interrupted' });
    expect(folded.turns['2']).toMatchObject({ heard: 'Two', state: 'interrupted' });
  });

  it('the rewrite of a committed reply stays with the interrupt, whoever folded its note in', () => {
    const committed = ledger({ 1: turn({ promptAt: 10, state: 'finished', committed: true, replyMessageId: 'r1', spokenBefore: 'Hi. ' }) });
    const { ledger: folded } = foldNotes({ ...committed, notes: [note(30, 'Hel')] });
    expect(heardToRewrite(folded, 30, 'Hel')).toEqual({ turn: 1, replyMessageId: 'r1', heard: 'Hel', heardMs: undefined, spokenBefore: 'Hi. ' });
    expect(pendingHeard(folded)).toHaveLength(1);
    const applied = apply(folded, { type: 'heard-applied', turn: 1 }).state;
    expect(heardToRewrite(applied, 30, 'Hel')).toBeUndefined();
    expect(heardToRewrite(folded, 30, 'another report')).toBeUndefined();
  });
});

describe('a tool round whose results are in hand (the read between it and the next LLM round)', () => {
  const note = (at: number, heard: string) => ({ at, heard });
  it.each([
    { name: 'the turn owns the reply: keep it', read: { ledger: ledger({ 1: turn({ promptAt: 10 }) }), status: 'connected' }, verdict: { type: 'keep' } },
    {
      name: 'an interrupt noted, not yet in the ledger (the result came back between the note and this read): drop it, with what was heard',
      read: { ledger: ledger({ 1: turn({ promptAt: 10 }) }, { notes: [note(30, 'Let me')] }), status: 'connected' },
      verdict: { type: 'drop', standing: { type: 'interrupted', heard: 'Let me', heardMs: undefined } },
    },
    {
      name: 'an interrupt already in the ledger: drop it',
      read: { ledger: apply(ledger({ 1: turn({ promptAt: 10 }) }), { type: 'interrupt', at: 30, heard: 'Let me', heardMs: 700 }).state, status: 'connected' },
      verdict: { type: 'drop', standing: { type: 'interrupted', heard: 'Let me', heardMs: 700 } },
    },
    {
      name: 'a note of an interrupt that came before this turn\'s prompt (it cut the reply before): keep it',
      read: { ledger: ledger({ 1: turn({ promptAt: 10, state: 'finished', committed: true }), 2: turn({ promptAt: 40 }) }, { notes: [note(30, 'Hi')] }), status: 'connected' },
      turn: 2,
      verdict: { type: 'keep' },
    },
    {
      name: 'interrupted and superseded (the next prompt claimed too): drop it, with what was heard',
      read: { ledger: ledger({ 1: turn({ promptAt: 10, state: 'superseded' }), 2: turn({ promptAt: 40 }) }, { notes: [note(30, 'Let me')] }), status: 'connected' },
      verdict: { type: 'drop', standing: { type: 'interrupted', heard: 'Let me', heardMs: undefined } },
    },
    {
      name: 'superseded by a newer prompt: drop it',
      read: { ledger: ledger({ 1: turn({ promptAt: 10, state: 'superseded' }), 2: turn({ promptAt: 40 }) }), status: 'connected' },
      verdict: { type: 'drop', standing: { type: 'superseded' } },
    },
    { name: 'the call ended: drop it', read: { ledger: ledger({ 1: turn({ promptAt: 10 }) }), status: 'ended' }, verdict: { type: 'drop', standing: { type: 'ended' } } },
    {
      name: 'the connection dropped: drop it',
      read: { ledger: ledger({ 1: turn({ promptAt: 10, state: 'cut-off' }) }), status: 'connected' },
      verdict: { type: 'drop', standing: { type: 'cut-off' } },
    },
    { name: 'the session is gone: drop it', read: undefined, verdict: { type: 'drop', standing: { type: 'ended' } } },
  ] as { name: string; read: Parameters<typeof toolRoundVerdict>[0]; turn?: number; verdict: unknown }[])('$name', ({ read, turn: n = 1, verdict }) => {
    expect(toolRoundVerdict(read, n)).toEqual(verdict);
  });
});

describe('standing and history checks', () => {
  it.each([
    { name: 'owner', l: ledger({ 1: turn() }), status: 'connected', expected: { type: 'owner' } },
    { name: 'superseded by a newer claim', l: ledger({ 1: turn(), 2: turn() }), status: 'connected', expected: { type: 'superseded' } },
    { name: 'ended call', l: ledger({ 1: turn() }), status: 'ended', expected: { type: 'ended' } },
  ])('turn 1 stands $name', ({ l, status, expected }) => {
    expect(standingOf(l, status, 1)).toEqual(expected);
  });

  it('detects a history read that raced a commit, but not a message left out by the budget', () => {
    const l = ledger({ 3: turn({ committed: true, lastMessageId: '05' }) });
    expect(historyRaced(l, ['01', '02', '03'])).toBe(true);
    expect(historyRaced(l, ['01', '05'])).toBe(false);
    expect(historyRaced(l, ['07', '08'])).toBe(false);
  });
});

describe('connection (reconnects)', () => {
  const GRACE = 60_000;
  const first = (graceMs = GRACE) => apply(emptyLedger(), { type: 'connect', connectionId: 'c1', at: 1_000, bound: true, graceMs }).state;
  const dropped = (graceMs = GRACE) => apply(first(graceMs), { type: 'disconnect', connectionId: 'c1', at: 5_000 }).state;
  const reconnect = (at: number, over: { previousGone?: boolean; connectionId?: string } = {}): LedgerEvent => ({
    type: 'connect',
    connectionId: over.connectionId ?? 'c2',
    at,
    bound: false,
    graceMs: 0,
    previousGone: over.previousGone,
  });

  it('records the first connection as generation 1 with its grace', () => {
    expect(first().connection).toEqual({ id: 'c1', gen: 1, state: 'connected', at: 1_000, graceMs: GRACE });
    expect(decide(first(), { type: 'connect', connectionId: 'c1', at: 1_001, bound: true, graceMs: GRACE })).toEqual({ verdict: { type: 'connected', gen: 1 } });
  });

  it('a drop holds the call for the grace and cuts off the reply streaming to it', () => {
    const streaming = apply(first(), { type: 'claim', promptAt: 2_000, userText: 'hi' }).state;
    const { state, verdicts } = apply(streaming, { type: 'disconnect', connectionId: 'c1', at: 5_000 });
    expect(verdicts[0]).toEqual({ type: 'disconnected', graceUntil: 65_000, gen: 1 });
    expect(state.connection).toMatchObject({ id: 'c1', state: 'disconnected', at: 5_000 });
    expect(state.turns['1']).toMatchObject({ state: 'cut-off', committed: false });
    expect(standingOf(state, 'connected', 1)).toEqual({ type: 'cut-off' });
    expect(uncommittedBefore(state, 2)).toEqual([1]);
  });

  it.each([
    { name: 'within the grace', before: () => dropped(), event: reconnect(64_999), verdict: { type: 'reconnected', gen: 2, retired: 'c1' } },
    { name: 'after the grace', before: () => dropped(), event: reconnect(65_001), verdict: { type: 'connect-refused', reason: 'grace-over' } },
    { name: 'for a call that does not reconnect', before: () => dropped(0), event: reconnect(5_001), verdict: { type: 'connect-refused', reason: 'not-reconnectable' } },
    { name: 'with no connection on record', before: () => emptyLedger(), event: reconnect(5_001), verdict: { type: 'connect-refused', reason: 'not-reconnectable' } },
    { name: 'while the current connection is alive', before: () => first(), event: reconnect(2_000), verdict: { type: 'connect-refused', reason: 'in-use' } },
    {
      name: 'before the $disconnect of a connection API Gateway says is gone',
      before: () => first(),
      event: reconnect(2_000, { previousGone: true }),
      verdict: { type: 'reconnected', gen: 2, retired: 'c1' },
    },
    { name: 'a retried $connect of the current connection', before: () => first(), event: reconnect(2_000, { connectionId: 'c1' }), verdict: { type: 'connected', gen: 1 } },
  ])('a reconnect $name', ({ before, event, verdict }) => {
    const d = decide(before(), event);
    expect(d.verdict).toEqual(verdict);
    if (verdict.type !== 'reconnected') return expect(d.next).toBeUndefined();
    expect(d.next!.connection).toEqual({ id: 'c2', gen: 2, state: 'connected', at: (event as { at: number }).at, graceMs: GRACE });
  });

  it('a reconnect that beats the $disconnect cuts off the reply streaming to the old connection', () => {
    const streaming = apply(first(), { type: 'claim', promptAt: 2_000, userText: 'hi' }).state;
    const { state } = apply(streaming, reconnect(3_000, { previousGone: true }));
    expect(state.turns['1']).toMatchObject({ state: 'cut-off' });
  });

  it.each([
    { name: 'of a replaced connection (it lands after the reconnect)', before: () => apply(dropped(), reconnect(6_000)).state, connectionId: 'c1' },
    { name: 'repeated', before: () => dropped(), connectionId: 'c1' },
  ])('a $disconnect $name changes nothing', ({ before, connectionId }) => {
    const d = decide(before(), { type: 'disconnect', connectionId, at: 7_000 });
    expect(d).toEqual({ verdict: { type: 'disconnect-stale' } });
  });

  it('a drop of a call that does not reconnect, or with no connection on record, is the end of the call', () => {
    expect(decide(first(0), { type: 'disconnect', connectionId: 'c1', at: 5_000 }).verdict).toEqual({ type: 'call-over' });
    expect(decide(emptyLedger(), { type: 'disconnect', connectionId: 'c1', at: 5_000 })).toEqual({ verdict: { type: 'call-over' } });
  });

  describe('replayed prompts', () => {
    const answered = () =>
      apply(first(), { type: 'claim', promptAt: 2_000, userText: 'Is the studio free?' }, { type: 'commit', turn: 1, heardApplied: false }, { type: 'disconnect', connectionId: 'c1', at: 5_000 }, reconnect(6_000)).state;

    it('the same words just after the reconnect repeat a turn answered on the old connection: nothing is claimed', () => {
      expect(decide(answered(), { type: 'claim', promptAt: 6_100, userText: 'Is the studio free?' })).toEqual({ verdict: { type: 'replayed', turn: 1 } });
    });

    it.each([
      { name: 'other words', at: 6_100, words: 'And the two-bedroom?' },
      { name: 'the same words said again later', at: 6_000 + REPLAY_WINDOW_MS + 1, words: 'Is the studio free?' },
    ])('$name start a turn (on the new generation)', ({ at, words }) => {
      const d = decide(answered(), { type: 'claim', promptAt: at, userText: words });
      expect(d.verdict).toEqual({ type: 'claimed', turn: 2, pieces: [] });
      expect(d.next!.turns['2']).toMatchObject({ gen: 2 });
    });

    it('a prompt whose reply the drop cut off is answered again', () => {
      const cutOff = apply(first(), { type: 'claim', promptAt: 2_000, userText: 'Is the studio free?' }, { type: 'disconnect', connectionId: 'c1', at: 5_000 }, reconnect(6_000)).state;
      expect(decide(cutOff, { type: 'claim', promptAt: 6_100, userText: 'Is the studio free?' }).verdict).toEqual({ type: 'claimed', turn: 2, pieces: [] });
    });
  });
});

describe('silence', () => {
  const connected = (): Ledger =>
    apply(
      emptyLedger(),
      { type: 'connect', connectionId: 'c1', at: 0, bound: true, graceMs: 60_000 },
      { type: 'claim', promptAt: 100, userText: 'hi' },
      { type: 'commit', turn: 1, heardApplied: false },
    ).state;
  const armed = () => apply(connected(), { type: 'silence-arm', turn: 1, dueAt: 9_000 }).state;
  const due = (over: Partial<Extract<LedgerEvent, { type: 'silence-due' }>> = {}): LedgerEvent => ({
    type: 'silence-due',
    turn: 1,
    round: 0,
    at: 9_000,
    maxReprompts: 2,
    nextDueAt: 18_000,
    ...over,
  });

  it('arms after the newest turn finished; not after an interrupted or superseded one', () => {
    expect(armed().silence).toEqual({ turn: 1, round: 0, dueAt: 9_000 });
    const interrupted = apply(connected(), { type: 'interrupt', at: 500, heard: 'h' }).state;
    expect(decide(interrupted, { type: 'silence-arm', turn: 1, dueAt: 9_000 })).toEqual({ verdict: { type: 'silence-cancelled' } });
    const newer = apply(connected(), { type: 'claim', promptAt: 600, userText: 'more' }).state;
    expect(decide(newer, { type: 'silence-arm', turn: 1, dueAt: 9_000 })).toEqual({ verdict: { type: 'silence-cancelled' } });
  });

  it('reprompts up to the maximum, then hangs up', () => {
    const { state, verdicts } = apply(armed(), due(), due({ round: 1, at: 18_000, nextDueAt: 27_000 }), due({ round: 2, at: 27_000 }));
    expect(verdicts).toEqual([
      { type: 'reprompt', round: 1, dueAt: 18_000, connectionId: 'c1' },
      { type: 'reprompt', round: 2, dueAt: 27_000, connectionId: 'c1' },
      { type: 'silence-hang-up', connectionId: 'c1' },
    ]);
    expect(state.silence).toBeUndefined();
  });

  it.each([
    { name: 'the caller spoke (a claim)', event: { type: 'claim', promptAt: 5_000, userText: 'yes' } as LedgerEvent },
    { name: 'the caller started speaking (a partial prompt)', event: { type: 'partial', at: 5_000, text: 'y' } as LedgerEvent },
    { name: 'the socket dropped', event: { type: 'disconnect', connectionId: 'c1', at: 5_000 } as LedgerEvent },
  ])('any caller input cancels it: $name', ({ event }) => {
    const state = apply(armed(), event).state;
    expect(state.silence).toBeUndefined();
    expect(decide(state, due())).toEqual({ verdict: { type: 'silence-cancelled' } });
  });

  it('a stale or early check does nothing, or waits for the rest of the silence', () => {
    expect(decide(armed(), due({ round: 1 }))).toEqual({ verdict: { type: 'silence-cancelled' } });
    expect(decide(armed(), due({ at: 8_000 }))).toEqual({ verdict: { type: 'silence-not-yet', dueAt: 9_000 } });
  });

  it('an interrupt after a reprompt cut into the reprompt: the reply before it keeps its words, the silence stops', () => {
    const reprompted = apply(armed(), due()).state;
    const { state, verdicts } = apply(reprompted, { type: 'interrupt', at: 9_500, heard: 'Are you' });
    expect(verdicts[0]).toEqual({ type: 'interrupt-ignored', reason: 'reprompt' });
    expect(state.turns['1']!.heard).toBeUndefined();
    expect(state.silence).toBeUndefined();
  });
});

describe('speculation (preemptive generation)', () => {
  const key = (t: string) => comparable(t);
  const speculate = (id: string, at: number, text: string, max = 2): LedgerEvent => ({ type: 'speculate', id, at, key: key(text), max });
  const partial = (at: number, text: string): LedgerEvent => ({ type: 'partial', at, text });
  const final = (promptAt: number, userText: string): LedgerEvent => ({ type: 'claim', promptAt, userText, key: key(userText) });
  const committed = ledger({ 1: turn({ promptAt: 10, state: 'finished', committed: true }) });

  const cases: { name: string; events: LedgerEvent[]; verdict: unknown; speculation?: unknown; standing?: unknown }[] = [
    {
      name: 'a stable partial starts one',
      events: [partial(20, 'When do you open?'), speculate('s1', 20, 'When do you open?')],
      verdict: { type: 'speculating' },
      speculation: { id: 's1', state: 'running' },
      standing: { type: 'pending' },
    },
    {
      name: 'the final prompt with the same words (case, punctuation, fillers aside) adopts it',
      events: [partial(20, 'When do you open?'), speculate('s1', 20, 'When do you open?'), final(30, 'um, when do you OPEN')],
      verdict: { type: 'claimed', turn: 2, pieces: ['When do you open?'], adopted: 's1' },
      speculation: { id: 's1', state: 'confirmed', turn: 2 },
      standing: { type: 'confirmed', turn: 2, userText: 'um, when do you OPEN' },
    },
    {
      name: 'a final prompt with other words drops it and claims a turn of its own',
      events: [partial(20, 'When do you open?'), speculate('s1', 20, 'When do you open?'), final(30, 'When do you open on Sunday?')],
      verdict: { type: 'claimed', turn: 2, pieces: ['When do you open?'] },
      speculation: { id: 's1', state: 'dropped' },
      standing: { type: 'dropped' },
    },
    {
      name: 'the caller keeps talking: a partial with more words drops it',
      events: [partial(20, 'When do you open'), speculate('s1', 20, 'When do you open'), partial(25, 'When do you open on Sunday')],
      verdict: { type: 'partial-kept' },
      speculation: { id: 's1', state: 'dropped' },
      standing: { type: 'dropped' },
    },
    {
      name: 'a repeated partial with the same words keeps it',
      events: [partial(20, 'When do you open'), speculate('s1', 20, 'When do you open'), partial(25, 'when do you open.')],
      verdict: { type: 'partial-kept' },
      speculation: { id: 's1', state: 'running' },
    },
    {
      name: 'the next piece of a piecewise transcript drops it',
      events: [partial(20, 'When do you'), speculate('s1', 20, 'When do you'), partial(25, 'open')],
      verdict: { type: 'partial-kept' },
      speculation: { id: 's1', state: 'dropped' },
    },
    {
      name: 'refused once the cap for the utterance is reached',
      events: [partial(20, 'a'), speculate('s1', 20, 'a'), partial(25, 'a b'), speculate('s2', 25, 'a b'), partial(30, 'a b c'), speculate('s3', 30, 'a b c')],
      verdict: { type: 'speculation-refused', reason: 'cap' },
      speculation: { id: 's2', state: 'dropped' },
    },
    {
      name: 'refused when a newer partial came since (not stable)',
      events: [partial(20, 'a'), partial(25, 'a b'), speculate('s1', 20, 'a')],
      verdict: { type: 'speculation-refused', reason: 'stale' },
    },
    {
      name: 'refused when its utterance was already claimed',
      events: [partial(20, 'a'), final(30, 'a'), speculate('s1', 20, 'a')],
      verdict: { type: 'speculation-refused', reason: 'late' },
    },
    {
      name: 'refused for the words already being answered',
      events: [partial(20, 'a'), speculate('s1', 20, 'a'), partial(25, 'a'), speculate('s2', 25, 'a')],
      verdict: { type: 'speculation-refused', reason: 'running' },
    },
    {
      name: 'an interrupt drops it: the history it was asked with changed',
      events: [partial(20, 'a'), speculate('s1', 20, 'a'), { type: 'interrupt', at: 22, heard: 'the reply' }],
      verdict: { type: 'interrupt-recorded', turn: 1, rewrite: undefined },
      speculation: { id: 's1', state: 'dropped' },
    },
    {
      name: 'it ends itself when no confirmation comes in time',
      events: [partial(20, 'a'), speculate('s1', 20, 'a'), { type: 'speculation-end', id: 's1' }],
      verdict: { type: 'speculation-dropped' },
      speculation: { id: 's1', state: 'dropped' },
    },
    {
      name: 'ending after it was adopted tells it to go on as the turn',
      events: [partial(20, 'a'), speculate('s1', 20, 'a'), final(30, 'a'), { type: 'speculation-end', id: 's1' }],
      verdict: { type: 'speculation-confirmed', turn: 2 },
      speculation: { id: 's1', state: 'confirmed', turn: 2 },
    },
    {
      name: 'an adopt-only claim with nothing to adopt writes nothing',
      events: [partial(20, 'a'), { type: 'claim', promptAt: 30, userText: 'a', key: 'a', adoptOnly: true }],
      verdict: { type: 'not-adopted' },
    },
  ];
  it.each(cases)('$name', ({ events, verdict, speculation, standing }) => {
    const { state, verdicts } = apply(committed, ...events);
    expect(verdicts.at(-1)).toEqual(verdict);
    if (speculation) expect(state.speculation).toMatchObject(speculation as object);
    if (standing) expect(speculationStanding(state, 'connected', 's1')).toEqual(standing);
  });

  it('is refused while an earlier turn has not committed its history', () => {
    const d = decide(ledger({ 1: turn({ promptAt: 10 }) }, { partial: [{ at: 20, text: 'a' }] }), speculate('s1', 20, 'a'));
    expect(d).toEqual({ verdict: { type: 'speculation-refused', reason: 'history' } });
  });

  it('the adopting turn records the speculation and how many were started; the count starts again for the next utterance', () => {
    const { state } = apply(committed, partial(20, 'a'), speculate('s1', 20, 'a'), partial(25, 'a b'), speculate('s2', 25, 'a b'), final(30, 'a b'));
    expect(state.turns['2']).toMatchObject({ speculationId: 's2', speculations: 2, state: 'streaming' });
    expect(state.speculations).toBeUndefined();
    const next = apply(state, { type: 'commit', turn: 2, heardApplied: false }, partial(40, 'c'), speculate('s3', 40, 'c')).verdicts.at(-1);
    expect(next).toEqual({ type: 'speculating' });
  });

  it('a partial stable at once and its speculation are one write (one version step)', () => {
    const { next, verdicts } = decideAll(committed, [partial(20, 'When do you open?'), speculate('s1', 20, 'When do you open?')]);
    expect(verdicts).toEqual([{ type: 'partial-kept' }, { type: 'speculating' }]);
    expect(next!.v).toBe(committed.v + 1);
    expect(next!.speculation).toMatchObject({ id: 's1', state: 'running' });
    expect(decideAll(committed, [speculate('s1', 20, 'x', 0)])).toEqual({ verdicts: [{ type: 'speculation-refused', reason: 'cap' }] });
  });

  it('a newer claim (a key press) or the end of the call drops a running one', () => {
    const running = apply(committed, partial(20, 'a'), speculate('s1', 20, 'a')).state;
    expect(apply(running, { type: 'claim', promptAt: 30, userText: 'pressed 1' }).state.speculation).toMatchObject({ state: 'dropped' });
    expect(apply(running, { type: 'end' }).state.speculation).toMatchObject({ state: 'dropped' });
    expect(speculationStanding(running, 'ended', 's1')).toEqual({ type: 'dropped' });
  });
});

describe('speculation and the connection', () => {
  const GRACE = 60_000;
  const connected = apply(emptyLedger(), { type: 'connect', connectionId: 'c1', at: 1_000, bound: true, graceMs: GRACE }).state;
  const speculating = apply(connected, { type: 'partial', at: 2_000, text: 'Hello.' }, { type: 'speculate', id: 's1', at: 2_000, key: comparable('Hello.'), max: 2 }).state;

  it('a drop, or a reconnect that beats it, drops a running speculation (its reply would go to the old socket)', () => {
    expect(speculating.speculation).toMatchObject({ id: 's1', state: 'running' });
    expect(apply(speculating, { type: 'disconnect', connectionId: 'c1', at: 3_000 }).state.speculation).toMatchObject({ state: 'dropped' });
    const reconnected = apply(speculating, { type: 'connect', connectionId: 'c2', at: 3_000, bound: false, graceMs: 0, previousGone: true });
    expect(reconnected.verdicts[0]).toEqual({ type: 'reconnected', gen: 2, retired: 'c1' });
    expect(reconnected.state.speculation).toMatchObject({ state: 'dropped' });
  });

  it('a partial both keeps the speculation for the same words and stops the silence timer', () => {
    const armed = { ...speculating, silence: { turn: 0, round: 0, dueAt: 9_000 } };
    const { state } = apply(armed, { type: 'partial', at: 2_500, text: 'Hello.' });
    expect(state.silence).toBeUndefined();
    expect(state.speculation).toMatchObject({ state: 'running' });
  });
});
