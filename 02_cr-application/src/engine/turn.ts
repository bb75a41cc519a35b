import type { ChatMessage, Ledger, LedgerRead, NewMessage, Session } from '../../../layers/data/index.ts';
import { newMessageId as newId } from '../../../layers/data/ids.ts';
import type { AppLogger } from '../../../layers/observability/logger.ts';
import type { ToolAction } from '../../../layers/tools/contract.ts';
import { toLlmMessages } from './history.ts';
import { historyRaced, pendingHeard, toolRoundVerdict, uncommittedBefore, withNotes, type PendingHeard, type RoundVerdict, type Standing } from './ledger/decide.ts';
import { heardCuts, heardPrefix, heardReply, heardTurn, type HeldWords } from './ledger/heard.ts';
import { applyToLedger } from './ledger/ledger-client.ts';
import { TurnWatch } from './ledger/turn-watch.ts';
import { llmAttempt, type AttemptEnd } from './llm-attempt.ts';
import {
  sleep,
  type Clock,
  type ConnectionsEndpoint,
  type ContinuedTurnState,
  type Llm,
  type LlmMessage,
  type LlmRequest,
  type Sink,
  type Store,
  type ToolInvoker,
  type TurnContinuation,
} from './ports.ts';
import { ReplyPump, type PumpStopReason } from './reply-pump.ts';
import { ToolCallAssembler, type ToolCall } from './tool-calls.ts';
import { runToolRound, timeoutFor, toolResultContent, type ToolResult } from './tool-round.ts';
import { planToolRound } from './turn-budget.ts';
import { TurnRecorder } from './turn-recorder.ts';
import { SpeculationWatch, type SpeculationOutcome } from './preempt/speculation-watch.ts';
import type { SpeculationRecord, TurnOutcome, TurnRecord } from '../../../layers/data/index.ts';

export interface EngineConfig {
  /** No first chunk from the LLM by then: abort and retry once (if the budget allows), else apologise. */
  firstTokenTimeoutMs: number;
  /** No chunk for this long once the reply has started (a stalled stream): abort and close the reply. */
  idleTimeoutMs: number;
  /** How often a turn reads the ledger while it streams or waits (at most one read in flight). */
  watchIntervalMs: number;
  /** How long a turn waits for the previous turn's history to be committed before it carries what it knows. */
  historyWaitMs: number;
  historyPollMs: number;
  /** How often a speculative turn reads the ledger for its confirmation (what a preempted reply waits for). */
  speculationPollMs: number;
  /** Longer utterances are cut (and the cut logged): one caller must not be able to send the LLM a book. */
  maxUtteranceChars: number;
  /** The newest messages of history each turn loads and sends. */
  maxHistoryMessages: number;
  /** Budget of an invocation API Gateway waits on (its integration timeout is 29 s). */
  syncBudgetMs: number;
  /** Time kept for the LLM round after a tool round when deciding whether to hand off. */
  llmRoundReserveMs: number;
  /** Said when the LLM or the table fails: the caller never sits in silence. */
  apology: string;
  /** Said when the LLM stalls mid-reply. */
  stallLine: string;
}

export const defaultEngineConfig: EngineConfig = {
  firstTokenTimeoutMs: 5_000,
  idleTimeoutMs: 4_000,
  watchIntervalMs: 100,
  historyWaitMs: 5_000,
  historyPollMs: 25,
  speculationPollMs: 10,
  maxUtteranceChars: 2_000,
  maxHistoryMessages: 60,
  syncBudgetMs: 26_000,
  llmRoundReserveMs: 6_000,
  apology: "Sorry, I'm having trouble right now. Could you say that again?",
  stallLine: 'Sorry, I lost my train of thought. Could you say that again?',
};

/** What a turn needs from the invocation running it. */
export interface TurnContext {
  store: Store;
  llm: Llm;
  sink: Sink;
  tools: ToolInvoker;
  clock: Clock;
  log: AppLogger;
  config: EngineConfig;
  continuation?: TurnContinuation | undefined;
  endpoint: ConnectionsEndpoint;
  /** When this invocation must have returned (API Gateway's 29 s, or Lambda's own timeout). */
  deadlineAt: number;
  coldStart: boolean;
}

export interface NewTurn {
  kind: 'prompt' | 'dtmf';
  connectionId: string;
  session: Session;
  messages: ChatMessage[];
  promptReceivedAt: number;
  /** The caller's utterance, or what the key they pressed means. */
  userText: string;
  source: 'speech' | 'dtmf';
  /** A line said before (or instead of) the LLM's reply (keypad actions). */
  say?: string | undefined;
  /** Forces the first LLM round to call this tool (keypad actions). */
  forcedTool?: string | undefined;
  /** False for a keypad action that only says a line. */
  askLlm: boolean;
  /** The language Twilio heard the caller speak (the prompt's `lang`). */
  lang?: string | undefined;
}

/** `spoken`: everything the turn said to the caller (the silence timer estimates when its speech ends). */
export type TurnEnd = { handedOff: true; turn: number } | { handedOff: false; record: TurnRecord; spoken: string };

/** A speculative turn ends as the turn that adopted it, or dropped with what it cost. */
export type SpeculationEnd = TurnEnd | { handedOff: false; dropped: SpeculationRecord };

/** A speculative turn: an LLM request on a stable partial prompt, held until the final prompt confirms it. */
export interface SpeculativeTurn {
  connectionId: string;
  session: Session;
  messages: ChatMessage[];
  /** When the partial it answers reached us. */
  partialAt: number;
  /** The utterance so far (what the LLM is asked about; the history stores the final prompt's words). */
  userText: string;
  speculationId: string;
  holdMs: number;
  /** Writes the speculation to the ledger (once its LLM request is on the wire); false when the ledger refused it. */
  register: () => Promise<boolean>;
}

/** The turn's place in the ledger, decided once by its claim. */
type Claim =
  | { type: 'owner'; turn: number }
  /** A newer prompt already owns the reply: say nothing. */
  | { type: 'yielded'; turn: number }
  /** Twilio replayed a prompt already answered (after a reconnect): say nothing, store nothing. */
  | { type: 'replayed'; turn: number }
  /** The ledger could not be written (the table failed): the reply goes on uncoordinated rather than not at all. */
  | { type: 'uncoordinated'; turn: number };

type StopReason = PumpStopReason;

// Message ids are minted when a message comes into being, not when it is written: a reply written late (an
// interrupted or superseded turn) still sorts before the next turn's messages.

/**
 * One turn of the conversation, from the caller's words to the committed history: the LLM rounds, the streamed
 * reply, tool rounds, and the turn's part in the ledger protocol (engine/ledger/decide.ts). Linear: the claim is
 * a promise the steps that need it await, never a field set from a callback.
 */
