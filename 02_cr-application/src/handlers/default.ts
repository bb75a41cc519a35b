import type { ChatMessage, Session } from '../../../layers/data/index.ts';
import { awsDefaultDeps } from '../edges/aws-default-deps.ts';
import { logger as sharedLogger } from '../../../layers/observability/logger.ts';
import { metrics } from '../../../layers/observability/metrics.ts';
import { armAfterTurn } from '../engine/continuity/after-turn.ts';
import { isTimerEvent, TimerEventSchema, type CallTimer, type DigitsCheck, type TimerEvent } from '../engine/continuity/call-timer.ts';
import { onSilenceDue } from '../engine/continuity/silence.ts';
import { onDigitTimeout } from '../engine/messages/digit-entry.ts';
import { handleFrame } from '../engine/conversation.ts';
import type { FrameContext } from '../engine/messages/context.ts';
import { sayFallback } from '../engine/messages/spoken-fallback.ts';
import { systemClock, type Clock, type ConnectionsEndpoint, type ContinuedTurnState, type Llm, type Sink, type Store, type ToolInvoker, type TurnContinuation } from '../engine/ports.ts';
import { SessionDirectory } from '../engine/session-directory.ts';
import { deadlineFor } from '../engine/turn-budget.ts';
import { defaultEngineConfig, resumeTurn, type EngineConfig, type TurnContext, type TurnEnd } from '../engine/turn.ts';
import { ContinueTurnEventSchema, isContinueTurnEvent, type ContinueTurnEvent } from '../edges/lambda-continuation.ts';
import { countPostErrors, countTableErrors } from './counted-edges.ts';
import { countMetric, flushMetrics, recordSpeculationMetrics, recordTurnMetrics } from './turn-metrics.ts';
import { frameText, invocationContext, type HandlerLogger, type LambdaContextLike, type RouteResult, type WebSocketEvent } from './websocket-event.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

export interface DefaultDeps {
  store: Store;
  llm: Llm;
  tools: ToolInvoker;
  /** The sink for a connection's @connections endpoint (from the event, or fixed locally). */
  sinkFor: (endpoint: ConnectionsEndpoint) => Sink;
  /**
   * The call timer: silence reprompts and keypad entry timeouts. Without it a silent caller hears nothing until
   * Twilio hangs up, and an entry ends only with the call's next frame.
   */
  callTimer?: CallTimer;
  /** Where a turn near API Gateway's 29 s hands its slow tool round; without it every turn runs in place. */
  continuation?: TurnContinuation;
  clock?: Clock;
  config?: Partial<EngineConfig>;
  log?: HandlerLogger;
}

/** How long a continued turn may run when no Lambda context says (locally). */
const CONTINUATION_BUDGET_MS = 10 * 60_000;

/**
 * $default: every frame of the call (and, in AWS, the async continuation of a slow turn). A thin adapter: builds
 * the turn context from the event and hands the frame to the engine. A frame always gets 200 with no body. A
 * continuation that cannot run (malformed, or an unexpected failure) is counted and rethrown instead: Lambda then
 * hands the event to the function's on-failure destination, where an operator sees it (an alarm watches it).
 */
