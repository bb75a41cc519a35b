import type { ChatMessage, NewMessage, Session, ToolTiming, TurnControl, TurnControlFields, TurnRecord } from '../../../layers/data/index.ts';
import { ConditionFailedError } from '../../../layers/data/errors.ts';
import { createIdFactory } from '../../../layers/data/ids.ts';
import type { AppLogger } from '../../../layers/observability/logger.ts';
import type { ToolAction } from '../../../layers/tools/contract.ts';
import { toLlmMessages } from './history.ts';
import {
  LlmError,
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
import { addUsage } from './llm-usage.ts';
import { ToolCallAssembler, type ToolCall } from './tool-calls.ts';
import { runToolRound, timeoutFor, toolResultContent, type ToolResult } from './tool-round.ts';
import { planToolRound } from './turn-budget.ts';
import { TurnWatch } from './turn-watch.ts';

export interface EngineConfig {
  /** No first chunk from the LLM by then: abort and retry once (if the budget allows), else apologise. */
  firstTokenTimeoutMs: number;
  /** Budget of an invocation API Gateway waits on (its integration timeout is 29 s). */
  syncBudgetMs: number;
  /** Time kept for the LLM round after a tool round when deciding whether to hand off. */
  llmRoundReserveMs: number;
  /** Said when the LLM or the table fails: the caller never sits in silence. */
  apology: string;
}

export const defaultEngineConfig: EngineConfig = {
  firstTokenTimeoutMs: 5_000,
  syncBudgetMs: 26_000,
  llmRoundReserveMs: 6_000,
  apology: "Sorry, I'm having trouble right now. Could you say that again?",
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
  session: Session & TurnControlFields;
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
}

export type TurnEnd = { handedOff: true; turn: number } | { handedOff: false; record: TurnRecord };

type StopReason = PumpStopReason;

// Message ids are minted when a message comes into being, not when it is written: a reply written late (an
// interrupted or superseded turn) still sorts before the next turn's messages.
const newId = createIdFactory();

/**
 * One turn of the conversation, owned from the caller's words to the stored reply: the LLM rounds, the streamed
 * reply, tool rounds, the coordination with interrupts and newer prompts, the history writes and the turn record.
 */
class Turn {
  turn: number;
  private readonly record: TurnRecord;
  private readonly abort = new AbortController();
  private stopReason: StopReason | undefined;
  private stopControl: TurnControl | undefined;
  private readonly pump: ReplyPump;
  private readonly watch: TurnWatch;
  private readonly writes: Promise<unknown>[] = [];
  private claimed: Promise<unknown> = Promise.resolve();
  private readonly history: LlmMessage[];
  private readonly toolTimings: ToolTiming[] = [];
  private onFirstRequest: ((after?: Promise<void>) => void) | undefined;
  private replyMessageId: string | undefined;
  private finalText = '';
  private failed = false;
  private pendingEnd: { handoffData: string } | undefined;
  private readonly log: AppLogger;

  constructor(
    private readonly ctx: TurnContext,
    private readonly kind: 'prompt' | 'dtmf',
    private readonly connectionId: string,
    private readonly session: Session & TurnControlFields,
    messages: ChatMessage[],
    turn: number,
    promptReceivedAt: number,
    private readonly priorSpoken = '',
  ) {
    this.turn = turn;
    this.log = ctx.log;
    this.history = toLlmMessages(session.systemPrompt, messages);
    this.record = {
      sessionId: session.sessionId,
      turn,
      useCaseId: session.useCaseId,
      callSid: session.callSid,
      kind,
      promptReceivedAt,
      outcome: 'completed',
      coldStart: ctx.coldStart,
    };
    this.pump = new ReplyPump(ctx.sink, connectionId, ctx.clock, {
      onPosted: () => this.watch.check(),
      onGone: () => this.stop('hangup'),
      onFailed: (error, message) => this.log.warn('post to connection failed', { error: error as Error, frameType: message.type }),
    });
    this.watch = new TurnWatch(ctx.store, session.sessionId, () => this.turn, (verdict, control) => this.stop(verdict, control), ctx.log);
  }

  private get sessionId(): string {
    return this.session.sessionId;
  }

  stop(reason: StopReason, control?: TurnControl): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.stopControl = control;
    if (reason === 'interrupted') this.record.interruptedAt = this.ctx.clock.now();
    this.pump.stop(reason);
    this.abort.abort(new Error(`turn ${reason}`));
    this.watch.close();
    this.log.info('turn stopped', { reason });
  }

  // ----- a new turn ---------------------------------------------------------------------------------------------

  async start(input: NewTurn): Promise<TurnEnd> {
    const userMessage: NewMessage = { messageId: newId(), role: 'user', content: input.userText, turn: this.turn, source: input.source };
    this.history.push({ role: 'user', content: input.userText });
    const sayMessage: NewMessage | undefined = input.say
      ? { messageId: newId(), role: 'assistant', content: input.say, turn: this.turn }
      : undefined;
    if (input.say) {
      this.history.push({ role: 'assistant', content: input.say });
      this.pump.say(input.askLlm ? `${input.say} ` : input.say);
    }
    const claim = (after?: Promise<void>) =>
      this.claimAndSaveUser(input.session.turnCount, input.promptReceivedAt, [userMessage, ...(sayMessage ? [sayMessage] : [])], after);
    if (!input.askLlm) {
      claim();
      return this.finish();
    }
    // The claim and the user message go out only once the LLM request has: they are never on the first-token path.
    this.onFirstRequest = claim;
    const outcome = await this.converse(0, undefined, '', input.forcedTool);
    if (outcome === 'handed-off') return { handedOff: true, turn: this.turn };
    return this.finish();
  }

  /** `after`: the claim starts once it resolves; `claimed` is set at once, so the turn's end always waits for it. */
  private claimAndSaveUser(readTurnCount: number, promptAt: number, messages: NewMessage[], after?: Promise<void>): void {
    const { store } = this.ctx;
    this.claimed = (async () => {
      await after;
      let read = readTurnCount;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          this.turn = await store.claimReplyTurn(this.sessionId, read, promptAt);
          this.record.turn = this.turn;
          this.log.appendKeys({ turn: this.turn });
          break;
        } catch (err) {
          if (!(err instanceof ConditionFailedError)) {
            this.log.error('could not claim the turn; the reply goes on uncoordinated', { error: err as Error });
            break;
          }
          const control = await store.readTurnControl(this.sessionId).catch(() => undefined);
          if (!control || (control.replyPromptAt ?? 0) > promptAt) {
            // A newer prompt holds the reply: this older one yields before saying more.
            this.stop('superseded', control);
            break;
          }
          // Lost to an older prompt whose claim landed first: the newest prompt wins, claim the next number.
          read = control.turnCount;
        }
      }
      await store.appendMessages(this.sessionId, messages.map((m) => ({ ...m, turn: this.turn })));
    })().catch((err: unknown) => this.log.error('caller message not saved', { error: err as Error }));
    this.writes.push(this.claimed);
  }

  // ----- a turn continued from another invocation ------------------------------------------------------------

  async resume(state: ContinuedTurnState): Promise<TurnEnd> {
    Object.assign(this.record, state.timings, { turn: state.turn, coldStart: this.ctx.coldStart });
    this.pendingEnd = state.pendingEnd;
    const verdict = await this.watch.checkNow();
    if (verdict) {
      this.stop(verdict.verdict, verdict.control);
      return this.finish();
    }
    const outcome = await this.converse(state.round, state.pendingToolCalls, state.roundText, undefined);
    if (outcome === 'handed-off') return { handedOff: true, turn: this.turn };
    return this.finish();
  }

  // ----- LLM and tool rounds -------------------------------------------------------------------------------------

  private async converse(startRound: number, pending: ToolCall[] | undefined, pendingText: string, forcedTool: string | undefined): Promise<'done' | 'handed-off'> {
    const maxRounds = this.session.llm?.maxToolRounds ?? 4;
    let round = startRound;
    let calls = pending;
    let roundText = pendingText;
    while (!this.stopReason) {
      if (calls && calls.length > 0) {
        const plan = planToolRound({
          now: this.ctx.clock.now(),
          budget: { deadlineAt: this.ctx.deadlineAt, llmRoundReserveMs: this.ctx.config.llmRoundReserveMs },
          toolTimeoutsMs: calls.map((c) => timeoutFor(this.session.tools.find((t) => t.name === c.name))),
          canHandOff: this.ctx.continuation !== undefined,
        });
        if (plan === 'hand-off' && (await this.handOff(round, calls, roundText))) return 'handed-off';
        await this.runTools(calls, roundText);
        round++;
        calls = undefined;
        if (this.stopReason) break;
        const verdict = await this.watch.checkNow();
        if (verdict) {
          this.stop(verdict.verdict, verdict.control);
          break;
        }
      }
      const toolChoice: LlmRequest['toolChoice'] = round >= maxRounds ? 'none' : round === 0 && forcedTool ? { name: forcedTool } : 'auto';
      const result = await this.streamRound(toolChoice);
      if (this.stopReason) break;
      if (result.toolCalls.length > 0 && toolChoice !== 'none') {
        calls = result.toolCalls;
        roundText = result.text;
        continue;
      }
      this.finalText = result.text;
      break;
    }
    return 'done';
  }

  private async streamRound(toolChoice: LlmRequest['toolChoice']): Promise<{ text: string; toolCalls: ToolCall[] }> {
    const { llm, clock, config } = this.ctx;
    this.replyMessageId = newId();
    const request: LlmRequest = {
      model: this.session.llm?.model,
      temperature: this.session.llm?.temperature,
      messages: this.history,
      tools: this.session.tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
      toolChoice,
    };
    for (let attempt = 1; ; attempt++) {
      const attemptAbort = new AbortController();
      const onTurnAbort = () => attemptAbort.abort(this.abort.signal.reason);
      this.abort.signal.addEventListener('abort', onTurnAbort, { once: true });
      let firstTokenTimedOut = false;
      const firstTokenTimer = setTimeout(() => {
        firstTokenTimedOut = true;
        attemptAbort.abort(new Error('no first token in time'));
      }, config.firstTokenTimeoutMs);
      const assembler = new ToolCallAssembler();
      let text = '';
      let gotFirst = false;
      let replyComplete = false;
      // The turn's claim and the caller's message start once the request is on the wire: started earlier, their
      // SDK work (marshalling, signing) would run first on this one thread and delay the request. An edge that
      // cannot tell goes on at the first chunk, the end of the stream or a failure.
      const calledAt = clock.now();
      const first = this.onFirstRequest;
      this.onFirstRequest = undefined;
      let sent = false;
      const requestSent = (onWire: boolean) => {
        if (sent) return;
        sent = true;
        this.record.llmRequestSentAt ??= onWire ? clock.now() : calledAt;
        // On the wire: the claim also lets the event loop poll once first, so I/O that is already here (the LLM
        // server's side of the request when it shares this process, as locally and in the bench) is not held up
        // by the claim's ~2 ms of SDK work. It costs the claim a loop turn; the LLM's first token is far later.
        first?.(onWire ? afterIoPoll() : undefined);
      };
      try {
        this.record.llmRounds = (this.record.llmRounds ?? 0) + 1;
        const iterator = llm.stream(request, attemptAbort.signal, { onRequestSent: () => requestSent(true) })[Symbol.asyncIterator]();
        let next = iterator.next();
        for (;;) {
          const step = await next;
          requestSent(false);
          if (step.done || this.stopReason) break;
          const chunk = step.value;
          if (chunk.type === 'usage') {
            // What the request cost: summed into the turn record, never spoken.
            this.record.llmUsage = addUsage(this.record.llmUsage, chunk.usage);
            next = iterator.next();
            continue;
          }
          if (!gotFirst && chunk.type !== 'finish') {
            gotFirst = true;
            clearTimeout(firstTokenTimer);
            this.record.llmFirstTokenAt ??= clock.now();
          }
          if (chunk.type === 'text') {
            if (text === '') {
              // The first text of the turn's replies is what "our overhead" is measured from (tool-call chunks
              // may come earlier and are not something the caller can hear).
              this.record.llmFirstTextAt ??= clock.now();
              if (this.needsSpaceBefore(chunk.text)) this.pump.say(' ');
            }
            text += chunk.text;
            this.pump.say(chunk.text);
          } else if (chunk.type === 'tool-call') {
            assembler.add(chunk);
          } else if (chunk.reason !== 'tool_calls' && assembler.size === 0 && text !== '') {
            // The reply is complete: end it now, so its last words and `last: true` leave together, rather than
            // once the HTTP response has ended (the SDK reads on after the finish until the body ends).
            replyComplete = true;
            void this.pump.end();
          }
          next = iterator.next();
        }
        if (this.stopReason) void iterator.return?.(undefined)?.catch(() => undefined);
        // An aborted stream may simply end (the openai SDK swallows its own abort): a timeout is still a failure.
        else if (attemptAbort.signal.aborted) throw attemptAbort.signal.reason;
        this.record.llmLastTokenAt = clock.now();
        return { text, toolCalls: assembler.size > 0 ? assembler.result(`${this.sessionId}_${this.turn}`) : [] };
      } catch (err) {
        if (this.stopReason) return { text, toolCalls: [] };
        if (replyComplete) {
          // The LLM had finished and the caller heard the whole reply: nothing to apologise for.
          this.log.warn('LLM stream failed after its finish; the reply was complete', { error: err as Error });
          return { text, toolCalls: [] };
        }
        const retryable = firstTokenTimedOut || !(err instanceof LlmError) || err.retryable;
        const timeLeft = this.ctx.deadlineAt - clock.now() > config.firstTokenTimeoutMs + config.llmRoundReserveMs / 2;
        if (!gotFirst && attempt === 1 && retryable && timeLeft) {
          this.log.warn('LLM failed before its first token; retrying once', { error: err as Error, firstTokenTimedOut });
          continue;
        }
        this.failed = true;
        this.record.error = firstTokenTimedOut ? 'LLM first-token timeout' : errorText(err);
        this.log.error('LLM request failed; apologising to the caller', { error: err as Error, firstTokenTimedOut, gotFirst, attempt });
        const apology = `${text ? ' ' : ''}${config.apology}`;
        this.pump.say(apology);
        return { text: text + apology, toolCalls: [] };
      } finally {
        requestSent(false);
        clearTimeout(firstTokenTimer);
        this.abort.signal.removeEventListener('abort', onTurnAbort);
      }
    }
  }

  private async runTools(calls: ToolCall[], roundText: string): Promise<void> {
    const { session } = this;
    this.watch.check();
    const results: ToolResult[] = await runToolRound({
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
    this.toolTimings.push(...results.map((r) => r.timing));
    if (this.stopReason) return;

    const assistant: NewMessage = { messageId: newId(), role: 'assistant', content: roundText || null, toolCalls: calls, turn: this.turn };
    const toolMessages: NewMessage[] = results.map((r) => ({
      messageId: newId(),
      role: 'tool',
      content: toolResultContent(r.outcome),
      toolCallId: r.call.id,
      toolName: r.call.name,
      turn: this.turn,
    }));
    this.history.push({ role: 'assistant', content: roundText || null, toolCalls: calls });
    for (const m of toolMessages) this.history.push({ role: 'tool', toolCallId: m.toolCallId as string, content: m.content ?? '' });
    this.saveAfterClaim([assistant, ...toolMessages]);
    // Whatever is said next (the reply, or the heard text if the caller cuts in now) sorts after this round.
    this.replyMessageId = newId();

    for (const result of results) {
      if (result.outcome.ok) for (const action of result.outcome.actions ?? []) this.apply(action, result.call.name);
    }
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
    else {
      this.pump.say(`${this.needsSpaceBefore(filler.text) ? ' ' : ''}${filler.text} `);
    }
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
        break;
      }
      case 'updateSession': {
        const changes: { tools?: Session['tools']; dtmfMap?: Session['dtmfMap'] } = {};
        if (action.tools) changes.tools = this.session.tools = action.tools;
        if (action.dtmfMap) changes.dtmfMap = this.session.dtmfMap = action.dtmfMap;
        this.writes.push(this.ctx.store.updateSession(this.sessionId, changes).catch((err: unknown) => this.log.error('session update not saved', { error: err as Error })));
        break;
      }
    }
  }

  private saveAfterClaim(messages: NewMessage[]): void {
    this.writes.push(
      this.claimed
        .then(() => this.ctx.store.appendMessages(this.sessionId, messages.map((m) => ({ ...m, turn: this.turn }))))
        .catch((err: unknown) => this.log.error('turn messages not saved', { error: err as Error })),
    );
  }

  private async handOff(round: number, calls: ToolCall[], roundText: string): Promise<boolean> {
    const continuation = this.ctx.continuation;
    if (!continuation) return false;
    // The continuation re-reads the history: everything said and stored so far must be there first.
    await Promise.allSettled(this.writes);
    await this.pump.idle();
    if (this.stopReason) return false;
    const state: ContinuedTurnState = {
      kind: this.kind,
      connectionId: this.connectionId,
      sessionId: this.sessionId,
      endpoint: this.ctx.endpoint,
      turn: this.turn,
      round,
      pendingToolCalls: calls,
      roundText,
      spokenText: this.priorSpoken + this.pump.spoken,
      pendingEnd: this.pendingEnd,
      timings: this.timings(),
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
    let stored: Promise<void> | undefined;
    if (!this.stopReason) {
      if (!this.pump.spoken && !this.priorSpoken && !this.finalText && this.pump.tokens === 0) {
        // The LLM said nothing at all: never leave the caller in silence.
        this.finalText = this.ctx.config.apology;
        this.pump.say(this.finalText);
      }
      const ending = this.pump.end();
      // The reply is stored while its last piece is being posted, so a quick next prompt finds it in the history;
      // but only once that post has been handed over and the loop has polled once, so the store's SDK work does
      // not run ahead of it and make the last words late.
      stored = this.pump.endHandedOver.then(afterIoPoll).then(() => this.claimed).then(() => this.storeReply(undefined, ''));
      await ending;
    }
    this.watch.close();
    await this.claimed;
    try {
      await (stored ?? this.storeReply(this.stopReason, this.priorSpoken + this.pump.spoken));
    } catch (err) {
      this.log.error('reply not saved', { error: err as Error });
    }
    if (this.pendingEnd && !this.stopReason) {
      const ended = await this.ctx.sink.post(this.connectionId, { type: 'end', handoffData: this.pendingEnd.handoffData });
      this.log.info('session ended by a tool', { posted: ended.status });
      this.writes.push(
        store.endSession(this.sessionId, 'handoff', { handoffData: this.pendingEnd.handoffData }).catch((err: unknown) =>
          this.log.error('session end not saved', { error: err as Error }),
        ),
      );
    }
    await Promise.allSettled(this.writes);
    this.record.outcome = this.outcome();
    Object.assign(this.record, this.timings());
    this.record.lastTokenPostedAt = this.pump.lastTextPostedAt ?? this.record.lastTokenPostedAt;
    if (this.record.lastTokenPostedAt === undefined) delete this.record.lastTokenPostedAt;
    await store.putTurnRecord(this.record).catch((err: unknown) => this.log.error('turn record not saved', { error: err as Error }));
    return { handedOff: false, record: this.record };
  }

  private async storeReply(mode: StopReason | undefined, spoken: string): Promise<void> {
    const { store } = this.ctx;
    const messageId = this.replyMessageId ?? newId();
    switch (mode) {
      case undefined: {
        if (this.finalText) {
          await store.appendMessages(this.sessionId, [{ messageId, role: 'assistant', content: this.finalText, turn: this.turn }]);
        }
        if (await store.finishReply(this.sessionId, this.turn)) return;
        // Interrupted (or superseded) between the last post and now: apply what the caller heard ourselves.
        const control = await store.readTurnControl(this.sessionId);
        if (control?.interruptedTurn === this.turn) {
          this.stopReason = 'interrupted';
          this.record.interruptedAt = this.ctx.clock.now();
          if (this.finalText) await store.truncateToHeard(this.sessionId, messageId, control.interruptHeard ?? '');
        }
        return;
      }
      case 'interrupted': {
        const heard = this.stopControl?.interruptHeard ?? '';
        if (heard) await store.appendMessages(this.sessionId, [{ messageId, role: 'assistant', content: heard, turn: this.turn, interrupted: true }]);
        return;
      }
      case 'superseded':
      case 'hangup':
      case 'ended': {
        // No word from Twilio on what was heard (a newer prompt, a 410, or the session ended under us by the
        // caller hanging up): what was posted is the best record of what was said.
        if (spoken.trim()) {
          await store.appendMessages(this.sessionId, [{ messageId, role: 'assistant', content: spoken.trim(), turn: this.turn, interrupted: true }]);
        }
        return;
      }
    }
  }

  private outcome(): TurnRecord['outcome'] {
    switch (this.stopReason) {
      case 'interrupted':
        return 'interrupted';
      case 'superseded':
        return 'superseded';
      case 'hangup':
        return 'hangup';
      case 'ended':
        return 'ended';
      default:
        if (this.pendingEnd) return 'ended';
        return this.failed ? 'failed' : 'completed';
    }
  }

  private timings(): Partial<TurnRecord> {
    const t: Partial<TurnRecord> = {
      promptReceivedAt: this.record.promptReceivedAt,
      posts: (this.record.posts ?? 0) + this.pump.posts,
      tokens: (this.record.tokens ?? 0) + this.pump.tokens,
      tools: [...(this.record.tools ?? []), ...this.toolTimings],
    };
    for (const key of ['llmRequestSentAt', 'llmFirstTokenAt', 'llmFirstTextAt', 'llmLastTokenAt', 'llmRounds', 'llmUsage', 'error', 'interruptedAt'] as const) {
      if (this.record[key] !== undefined) (t as Record<string, unknown>)[key] = this.record[key];
    }
    const firstPosted = this.record.firstTokenPostedAt ?? this.pump.firstTextPostedAt;
    if (firstPosted !== undefined) t.firstTokenPostedAt = firstPosted;
    const lastPosted = this.pump.lastTextPostedAt ?? this.record.lastTokenPostedAt;
    if (lastPosted !== undefined) t.lastTokenPostedAt = lastPosted;
    return t;
  }
}

/** Resolves after the event loop has been through its I/O poll at least once (two check phases). */
function afterIoPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Runs a new turn for a prompt or a keypad action. Never throws. */
export async function runTurn(ctx: TurnContext, input: NewTurn): Promise<TurnEnd> {
  const turn = new Turn(ctx, input.kind, input.connectionId, input.session, input.messages, input.session.turnCount + 1, input.promptReceivedAt);
  ctx.log.appendKeys({ turn: input.session.turnCount + 1 });
  return turn.start(input);
}

/** Continues a turn handed off by another invocation (slow tools near API Gateway's 29 s). Never throws. */
export async function resumeTurn(ctx: TurnContext, state: ContinuedTurnState, session: Session & TurnControlFields, messages: ChatMessage[]): Promise<TurnEnd> {
  ctx.log.appendKeys({ turn: state.turn });
  const turn = new Turn(ctx, state.kind, state.connectionId, session, messages, state.turn, state.timings.promptReceivedAt ?? ctx.clock.now(), state.spokenText);
  return turn.resume(state);
}