class Turn {
  private readonly abort = new AbortController();
  private stopReason: StopReason | undefined;
  /** What the caller heard, when an interrupt stopped the turn. */
  private heard: { text: string; ms?: number | undefined } | undefined;
  private readonly pump: ReplyPump;
  private readonly watch: TurnWatch;
  private readonly recorder: TurnRecorder;
  private readonly writes: Promise<unknown>[] = [];
  /** Ids of the messages this turn has written (the newest goes on the ledger at commit). */
  private readonly written: string[] = [];
  private claim: Promise<Claim> | undefined;
  /** The newest ledger this turn has seen (its claim, its watch): its commit starts from it, saving a read. */
  private known: LedgerRead | undefined;
  /** What the history sent to the LLM was built from, and which earlier turns' heard text it already applied. */
  private base: { session: Session; messages: ChatMessage[]; abandoned: number[]; length: number; heard: Set<string> } | undefined;
  /** A newer ledger showing an interrupt the history did not apply yet: the reply restarts if nothing was said. */
  private correction: Ledger | undefined;
  private restartAttempt: (() => void) | undefined;
  /**
   * The messages holding this turn's words before its reply (a keypad line, each kept tool round's words, a tool's
   * line), where they stand in everything said: an interrupt cuts them to what was heard, like the reply.
   */
  private readonly held: HeldWords[] = [];
  /**
   * Where the words no message holds yet start, in everything this turn said (a prior invocation's words
   * included): the reply, finished or stopped, is what was said from here. Words said during a tool round (the
   * filler) are held by the next message, so none is lost and none is stored twice.
   */
  private heldUpTo: number;
  /** Opens the pump once the claim is decided: no frame of this turn reaches the caller before it owns the reply. */
  private claimDecided!: () => void;
  private replyMessageId: string | undefined;
  private finalText = '';
  private failed = false;
  private pendingEnd: { handoffData: string } | undefined;
  private readonly log: AppLogger;
  private readonly tentativeTurn: number;
  /** Set for a speculative turn: how it learns whether the final prompt confirmed it. */
  private speculation: SpeculationWatch | undefined;

  constructor(
    private readonly ctx: TurnContext,
    private readonly kind: 'prompt' | 'dtmf',
    private readonly connectionId: string,
    private readonly session: Session,
    private history: LlmMessage[],
    turn: number,
    promptReceivedAt: number,
    private readonly priorSpoken = '',
    carried: Partial<TurnRecord> = {},
    priorHeld = priorSpoken.length,
  ) {
    this.log = ctx.log;
    this.heldUpTo = priorHeld;
    this.tentativeTurn = turn;
    this.recorder = new TurnRecorder(
      ctx.clock,
      { sessionId: session.sessionId, turn, useCaseId: session.useCaseId, callSid: session.callSid, kind, promptReceivedAt, coldStart: ctx.coldStart },
      carried,
    );
    this.pump = new ReplyPump(ctx.sink, connectionId, ctx.clock, {
      onGone: () => this.stop('hangup'),
      onFailed: (error, message) => this.log.warn('post to connection failed', { error: error as Error, frameType: message.type }),
    });
    this.watch = new TurnWatch(ctx.store, session.sessionId, ctx.clock, ctx.config.watchIntervalMs, ctx.log, (standing) => this.stopFor(standing), (read) => this.onLedgerRead(read));
    this.pump.gate(new Promise<void>((resolve) => (this.claimDecided = resolve)));
    this.pump.startedBefore = priorSpoken !== '';
  }

  private get sessionId(): string {
    return this.session.sessionId;
  }