export function createDefaultHandler(deps: DefaultDeps) {
  const log = deps.log ?? sharedLogger;
  const clock = deps.clock ?? systemClock;
  const config: EngineConfig = { ...defaultEngineConfig, ...deps.config };
  const store = countTableErrors(deps.store);
  const directory = new SessionDirectory(store);
  const beginInvocation = invocationContext(log);

  return async function onDefault(event: WebSocketEvent | ContinueTurnEvent | TimerEvent, context?: LambdaContextLike): Promise<RouteResult> {
    const startedAt = clock.now();
    // When the frame reached API Gateway: it orders frames of one call that race through separate invocations
    // (an interrupt and the prompt after it), whichever invocation runs first.
    const epoch = (event as WebSocketEvent).requestContext?.requestTimeEpoch;
    const receivedAt = typeof epoch === 'number' && epoch <= startedAt ? epoch : startedAt;
    const isColdStart = beginInvocation(context);
    const continuation = isContinueTurnEvent(event);
    const timerEvent = isTimerEvent(event);
    try {
      if (isColdStart) metrics.captureColdStartMetric();
      const remaining = context?.getRemainingTimeInMillis?.();
      if (timerEvent) {
        const parsed = TimerEventSchema.safeParse(event);
        if (!parsed.success) {
          // Nobody is on the line for this event: logged and dropped (a retry could not fix it).
          log.error('malformed call timer event dropped', { detail: parsed.error.message });
          return { statusCode: 200 };
        }
        const { check } = parsed.data;
        if (check.kind === 'silence') {
          // A reprompt the use case has the LLM phrase: the same silence check, run here where the LLM is.
          if (deps.callTimer) await onSilenceDue({ store, sinkFor: deps.sinkFor, timer: deps.callTimer, clock, log, llm: deps.llm }, check);
          else log.error('silence check handed to a $default without the call timer; dropped');
          return { statusCode: 200 };
        }
        const deadlineAt = deadlineFor(startedAt, CONTINUATION_BUDGET_MS, remaining, startedAt);
        report(await entryTimedOut(check, deadlineAt, isColdStart));
        return { statusCode: 200 };
      }
      if (continuation) {
        const parsed = ContinueTurnEventSchema.safeParse(event);
        if (!parsed.success) throw new MalformedContinuationError(parsed.error.message);
        const state: ContinuedTurnState = parsed.data.state;
        const deadlineAt = deadlineFor(startedAt, CONTINUATION_BUDGET_MS, remaining, startedAt);
        report(await continueTurn(state, turnContext(state.endpoint, deadlineAt, isColdStart), directory));
        return { statusCode: 200 };
      }
      const wsEvent = event as WebSocketEvent;
      const connectionId = wsEvent.requestContext.connectionId;
      log.appendKeys({ connectionId });
      const endpoint: ConnectionsEndpoint = { domainName: wsEvent.requestContext.domainName, stage: wsEvent.requestContext.stage };
      const ctx: FrameContext = {
        ...turnContext(endpoint, deadlineFor(startedAt, config.syncBudgetMs, remaining, startedAt), isColdStart),
        connectionId,
        directory,
        receivedAt,
        callTimer: deps.callTimer,
      };
      const result = await handleFrame(ctx, frameText(wsEvent));
      if (result.kind === 'turn') report(result.end);
      if (result.kind === 'speculation') {
        if ('dropped' in result.end) recordSpeculationMetrics(result.end.dropped);
        else report(result.end);
      }
    } catch (err) {
      if (continuation) {
        log.error('turn continuation failed; handed to the on-failure destination', { error: err as Error });
        countMetric('ContinuationFailures');
        flushMetrics();
        throw err;
      }
      if (timerEvent) {
        // Lambda retries an async invocation that throws; the ledger makes a retried check harmless.
        log.error('call timer check failed in $default; Lambda retries it', { error: err as Error });
        countMetric('HandlerErrors');
        flushMetrics();
        throw err;
      }
      log.error('unexpected $default failure', { error: err as Error });
      countMetric('HandlerErrors');
    } finally {
      flushMetrics();
    }
    return { statusCode: 200 };
  };

  function turnContext(endpoint: ConnectionsEndpoint, deadlineAt: number, isColdStart: boolean): TurnContext {
    return {
      store,
      llm: deps.llm,
      sink: countPostErrors(deps.sinkFor(endpoint)),
      tools: deps.tools,
      clock,
      log,
      config,
      continuation: deps.continuation,
      endpoint,
      deadlineAt,
      coldStart: isColdStart,
    };
  }

  /**
   * The call timer says a keypad entry's deadline passed: the entry ends (the ledger decides, so a key that landed
   * first wins) and its digits become the caller's turn, on the connection the ledger names.
   */
  async function entryTimedOut(check: DigitsCheck, deadlineAt: number, isColdStart: boolean): Promise<TurnEnd | undefined> {
    log.appendKeys({ sessionId: check.sessionId });
    const read = await store.readLedger(check.sessionId);
    const connection = read?.ledger.connection;
    if (!read || read.status === 'ended' || !read.ledger.digits || !connection || connection.state !== 'connected') {
      log.info('keypad entry timeout with no entry or no connection; nothing to do');
      return undefined;
    }
    log.appendKeys({ connectionId: connection.id });
    directory.remember(connection.id, check.sessionId);
    const ctx: FrameContext = {
      ...turnContext(check.endpoint, deadlineAt, isColdStart),
      connectionId: connection.id,
      directory,
      receivedAt: clock.now(),
      callTimer: deps.callTimer,
    };
    const result = await onDigitTimeout(ctx);
    return result.kind === 'turn' ? result.end : undefined;
  }

  function report(end: TurnEnd | undefined): void {
    if (end && !end.handedOff) recordTurnMetrics(end.record);
  }

  async function continueTurn(state: ContinuedTurnState, ctx: TurnContext, dir: SessionDirectory): Promise<TurnEnd | undefined> {
    log.appendKeys({ connectionId: state.connectionId, sessionId: state.sessionId });
    dir.remember(state.connectionId, state.sessionId);
    let session: Session;
    let messages: ChatMessage[];
    try {
      ({ session, messages } = await ctx.store.loadConversation(state.sessionId, config.maxHistoryMessages));
      const end = await resumeTurn(ctx, state, session, messages);
      // A turn handed off after a slow tool round ends here: what the caller does next is timed from here too.
      await armAfterTurn({ ...ctx, callTimer: deps.callTimer }, session, end);
      return end;
    } catch (err) {
      // The caller is waiting on this reply: a failed continuation ends in a spoken line, never in silence.
      log.error('turn continuation failed', { error: err as Error });
      await sayFallback({ ...ctx, connectionId: state.connectionId, directory: dir, receivedAt: clock.now() });
      return undefined;
    }
  }
}

/** A continuation event that does not match its schema (a bug between two versions of this function, say). */
export class MalformedContinuationError extends Error {
  constructor(detail: string) {
    super(`malformed turn continuation: ${detail}`);
    this.name = 'MalformedContinuationError';
  }
}

const defaultHandler = lazy(() => createDefaultHandler(awsDefaultDeps()));

/** The Lambda entry point: AWS deps built once per container, on the first invocation. */
export const handler = async (event: WebSocketEvent | ContinueTurnEvent, context?: LambdaContextLike): Promise<RouteResult> => {
  return defaultHandler()(event, context);
};
