import type { NewSession } from '../../../layers/data/index.ts';
import type { OutboundMessage } from '../../../layers/protocol/conversation-relay.ts';
import type { ToolInvocation, ToolInvoker, ToolOutcome } from '../../../layers/tools/contract.ts';
import type { EngineConfig } from '../../../02_cr-application/src/engine/turn.ts';
import { createConnectHandler } from '../../../02_cr-application/src/handlers/connect.ts';
import { createDefaultHandler } from '../../../02_cr-application/src/handlers/default.ts';
import { createDisconnectHandler } from '../../../02_cr-application/src/handlers/disconnect.ts';
import { CALL_TIMER_EVENT, inProcessCallTimer, type CallTimer, type TimerCheck } from '../../../02_cr-application/src/engine/continuity/call-timer.ts';
import { onTimerDue, type TimerOutcome } from '../../../02_cr-application/src/engine/continuity/timer-due.ts';
import { logger } from '../../../layers/observability/logger.ts';
import type { RouteResult, WebSocketEvent } from '../../../02_cr-application/src/handlers/websocket-event.ts';
import type { ContinuedTurnState, TurnContinuation } from '../../../02_cr-application/src/engine/ports.ts';
import { CONTINUE_TURN } from '../../../02_cr-application/src/edges/lambda-continuation.ts';
import { sessionFixture } from '../../support/sessions.ts';
import { createManualClock, type ManualClock } from './manual-clock.ts';
import { createMemoryStore, type MemoryStore } from './memory-store.ts';
import { createRecordingSink, type RecordingSink } from './recording-sink.ts';
import { createScriptedLlm, type ScriptedLlm } from './scripted-llm.ts';
import { settle } from './settle.ts';

/**
 * The engine as Lambda runs it ($default's handler factory), every edge in memory: a manual clock, the memory
 * store, a scripted LLM, a recording sink and in-process tools. Each frame is its own invocation, started and left
 * running, exactly as API Gateway does; the test decides when time passes and when the LLM speaks, so races
 * happen at the points the test names, in the same order on every run.
 */
export type ToolFunction = (invocation: ToolInvocation, signal: AbortSignal) => Promise<ToolOutcome>;

export interface EngineTier {
  clock: ManualClock;
  store: MemoryStore;
  llm: ScriptedLlm;
  sink: RecordingSink;
  tools: Record<string, ToolFunction>;
  /** Async continuations handed off so far (run them with `runContinuation`). */
  continuations: ContinuedTurnState[];
  call(overrides?: Partial<NewSession>): Promise<TierCall>;
  runContinuation(state: ContinuedTurnState): Promise<RouteResult>;
  /** What each silence check that ran decided, in order. */
  silenceChecks: TimerOutcome[];
  /** Every check the call timer ran, with what it decided, in order. */
  timerChecks: { check: TimerCheck; outcome: TimerOutcome }[];
  /** Connections API Gateway has closed (what GetConnection answers 410 for). */
  gone: Set<string>;
  /** Waits until every invocation started so far has returned, moving the clock as needed (bounded). */
  drain(maxMs?: number): Promise<void>;
}

export interface TierCall {
  sessionId: string;
  connectionId: string;
  /** Starts the invocation for one frame (not awaited: frames overlap as they do in AWS). */
  send(frame: unknown): Promise<RouteResult>;
  prompt(text: string): Promise<RouteResult>;
  partial(text: string): Promise<RouteResult>;
  interrupt(heard: string, durationMs?: number): Promise<RouteResult>;
  frames(): OutboundMessage[];
  texts(): { token: string; last: boolean }[];
  replies(): string[];
  /** The stored history as [role, content] pairs. */
  history(): [string, string | null][];
  /** The socket closes (API Gateway's $disconnect for this connection). */
  drop(): Promise<RouteResult>;
  /** A signed $connect for this call's session on a new connection, as ConversationRelay reconnects. */
  reconnect(): Promise<{ result: RouteResult; call: TierCall }>;
}