  private stopFor(standing: Exclude<Standing, { type: 'owner' }>): void {
    if (standing.type === 'interrupted') this.heard = { text: standing.heard, ms: standing.heardMs };
    // A dropped connection is a hang-up as far as this reply is concerned (a reconnect gets the next turn).
    this.stop(standing.type === 'cut-off' ? 'hangup' : standing.type);
  }

  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    if (reason === 'interrupted') this.recorder.interrupted();
    this.pump.stop(reason);
    this.abort.abort(new Error(`turn ${reason}`));
    this.watch.close();
    this.log.info('turn stopped', { reason });
  }

  // ----- a new turn ---------------------------------------------------------------------------------------------

  async start(input: NewTurn): Promise<TurnEnd> {
    const known: LedgerRead = { ledger: input.session.ledger, status: input.session.status };
    const callerWords: NewMessage[] = [{ messageId: newId(), role: 'user', content: input.userText, turn: 0, source: input.source, ...(input.lang ? { lang: input.lang } : {}) }];
    const language = replyLanguage(input.session, input.lang);
    this.pump.lang = language.lang;
    if (language.switched) this.rememberLanguage(language.switched);
    const sayId = input.say ? newId() : undefined;
    if (input.say && sayId) callerWords.push({ messageId: sayId, role: 'assistant', content: input.say, turn: 0 });
    const claimNow = (after?: Promise<void>) => this.startClaim(input, callerWords, known, after);

    // An earlier turn whose history is not in the table yet: claim first (so a reply still streaming stops), then
    // wait for its commit and read the history again. The common case goes straight on.
    if (uncommittedBefore(input.session.ledger, input.session.ledger.turnCount + 1).length > 0 || historyRaced(input.session.ledger, input.messages.map((m) => m.messageId))) {
      claimNow();
      if (!(await this.waitForHistory(input))) return this.finish();
    } else {
      this.history = this.historyFor(input.session, input.messages);
    }
    this.base!.length = this.history.length;
    this.history.push({ role: 'user', content: input.userText });
    if (language.lang) this.history.push({ role: 'system', content: languageNote(language.lang) });
    if (input.say) {
      this.history.push({ role: 'assistant', content: input.say });
      this.pump.say(input.askLlm ? `${input.say} ` : input.say);
      if (sayId) this.hold(sayId, this.said.length);
    }
    if (!input.askLlm) {
      claimNow();
      return this.finish();
    }
    // The claim and the caller's words go out once the LLM request has: they are never on the first-token path.
    const outcome = await this.converse(0, undefined, '', input.forcedTool, true, claimNow);
    if (outcome === 'handed-off') return { handedOff: true, turn: await this.turnNumber() };
    return this.finish();
  }

  private startClaim(input: NewTurn, callerWords: NewMessage[], known: LedgerRead, after?: Promise<void>): void {
    if (this.claim) return;
    const { store } = this.ctx;
    this.claim = (async (): Promise<Claim> => {
      await after;
      try {
        const { verdict, ledger, status } = await applyToLedger(store, this.sessionId, { type: 'claim', promptAt: input.promptReceivedAt, userText: input.userText }, known);
        // The claim's read may already show an interrupt of the previous reply that this turn's history lacks.
        this.onLedgerRead({ ledger, status });
        if (verdict.type === 'yield') {
          this.stop('superseded');
          return { type: 'yielded', turn: verdict.turnCount };
        }
        if (verdict.type === 'replayed') {
          this.log.info('prompt replayed after a reconnect was already answered; ignored', { turn: verdict.turn });
          this.stop('superseded');
          return { type: 'replayed', turn: verdict.turn };
        }
        if (verdict.type !== 'claimed') throw new Error(`unexpected claim verdict ${verdict.type}`);
        this.log.appendKeys({ turn: verdict.turn });
        this.recorder.turn(verdict.turn);
        this.recorder.speculated(ledger.turns[verdict.turn]?.speculations);
        this.watch.start(verdict.turn);
        return { type: 'owner', turn: verdict.turn };
      } catch (err) {
        this.log.error('could not claim the turn; the reply goes on uncoordinated', { error: err as Error });
        return { type: 'uncoordinated', turn: this.tentativeTurn };
      }
    })();
    void this.claim.then(this.claimDecided);
    this.save(callerWords, 'caller message not saved');
  }

  private async turnNumber(): Promise<number> {
    return (await this.claim)?.turn ?? this.tentativeTurn;
  }

  /**
   * Waits (bounded) until every earlier turn has committed its history, then reads the history again. A turn that
   * never commits (its invocation died) is abandoned: what the ledger carries of it (the caller's words) is used.
   * False when this turn no longer owns the reply.
   */
  private async waitForHistory(input: NewTurn): Promise<boolean> {
    const { store, clock, config } = this.ctx;
    const claim = await this.claim;
    if (!claim || claim.type === 'yielded' || this.stopReason) return false;
    const startedAt = clock.now();
    const abandoned: number[] = [];
    let session = input.session;
    let messages = input.messages;
    // Poll the ledger (one small read) until the earlier turns have committed, then read the history once more.
    let ledger = this.known?.ledger ?? session.ledger;
    let rereads = 0;
    for (;;) {
      const pending = uncommittedBefore(ledger, claim.turn);
      if (pending.length === 0) {
        if (ledger.v !== session.ledger.v) {
          try {
            ({ session, messages } = await store.loadConversation(this.sessionId, config.maxHistoryMessages));
            session = { ...session, ledger: withNotes(session.ledger) };
          } catch (err) {
            this.log.warn('history re-read failed; going on with what was read', { error: err as Error });
            break;
          }
          ledger = session.ledger;
        }
        if (!historyRaced(ledger, messages.map((m) => m.messageId)) || ++rereads > 3) break;
        // The messages were read before a commit the session item already showed: read them again.
        ledger = { ...ledger, v: -1 };
        continue;
      }
      if (clock.now() - startedAt >= config.historyWaitMs) {
        this.log.warn('earlier turn never committed its history; going on with what the ledger carries', { turns: pending });
        for (const turn of pending) {
          await applyToLedger(store, this.sessionId, { type: 'abandon', turn }).catch(() => undefined);
          abandoned.push(turn);
        }
        // A slow turn (not a dead one) has stored its words by now: read them, rather than the first read's.
        try {
          ({ session, messages } = await store.loadConversation(this.sessionId, config.maxHistoryMessages));
          session = { ...session, ledger: withNotes(session.ledger) };
          ledger = session.ledger;
        } catch (err) {
          this.log.warn('history re-read failed; going on with what was read', { error: err as Error });
        }
        break;
      }
      await sleep(clock, config.historyPollMs, this.abort.signal);
      if (this.stopReason) return false;
      const read = await store.readLedger(this.sessionId).catch(() => undefined);
      if (read) ledger = withNotes(read.ledger);
    }
    this.recorder.historyWaited(clock.now() - startedAt);
    // The newest read of the same version may show more: an interrupt whose note landed while this turn waited.
    if (ledger.v === session.ledger.v) session = { ...session, ledger };
    this.history = this.historyFor(session, messages, abandoned);
    return !this.stopReason;
  }

  /**
   * The LLM's view of the history: stored messages, with an interrupt that landed after its turn was committed
   * applied here (its rewrite may still be on the way), and the caller's words of a turn that never committed.
   */
  private historyFor(session: Session, messages: ChatMessage[], abandoned: number[] = []): LlmMessage[] {
    this.base = { session, messages, abandoned, length: 0, heard: heardTurns(session.ledger) };
    // Each pending interrupt cuts its turn's reply and the messages holding the words before it.
    const rewrites = new Map<string, string>();
    const byId = new Map(messages.map((m) => [m.messageId, m]));
    for (const p of heardToApply(session.ledger, messages)) {
      const cut = heardTurn(p.spokenBefore, byId.get(p.replyMessageId)?.content ?? '', p.held ?? [], p.heard, p.heardMs);
      rewrites.set(p.replyMessageId, cut.reply);
      for (const c of cut.cuts) rewrites.set(c.messageId, c.content);
    }
    const seen = new Set(messages.filter((m) => m.role === 'user').map((m) => m.turn));
    // This turn's own words may be in a history read again after its claim; they are added after the history.
    const view = messages.filter((m) => !this.written.includes(m.messageId)).map((m) => {
      const pending = rewrites.get(m.messageId);
      return pending === undefined ? m : { ...m, content: pending };
    });
    const carried: ChatMessage[] = [];
    for (const n of abandoned) {
      const entry = session.ledger.turns[n];
      if (entry?.userText && !seen.has(n)) carried.push({ messageId: '', role: 'user', content: entry.userText, turn: n, createdAt: '', expireAt: 0 });
      // Its reply may be stored whole while the caller heard only part of it (the turn never got to cut it).
      const reply = view.filter((m) => m.turn === n && m.role === 'assistant' && !m.interrupted && !m.toolCalls?.length).at(-1);
      if (entry?.heard !== undefined && reply) {
        const index = view.indexOf(reply);
        view[index] = { ...reply, content: heardReply(entry.spokenBefore ?? '', reply.content ?? '', entry.heard, entry.heardMs) };
      }
    }
    return toLlmMessages(session.systemPrompt, [...view, ...carried]);
  }

  // ----- a speculative turn (preemptive generation) ----------------------------------------------------------

  /**
   * Asks the LLM on a stable partial prompt. Its reply waits behind the pump's gate, and tool calls wait in
   * `converse`, until the ledger says a final prompt adopted it; a dropped speculation posts nothing, runs no tool
   * and writes no message, only a record of what it cost. Confirmed, it is that turn: the held text goes out at
   * once and the rest streams as in any turn.
   */
  async speculate(input: SpeculativeTurn): Promise<SpeculationEnd> {
    const { store, clock, config, log } = this.ctx;
    const watch = new SpeculationWatch(store, this.sessionId, input.speculationId, clock, config.speculationPollMs, input.holdMs, log);
    this.speculation = watch;
    // Minted now, so the caller's words sort before the reply whose id the first LLM round mints.
    const callerMessageId = newId();
    this.claim = watch.outcome.then((outcome) => this.onSpeculationSettled(outcome, callerMessageId));
    void this.claim.then(this.claimDecided);
    this.history = this.historyFor(input.session, input.messages);
    this.base!.length = this.history.length;
    this.history.push({ role: 'user', content: input.userText });
    // Registered once the request is on the wire (as a claim is): the write is never ahead of the LLM request.
    const register = (after?: Promise<void>) =>
      void (async () => {
        await after;
        if (await input.register()) watch.start();
        else watch.notRegistered();
      })();
    const outcome = await this.converse(0, undefined, '', undefined, true, register);
    if (outcome === 'handed-off') return { handedOff: true, turn: await this.turnNumber() };
    const claim = await this.claim;
    if (claim.type !== 'owner') return this.dropSpeculation(input, await watch.outcome);
    return this.finish();
  }

  private onSpeculationSettled(outcome: SpeculationOutcome, callerMessageId: string): Claim {
    if (outcome.type === 'dropped') {
      this.stop('superseded');
      return { type: 'yielded', turn: this.tentativeTurn };
    }
    const { turn, entry } = outcome;
    this.recorder.turn(turn);
    this.recorder.preempted(entry.promptAt, entry.speculations ?? 1);
    this.watch.start(turn);
    this.known = undefined;
    // The history keeps the final prompt's words, not the partial the LLM was asked with. Written once the held
    // reply's first post is on its way: the caller is waiting for that post, not for this write.
    this.writes.push(
      afterIoPoll()
        .then(() => {
          this.log.appendKeys({ turn });
          this.log.info('speculative turn confirmed', { speculationId: entry.speculationId });
          return this.ctx.store.appendMessages(this.sessionId, [{ messageId: callerMessageId, role: 'user', content: entry.userText, turn, source: 'speech' }]);
        })
        .then((stored) => this.written.push(...stored.map((m) => m.messageId)))
        .catch((err: unknown) => this.log.error('caller message not saved', { error: err as Error })),
    );
    return { type: 'owner', turn };
  }

  private async dropSpeculation(input: SpeculativeTurn, outcome: SpeculationOutcome): Promise<SpeculationEnd> {
    this.stop('superseded');
    await this.pump.settled();
    const record: SpeculationRecord = {
      sessionId: this.sessionId,
      speculationId: input.speculationId,
      useCaseId: this.session.useCaseId,
      callSid: this.session.callSid,
      startedAt: input.partialAt,
      endedAt: this.ctx.clock.now(),
      reason: outcome.type === 'dropped' ? outcome.reason : 'dropped',
      llmRequests: this.recorder.record.llmRounds ?? 0,
      usage: this.recorder.record.usage ?? { inputTokens: 0, outputTokens: 0, cachedTokens: 0 },
    };
    this.log.info('speculative turn dropped', { speculationId: input.speculationId, reason: record.reason, usage: record.usage });
    await this.ctx.store.putSpeculationRecord(record).catch((err: unknown) => this.log.error('speculation record not saved', { error: err as Error }));
    return { handedOff: false, dropped: record };
  }

  /**
   * Every ledger read of the watch. An interrupt of an earlier turn that lands after this turn read its history
   * (Twilio sends it before the new prompt, but their invocations race) means the history claims words the caller
   * never heard: while this reply has said nothing yet, its LLM request starts again with the history corrected.
   */
  private onLedgerRead(read: LedgerRead): void {
    this.known = read;
    const base = this.base;
    if (!base || this.pump.saidAnything) return;
    const fresh = [...heardTurns(read.ledger)].filter((n) => !base.heard.has(n) && Number(n) < this.tentativeTurn);
    if (fresh.length === 0) return;
    this.correction = read.ledger;
    this.restartAttempt?.();
  }

  /** The history again, from the same read, with the interrupts the newer ledger shows applied. */
  private corrected(ledger: Ledger): LlmMessage[] {
    const base = this.base!;
    const own = this.history.slice(base.length);
    const rebuilt = this.historyFor({ ...base.session, ledger }, base.messages, base.abandoned);
    this.base!.length = rebuilt.length;
    return [...rebuilt, ...own];
  }

  // ----- a turn continued from another invocation ------------------------------------------------------------

  async resume(state: ContinuedTurnState): Promise<TurnEnd> {
    this.pendingEnd = state.pendingEnd;
    this.replyMessageId = state.replyMessageId;
    this.held.push(...(state.held ?? []));
    this.pump.lang = replyLanguage(this.session, undefined).lang;
    this.claim = Promise.resolve({ type: 'owner', turn: state.turn });
    this.claimDecided();
    this.watch.start(state.turn);
    const standing = await this.watch.checkNow();
    if (standing.type !== 'owner') {
      this.stopFor(standing);
      return this.finish();
    }
    // A continued turn never hands off again: one hop at most.
    const outcome = await this.converse(state.round, state.pendingToolCalls, state.roundText, undefined, false);
    if (outcome === 'handed-off') return { handedOff: true, turn: state.turn };
    return this.finish();
  }

  // ----- LLM and tool rounds -------------------------------------------------------------------------------------

  private async converse(
    startRound: number,
    pending: ToolCall[] | undefined,
    pendingText: string,
    forcedTool: string | undefined,
    canHandOff: boolean,
    claimOnRequest?: (after?: Promise<void>) => void,
  ): Promise<'done' | 'handed-off'> {
    const maxRounds = this.session.llm?.maxToolRounds ?? 4;
    let round = startRound;
    let calls = pending;
    let roundText = pendingText;
    // Where the words of the round that asked for `calls` end (a continued turn's pending round ends its prior words).
    let roundEnd = this.said.length;
    while (!this.stopReason) {
      if (calls && calls.length > 0) {
        // No side effect for a turn that does not own the reply: a speculative turn's tool calls wait here for the
        // final prompt (and are dropped with it); any other turn's claim has long been decided by now.
        await this.claim;
        if (this.stopReason) break;
        const plan = planToolRound({
          now: this.ctx.clock.now(),
          budget: { deadlineAt: this.ctx.deadlineAt, llmRoundReserveMs: this.ctx.config.llmRoundReserveMs },
          toolTimeoutsMs: calls.map((c) => timeoutFor(this.session.tools.find((t) => t.name === c.name))),
          canHandOff: canHandOff && this.ctx.continuation !== undefined,
        });
        if (plan === 'hand-off' && (await this.handOff(round, calls, roundText))) return 'handed-off';
        // Tools act on the world: they run only for a turn that owns the reply (the claim may still be landing
        // when a quick LLM asks for them).
        const claim = await this.claim;
        if (this.stopReason) break;
        const results = await this.runTools(calls);
        round++;
        calls = undefined;
        if (this.stopReason) break;
        // Nothing is streaming now: the one read between rounds decides whether the round counts (an interrupt
        // noted while the tools ran drops it whole) and saves an LLM round that the interrupt made moot.
        const verdict = await this.roundVerdict(claim);
        if (verdict.type === 'drop') {
          this.stopFor(verdict.standing);
          break;
        }
        this.keepRound(results, roundEnd);
      }
      const toolChoice: LlmRequest['toolChoice'] = round >= maxRounds ? 'none' : round === 0 && forcedTool ? { name: forcedTool } : 'auto';
      const result = await this.streamRound(toolChoice, claimOnRequest);
      claimOnRequest = undefined;
      this.speculation?.replyReady();
      if (this.stopReason) break;
      if (result.toolCalls.length > 0 && toolChoice !== 'none') {
        calls = result.toolCalls;
        roundText = result.text;
        roundEnd = this.said.length;
        continue;
      }
      this.finalText = result.text;
      break;
    }
    return 'done';
  }

  private async streamRound(toolChoice: LlmRequest['toolChoice'], claimOnRequest?: (after?: Promise<void>) => void): Promise<{ text: string; toolCalls: ToolCall[] }> {
    const { llm, clock, config } = this.ctx;
    this.replyMessageId = newId();
    const request: LlmRequest = {
      model: this.session.llm?.model,
      temperature: this.session.llm?.temperature,
      messages: this.history,
      tools: this.session.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
      toolChoice,
    };
    let restarts = 0;
    for (let attempt = 1; ; attempt++) {
      const assembler = new ToolCallAssembler();
      let usage: { inputTokens: number; outputTokens: number; cachedTokens: number } | undefined;
      let chunks = 0;
      let sent = false;
      let text = '';
      let replyComplete = false;
      const calledAt = clock.now();
      this.recorder.roundStarted();
      const attemptAbort = new AbortController();
      const onTurnAbort = () => attemptAbort.abort(this.abort.signal.reason);
      this.abort.signal.addEventListener('abort', onTurnAbort, { once: true });
      this.restartAttempt = () => attemptAbort.abort(new Error('history corrected'));
      const events = llmAttempt(llm, request, { clock, signal: attemptAbort.signal, firstTokenMs: config.firstTokenTimeoutMs, idleMs: config.idleTimeoutMs });
      let end: AttemptEnd;
      for (;;) {
        const step = await events.next();
        if (step.done) {
          end = step.value;
          break;
        }
        const event = step.value;
        switch (event.type) {
          case 'request-sent':
            sent = true;
            this.recorder.requestSent(event.onWire, calledAt);
            // On the wire, the claim lets the event loop poll once first, so I/O already here (the LLM server's
            // side of the request when it shares this process, as locally and in the bench) is not held up by
            // the claim's SDK work. Started earlier, that work would delay the request itself.
            claimOnRequest?.(event.onWire ? afterIoPoll() : undefined);
            claimOnRequest = undefined;
            break;
          case 'first-chunk':
            this.recorder.firstChunk();
            break;
          case 'text':
            if (text === '') {
              this.recorder.firstText();
              if (this.needsSpaceBefore(event.text)) this.pump.say(' ');
            }
            chunks++;
            text += event.text;
            this.pump.say(event.text);
            break;
          case 'tool-call':
            chunks++;
            assembler.add(event);
            break;
          case 'usage':
            usage = event.usage;
            break;
          case 'finish':
            if (event.reason !== 'tool_calls' && assembler.size === 0 && text !== '') {
              // The reply is complete: end it now, so its last words and `last: true` leave together, rather than
              // once the HTTP response has ended (the SDK reads on after the finish until the body ends).
              replyComplete = true;
              void this.pump.end();
            }
            break;
        }
      }
      claimOnRequest?.();
      claimOnRequest = undefined;
      this.restartAttempt = undefined;
      this.abort.signal.removeEventListener('abort', onTurnAbort);
      this.recorder.roundEnded();
      // A stream cut short has no usage chunk, but its tokens are billed: count them from what went each way.
      if (usage) this.recorder.usage(usage);
      else if (sent) this.recorder.usage({ inputTokens: estimateTokens(request.messages), outputTokens: chunks, cachedTokens: 0, estimated: true });
      if (end.type === 'aborted' && !this.stopReason && this.correction && !this.pump.saidAnything && restarts < 2) {
        restarts++;
        attempt--;
        this.log.info('an earlier reply was interrupted after this turn read its history; asking the LLM again');
        this.history = this.corrected(this.correction);
        this.correction = undefined;
        request.messages = this.history;
        continue;
      }
      if (end.type === 'done') return { text, toolCalls: assembler.size > 0 ? assembler.result(`${this.sessionId}_${this.tentativeTurn}`) : [] };
      if (end.type === 'aborted' || this.stopReason) return { text, toolCalls: [] };
      if (replyComplete) {
        // The LLM had finished and the caller heard the whole reply: nothing to apologise for.
        this.log.warn('LLM stream failed after its finish; the reply was complete', { error: end.error as Error });
        return { text, toolCalls: [] };
      }
      const timeLeft = this.ctx.deadlineAt - clock.now() > config.firstTokenTimeoutMs + config.llmRoundReserveMs / 2;
      if (!end.gotFirst && attempt === 1 && end.retryable && timeLeft) {
        this.log.warn('LLM failed before its first token; retrying once', { error: end.error as Error, cause: end.cause });
        continue;
      }
      return this.fallback(end, text);
    }
  }

  /** The LLM failed or stalled: a short line closes the reply, but only if this turn still owns it. */
  private async fallback(end: Extract<AttemptEnd, { type: 'failed' }>, text: string): Promise<{ text: string; toolCalls: ToolCall[] }> {
    this.failed = true;
    this.recorder.failed(end.cause === 'error' ? errorText(end.error) : end.cause === 'idle-timeout' ? 'LLM stream stalled' : 'LLM first-token timeout');
    this.log.error('LLM request failed; closing the reply', { error: end.error as Error, cause: end.cause, gotFirst: end.gotFirst });
    // Unconfirmed, a failed speculation steps aside: the final prompt then runs a turn of its own.
    await this.speculation?.abandon();
    await this.claim;
    const standing = this.stopReason ? undefined : await this.watch.checkNow();
    if (standing && standing.type !== 'owner') this.stopFor(standing);
    if (this.stopReason) return { text, toolCalls: [] };
    const line = end.cause === 'idle-timeout' ? this.ctx.config.stallLine : this.ctx.config.apology;
    const spoken = `${text && !/\s$/.test(text) ? ' ' : ''}${line}`;
    this.pump.say(spoken);
    return { text: text + spoken, toolCalls: [] };
  }

  private async runTools(calls: ToolCall[]): Promise<ToolResult[]> {
    const { session } = this;
    const results = await runToolRound({
      calls,
      manifest: session.tools,
      caller: { sessionId: session.sessionId, callSid: session.callSid, from: session.from, to: session.to, useCaseId: session.useCaseId },
      invoker: this.ctx.tools,
      clock: this.ctx.clock,
      signal: this.abort.signal,
      log: this.log,
      slowAfterMs: session.filler?.afterMs,
      onSlow: () => this.sayFiller(),
    });
    this.recorder.tools(results.map((r) => r.timing));
    return results;
  }

  /** The read between a tool round and the next LLM round, judged by the ledger's rule for tool rounds. */
  private async roundVerdict(claim: Claim | undefined): Promise<RoundVerdict> {
    const read = await this.watch.readNow();
    return read === 'unknown' ? { type: 'keep' } : toolRoundVerdict(read, claim?.turn ?? this.tentativeTurn);
  }

  /**
   * A tool round that counts: its tool-call message (holding the words said since the last message, up to the end
   * of the round's text) and every result, stored together, then the actions the tools asked for.
   */
  private keepRound(results: ToolResult[], roundEnd: number): void {
    const toolCalls = results.map((r) => ({ id: r.call.id, name: r.call.name, arguments: r.historyArguments }));
    const messageId = newId();
    const content = this.hold(messageId, roundEnd) || null;
    const assistant: NewMessage = { messageId, role: 'assistant', content, toolCalls, turn: 0 };
    const toolMessages: NewMessage[] = results.map((r) => ({
      messageId: newId(),
      role: 'tool',
      content: toolResultContent(r.outcome),
      toolCallId: r.call.id,
      toolName: r.call.name,
      turn: 0,
    }));
    this.history.push({ role: 'assistant', content, toolCalls });
    for (const m of toolMessages) this.history.push({ role: 'tool', toolCallId: m.toolCallId as string, content: m.content ?? '' });
    this.save([assistant, ...toolMessages], 'turn messages not saved');

    for (const result of results) {
      if (result.outcome.ok) for (const action of result.outcome.actions ?? []) this.apply(action, result.call.name);
    }
  }

  /** Everything this turn said (queued, posted or not), the prior invocation's words first. */
  private get said(): string {
    return this.priorSpoken + this.pump.said;
  }

  /** Everything this turn said that was posted to the caller. */
  private get posted(): string {
    return this.priorSpoken + this.pump.spoken;
  }

  /** Message `messageId` holds the words said since the last held ones, up to `upTo`: returns them. */
  private hold(messageId: string, upTo: number): string {
    const start = this.heldUpTo;
    this.heldUpTo = Math.max(start, upTo);
    this.held.push({ messageId, start, end: this.heldUpTo });
    return this.said.slice(start, this.heldUpTo).trimStart();
  }

  /**
   * Whether text about to be spoken must be separated from what was said before it in this reply: the LLM's
   * rounds, a filler and a keypad line are written apart, and text-to-speech reads "check.The" as one word.
   */
  private needsSpaceBefore(text: string): boolean {
    if (/^\s/.test(text)) return false;
    return this.pump.saidAnything ? !this.pump.endsWithSpace : this.priorSpoken !== '' && !/\s$/.test(this.priorSpoken);
  }

  private sayFiller(): void {
    const filler = this.session.filler;
    if (!filler || this.stopReason) return;
    if (filler.playUrl) this.pump.send({ type: 'play', source: filler.playUrl });
    else this.pump.say(`${this.needsSpaceBefore(filler.text) ? ' ' : ''}${filler.text} `);
  }

  private apply(action: ToolAction, tool: string): void {
    this.log.info('tool action', { tool, action: action.type });
    switch (action.type) {
      case 'end':
        // Said after the reply: the LLM gets to say goodbye first.
        this.pendingEnd = { handoffData: JSON.stringify(action.handoffData) };
        break;
      case 'sendDigits':
        this.pump.send({ type: 'sendDigits', digits: action.digits });
        break;
      case 'language': {
        const frame: { type: 'language'; ttsLanguage?: string; transcriptionLanguage?: string } = { type: 'language' };
        if (action.ttsLanguage) frame.ttsLanguage = action.ttsLanguage;
        if (action.transcriptionLanguage) frame.transcriptionLanguage = action.transcriptionLanguage;
        this.pump.send(frame);
        if (action.ttsLanguage) {
          this.pump.lang = sameLanguage(action.ttsLanguage, defaultLanguageOf(this.session)) ? undefined : action.ttsLanguage;
          this.history.push({ role: 'system', content: languageNote(action.ttsLanguage) });
          this.rememberLanguage(action.ttsLanguage);
        }
        break;
      }
      case 'say': {
        // A line the tool wants said as is (a read-back, legal text): in the history too, so the LLM does not repeat it.
        const flags = { interruptible: action.interruptible, preemptible: action.preemptible };
        this.pump.say(`${this.needsSpaceBefore(action.text) ? ' ' : ''}${action.text} `, flags);
        const messageId = newId();
        const content = this.hold(messageId, this.said.length).trimEnd();
        if (!content) break;
        this.history.push({ role: 'assistant', content });
        this.save([{ messageId, role: 'assistant', content, turn: 0 }], 'tool line not saved');
        break;
      }
      case 'play':
        this.pump.send(withoutUndefined({ type: 'play', source: action.source, loop: action.loop, interruptible: action.interruptible, preemptible: action.preemptible }));
        break;
      case 'config': {
        const settings = withoutUndefined(action.settings);
        this.pump.send({ type: 'config', ...settings });
        const at = new Date(this.ctx.clock.now()).toISOString();
        this.writes.push(this.ctx.store.updateSession(this.sessionId, { configRequested: { settings, at } }).catch((err: unknown) => this.log.error('config request not recorded', { error: err as Error })));
        break;
      }
      case 'hints':
        this.pump.send({ type: 'hints', hints: action.hints.join(',') });
        break;
      case 'collectDigits':
        // The entry lives in the ledger: the keys that follow (each its own frame) are decided there.
        this.writes.push(
          applyToLedger(this.ctx.store, this.sessionId, { type: 'digits-start', at: this.ctx.clock.now(), spec: action.entry }).catch((err: unknown) =>
            this.log.error('keypad entry not started', { error: err as Error }),
          ),
        );
        break;
      case 'updateSession': {
        const changes: { tools?: Session['tools']; dtmfMap?: Session['dtmfMap'] } = {};
        if (action.tools) changes.tools = this.session.tools = action.tools;
        if (action.dtmfMap) changes.dtmfMap = this.session.dtmfMap = action.dtmfMap;
        this.writes.push(this.ctx.store.updateSession(this.sessionId, changes).catch((err: unknown) => this.log.error('session update not saved', { error: err as Error })));
        break;
      }
    }
  }

  /** The call now speaks another language: later turns reply in it too. */
  private rememberLanguage(language: string): void {
    this.session.language = language;
    this.writes.push(this.ctx.store.updateSession(this.sessionId, { language }).catch((err: unknown) => this.log.error('call language not saved', { error: err as Error })));
  }

  /** Writes messages of this turn once its number is known (after the claim). */
  private save(messages: NewMessage[], failure: string): void {
    const claim = this.claim ?? Promise.resolve<Claim>({ type: 'uncoordinated', turn: this.tentativeTurn });
    this.writes.push(
      claim
        .then((c) => (c.type === 'replayed' ? [] : this.ctx.store.appendMessages(this.sessionId, messages.map((m) => ({ ...m, turn: c.turn })))))
        .then((stored) => this.written.push(...stored.map((m) => m.messageId)))
        .catch((err: unknown) => this.log.error(failure, { error: err as Error })),
    );
  }

  private async handOff(round: number, calls: ToolCall[], roundText: string): Promise<boolean> {
    const continuation = this.ctx.continuation;
    if (!continuation) return false;
    // The continuation re-reads the history: everything said and stored so far must be there first.
    const claim = await this.claim;
    await Promise.allSettled(this.writes);
    await this.pump.idle();
    if (this.stopReason || !claim || claim.type !== 'owner') return false;
    const state: ContinuedTurnState = {
      kind: this.kind,
      connectionId: this.connectionId,
      sessionId: this.sessionId,
      endpoint: this.ctx.endpoint,
      turn: claim.turn,
      round,
      hops: 1,
      pendingToolCalls: calls,
      roundText,
      spokenText: this.priorSpoken + this.pump.spoken,
      heldChars: this.heldUpTo,
      held: this.held,
      replyMessageId: this.replyMessageId,
      pendingEnd: this.pendingEnd,
      timings: { ...this.recorder.carry(this.pump), ledgerReads: (this.recorder.record.ledgerReads ?? 0) + this.watch.reads },
    };
    try {
      await continuation.handOff(state);
      this.watch.close();
      this.log.info('slow tool round handed to an async invocation', { round, tools: calls.map((c) => c.name) });
      return true;
    } catch (err) {
      this.log.error('hand-off failed; running the tools here', { error: err as Error });
      return false;
    }
  }

  // ----- the end of a turn ---------------------------------------------------------------------------------------

  private async finish(): Promise<TurnEnd> {
    const { store } = this.ctx;
    if (!this.claim) {
      // Every path claims before it gets here; a turn that somehow did not posts nothing rather than uncoordinated.
      this.stop('superseded');
      this.claim = Promise.resolve({ type: 'yielded', turn: this.tentativeTurn });
      this.claimDecided();
    }
    let stored: Promise<void> | undefined;
    if (!this.stopReason) {
      if (!this.pump.saidAnything && !this.priorSpoken && !this.finalText) {
        // The LLM said nothing at all: never leave the caller in silence.
        this.finalText = this.ctx.config.apology;
        this.pump.say(this.finalText);
      }
      const ending = this.pump.end();
      // The reply is stored while its last piece is being posted, so a quick next prompt finds it; but only once
      // that post has been handed over and the loop has polled once, so the store's SDK work does not run ahead
      // of it and make the last words late.
      stored = this.pump.endHandedOver.then(afterIoPoll).then(() => (this.stopReason ? undefined : this.storeReply(this.said.slice(this.heldUpTo).trimStart(), false)));
      await ending;
    }
    this.watch.close();
    const claim = await this.claim;
    await this.pump.settled();
    // Before the commit: the newer turn that stopped this one waits for the commit before it asks the LLM.
    await this.pump.close();
    try {
      await stored;
      if (this.stopReason) await this.storeStoppedReply();
    } catch (err) {
      this.log.error('reply not saved', { error: err as Error });
    }
    await Promise.allSettled(this.writes);
    await this.commit(claim);
    if (this.pendingEnd && !this.stopReason) {
      const ended = await this.ctx.sink.post(this.connectionId, { type: 'end', handoffData: this.pendingEnd.handoffData });
      this.log.info('session ended by a tool', { posted: ended.status });
      await store
        .endSession(this.sessionId, 'handoff', { handoffData: this.pendingEnd.handoffData })
        .catch((err: unknown) => this.log.error('session end not saved', { error: err as Error }));
    }
    const record = this.recorder.finish(this.outcome(), this.pump, this.watch.reads);
    await store.putTurnRecord(record).catch((err: unknown) => this.log.error('turn record not saved', { error: err as Error }));
    return { handedOff: false, record, spoken: this.priorSpoken + this.pump.spoken };
  }

  /** Everything this turn said before its reply (the words other messages hold): what an interrupt's words are aligned against. */
  private get spokenBefore(): string {
    return this.said.slice(0, this.heldUpTo);
  }

  private async storeReply(content: string, heardApplied: boolean): Promise<void> {
    if (!content.trim()) return;
    // A turn continued after a hand-off and stopped before its first LLM round has no reply id yet.
    const messageId = (this.replyMessageId ??= newId());
    const claim = await this.claim;
    await this.ctx.store.appendMessages(this.sessionId, [{ messageId, role: 'assistant', content, turn: claim?.turn ?? this.tentativeTurn, ...(heardApplied ? { interrupted: true } : {}) }]);
    this.written.push(messageId);
    this.storedReply = { messageId, heardApplied };
  }

  private storedReply: { messageId: string; heardApplied: boolean } | undefined;

  /**
   * A stopped turn stores, after the words other messages hold, what the caller heard (interrupt) or, lacking word
   * from Twilio, what was posted.
   */
  private async storeStoppedReply(): Promise<void> {
    if (this.storedReply) return;
    const posted = this.posted.slice(this.heldUpTo);
    const content = this.heard ? heardReply(this.spokenBefore, posted, this.heard.text, this.heard.ms) : posted.trim();
    await this.storeReply(content, true);
    if (this.heard) await this.cutHeld(this.heard.text, this.heard.ms);
  }

  /** The messages holding words before the reply (tool rounds, lines) that the caller did not hear all of are cut too. */
  private async cutHeld(heard: string, heardMs: number | undefined): Promise<void> {
    // They must be in the table before they can be cut.
    await Promise.allSettled(this.writes);
    const heardUpTo = heardPrefix(this.posted, heard, heardMs).length;
    await Promise.all(
      heardCuts(this.said, this.held, heardUpTo).map((cut) =>
        this.ctx.store
          .rewriteHeard(this.sessionId, cut.messageId, cut.content)
          .catch((err: unknown) => this.log.error('words before the reply not cut to what was heard', { error: err as Error })),
      ),
    );
  }

  /**
   * Marks the turn's history committed in the ledger. An interrupt that landed after the reply was stored in full
   * makes the commit rewrite it to the heard part first.
   */
  private async commit(claim: Claim): Promise<void> {
    if (claim.type !== 'owner') return;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const { verdict } = await applyToLedger(
          this.ctx.store,
          this.sessionId,
          {
            type: 'commit',
            turn: claim.turn,
            replyMessageId: this.storedReply?.messageId,
            heardApplied: this.storedReply?.heardApplied ?? false,
            spokenBefore: this.spokenBefore,
            held: this.held,
            lastMessageId: this.written.sort().at(-1),
          },
          this.known,
        );
        this.known = undefined;
        if (verdict.type !== 'apply-heard' || !this.storedReply) return;
        this.heard = { text: verdict.heard, ms: verdict.heardMs };
        this.stopReason ??= 'interrupted';
        this.recorder.interrupted();
        const posted = this.posted.slice(this.heldUpTo);
        await this.ctx.store.rewriteHeard(this.sessionId, this.storedReply.messageId, heardReply(this.spokenBefore, posted, verdict.heard, verdict.heardMs));
        await this.cutHeld(verdict.heard, verdict.heardMs);
        this.storedReply.heardApplied = true;
      }
    } catch (err) {
      this.log.error('turn not committed in the ledger; the next turn will wait for it, then go on', { error: err as Error });
    }
  }

  private outcome(): TurnOutcome {
    switch (this.stopReason) {
      case 'interrupted':
      case 'superseded':
      case 'hangup':
      case 'ended':
        return this.stopReason;
      default:
        if (this.pendingEnd) return 'ended';
        return this.failed ? 'failed' : 'completed';
    }
  }
}

/**
 * The language a reply is in, as its text frames' `lang` (undefined for the use case's own language), and the
 * language the call switches to when the caller started speaking another one.
 */
export function replyLanguage(session: Session, heard: string | undefined): { lang: string | undefined; switched?: string } {
  const base = defaultLanguageOf(session);
  const current = session.language ?? base;
  const switched = heard && !sameLanguage(heard, current) ? heard : undefined;
  const now = switched ?? current;
  const lang = sameLanguage(now, base) ? undefined : now;
  return switched ? { lang, switched } : { lang };
}

/** ConversationRelay's own default when a use case names no language. */
const defaultLanguageOf = (session: Session): string => session.defaultLanguage ?? 'en-US';

/** Same language when the primary subtags match: Twilio may report "en" for a call set up as "en-US". */
function sameLanguage(a: string, b: string): boolean {
  return a.split('-')[0]!.toLowerCase() === b.split('-')[0]!.toLowerCase();
}

function languageNote(lang: string): string {
  return `The caller is speaking ${lang}. Reply in that language.`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Turns whose heard text the ledger records (by number, as the ledger keys them). */
function heardTurns(ledger: Ledger): Set<string> {
  return new Set(Object.entries(ledger.turns).filter(([, t]) => t.heard !== undefined).map(([n]) => n));
}

/**
 * Stored replies still holding more than the caller heard: their interrupt landed after the commit, and the
 * rewrite is on the way or happened after this history was read.
 */
function heardToApply(ledger: Ledger, messages: ChatMessage[]): PendingHeard[] {
  const byId = new Map(messages.map((m) => [m.messageId, m]));
  const out: PendingHeard[] = pendingHeard(ledger);
  for (const [n, t] of Object.entries(ledger.turns)) {
    const reply = t.replyMessageId ? byId.get(t.replyMessageId) : undefined;
    if (t.heard === undefined || !t.committed || !reply || reply.interrupted || out.some((p) => p.replyMessageId === reply.messageId)) continue;
    out.push({ turn: Number(n), replyMessageId: reply.messageId, heard: t.heard, heardMs: t.heardMs, spokenBefore: t.spokenBefore ?? '', ...(t.held ? { held: t.held } : {}) });
  }
  return out;
}

/** Resolves after the event loop has been through its I/O poll at least once (two check phases). */
function afterIoPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** About four characters a token: enough to see what an aborted request cost. */
function estimateTokens(messages: LlmMessage[]): number {
  let chars = 0;
  for (const m of messages) chars += (m.content ?? '').length + ('toolCalls' in m ? JSON.stringify(m.toolCalls ?? []).length : 0);
  return Math.ceil(chars / 4);
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs a new turn for a prompt or a keypad action. Never throws. */
export async function runTurn(ctx: TurnContext, input: NewTurn): Promise<TurnEnd> {
  const tentative = input.session.ledger.turnCount + 1;
  ctx.log.appendKeys({ turn: tentative });
  const turn = new Turn(ctx, input.kind, input.connectionId, input.session, [], tentative, input.promptReceivedAt);
  return turn.start(input);
}

/** Runs a speculative turn on a stable partial prompt. Never throws. */
export async function runSpeculativeTurn(ctx: TurnContext, input: SpeculativeTurn): Promise<SpeculationEnd> {
  const tentative = input.session.ledger.turnCount + 1;
  ctx.log.appendKeys({ speculationId: input.speculationId });
  const turn = new Turn(ctx, 'prompt', input.connectionId, input.session, [], tentative, input.partialAt);
  return turn.speculate(input);
}

/** Continues a turn handed off by another invocation (slow tools near API Gateway's 29 s). Never throws. */
export async function resumeTurn(ctx: TurnContext, state: ContinuedTurnState, session: Session, messages: ChatMessage[]): Promise<TurnEnd> {
  ctx.log.appendKeys({ turn: state.turn });
  const history = toLlmMessages(session.systemPrompt, messages);
  // A state handed off before `heldChars` existed: everything before the pending round's words was stored.
  const held = state.heldChars ?? Math.max(0, state.spokenText.length - state.roundText.length);
  const turn = new Turn(ctx, state.kind, state.connectionId, session, history, state.turn, state.timings.promptReceivedAt ?? ctx.clock.now(), state.spokenText, state.timings, held);
  return turn.resume(state);
}