export async function createEngineTier(options: { config?: Partial<EngineConfig>; continuation?: boolean } = {}): Promise<EngineTier> {
  const clock = createManualClock();
  const store = createMemoryStore({ clock });
  const llm = createScriptedLlm({ clock });
  const sink = createRecordingSink({ clock });
  const tools: Record<string, ToolFunction> = {};
  const continuations: ContinuedTurnState[] = [];
  const running = new Set<Promise<unknown>>();
  const invoker: ToolInvoker = {
    async invoke(invocation, invokeOptions) {
      const fn = tools[invocation.tool];
      if (!fn) return { ok: false, error: { code: 'failed', message: `no tool function ${invocation.tool}` } };
      return fn(invocation, invokeOptions.signal ?? new AbortController().signal);
    },
  };
  const continuation: TurnContinuation = {
    async handOff(state) {
      continuations.push(JSON.parse(JSON.stringify(state)) as ContinuedTurnState);
    },
  };
  const silenceChecks: TimerOutcome[] = [];
  const timerChecks: { check: TimerCheck; outcome: TimerOutcome }[] = [];
  // The in-process call timer on the manual clock; a keypad entry's timeout runs in $default's handler, as the
  // SQS consumer's async invocation does in AWS.
  const callTimer: CallTimer = inProcessCallTimer(clock, (check) =>
    track(
      onTimerDue({ store, sinkFor: () => sink, timer: callTimer, clock, log: logger, runInEngine: (c) => track(handler({ source: CALL_TIMER_EVENT, check: c })) }, check).then((outcome) => {
        timerChecks.push({ check, outcome });
        if (check.kind === 'silence') silenceChecks.push(outcome);
      }),
    ),
  );
  const handler = createDefaultHandler({
    callTimer,
    store,
    llm,
    tools: invoker,
    sinkFor: () => sink,
    clock,
    config: options.config ?? {},
    ...(options.continuation ? { continuation } : {}),
  });
  const gone = new Set<string>();
  // The handshake signature is checked by its own tests; here every handshake is Twilio's.
  const connect = createConnectHandler({ store, verifySignature: async () => true, connectionGone: async (id) => gone.has(id), clock });
  const disconnect = createDisconnectHandler({ store, clock, callTimer });
  const track = <T>(p: Promise<T>): Promise<T> => {
    running.add(p);
    void p.finally(() => running.delete(p));
    return p;
  };
  let calls = 0;
  let connections = 0;
  const wsContext = (connectionId: string, routeKey: string, eventType: string) => ({
    connectionId,
    routeKey,
    eventType,
    domainName: 'tier.local',
    stage: 'test',
    requestTimeEpoch: clock.now(),
  });

  async function connectTo(sessionId: string): Promise<{ result: RouteResult; call: TierCall }> {
    const connectionId = `conn-${++connections}`;
    const result = await track(
      connect({ requestContext: wsContext(connectionId, '$connect', 'CONNECT'), queryStringParameters: { session: sessionId }, isBase64Encoded: false } as WebSocketEvent),
    );
    return { result, call: view(sessionId, connectionId) };
  }

  function view(sessionId: string, connectionId: string): TierCall {
    const send = (frame: unknown) => {
      const event: WebSocketEvent = {
        requestContext: wsContext(connectionId, '$default', 'MESSAGE'),
        body: typeof frame === 'string' ? frame : JSON.stringify(frame),
        isBase64Encoded: false,
      } as WebSocketEvent;
      return track(handler(event));
    };
    return {
      sessionId,
      connectionId,
      send,
      prompt: (text) => send({ type: 'prompt', voicePrompt: text, last: true }),
      partial: (text) => send({ type: 'prompt', voicePrompt: text, last: false }),
      interrupt: (heard, durationMs) => send({ type: 'interrupt', utteranceUntilInterrupt: heard, ...(durationMs !== undefined ? { durationUntilInterruptMs: durationMs } : {}) }),
      frames: () => sink.delivered(connectionId),
      texts: () => sink.texts(connectionId),
      replies: () => sink.replies(connectionId),
      history: () => store.messages(sessionId).map((m) => [m.role, m.content]),
      drop: () => {
        gone.add(connectionId);
        sink.answer(connectionId, 'gone');
        return track(disconnect({ requestContext: { ...wsContext(connectionId, '$disconnect', 'DISCONNECT'), disconnectStatusCode: 1006 }, isBase64Encoded: false } as WebSocketEvent));
      },
      reconnect: () => connectTo(sessionId),
    };
  }

  return {
    clock,
    store,
    llm,
    sink,
    tools,
    continuations,
    gone,
    silenceChecks,
    timerChecks,
    async call(overrides = {}) {
      calls++;
      const sessionId = `tier-${calls}`;
      await store.seedSession(sessionFixture(sessionId, overrides), clock.now());
      const { result, call } = await connectTo(sessionId);
      if ((result as { statusCode: number }).statusCode !== 200) throw new Error(`$connect refused the new call: ${JSON.stringify(result)}`);
      return call;
    },
    runContinuation: (state) => track(handler({ source: CONTINUE_TURN, state } as Parameters<typeof handler>[0])),
    async drain(maxMs = 60_000) {
      const startedAt = clock.now();
      for (;;) {
        await settle();
        if (running.size === 0) return;
        if (clock.now() - startedAt > maxMs) throw new Error(`invocations still running after ${maxMs} ms of call time`);
        if ((await clock.advanceToNext()) === undefined) {
          await settle();
          if (running.size > 0) throw new Error('invocations are waiting on something that is not time (an LLM gate or a held post?)');
        }
      }
    },
  };
}
