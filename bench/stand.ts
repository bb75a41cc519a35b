import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { startGateway, type Gateway, type WebSocketEvent } from '../dev/gateway/index.ts';
import { preciseNow, startLlmServer, type LlmServer, type Reply } from '../dev/llm/index.ts';
import { createSession, getSession, type Preemption, type Table } from '../layers/data/index.ts';
import type { ToolInvoker } from '../layers/tools/contract.ts';
import { connectionsSinkFactory } from '../02_cr-application/src/edges/connections-sink.ts';
import { createDynamoStore } from '../02_cr-application/src/edges/dynamo-store.ts';
import { createOpenAiLlm } from '../02_cr-application/src/edges/openai-llm.ts';
import type { ConnectionsEndpoint, Llm, Store } from '../02_cr-application/src/engine/ports.ts';
import { createConnectHandler } from '../02_cr-application/src/handlers/connect.ts';
import { createDefaultHandler } from '../02_cr-application/src/handlers/default.ts';
import { createDisconnectHandler } from '../02_cr-application/src/handlers/disconnect.ts';
import { createNaiveDefaultHandler } from './naive-handler.ts';
import type { RecordedRequest } from '../dev/llm/index.ts';
import { measureTurn, textPosts, type TextPost, type TurnSample } from './turn-sample.ts';

/**
 * The bench's test stand: one local API Gateway, one OpenAI-compatible LLM server and one table, with both
 * designs' $default handlers behind the same gateway. Each call is bound to one design at connect time; the
 * handlers are built the way the engine tests build them (real SDK clients, real sockets), so a turn here
 * crosses the same wires it crosses in AWS.
 */
export type Design = 'ours' | 'naive';

export interface ReplyPlan {
  tokens: string[];
  firstTokenMs: number;
  tokenGapMs: number;
}

/** One utterance said with a partial prompt first (preemption): `partial`, then `final` `leadMs` later. */
export interface Utterance {
  partial: string;
  final: string;
  leadMs: number;
}

/** What an utterance with a partial prompt looked like on the wires. */
export interface UtteranceWire {
  finalSentAt: number;
  /** Every LLM request the utterance caused, in arrival order. */
  requests: RecordedRequest[];
  /** Text posts to the caller during the utterance, in the order the gateway answered them. */
  posts: TextPost[];
}

export interface StandCall {
  design: Design;
  sessionId: string;
  connectionId: string;
  close(): Promise<void>;
}

export interface Stand {
  gateway: Gateway;
  llm: LlmServer;
  store: Store;
  openCall(design: Design, options?: { preemption?: Preemption }): Promise<StandCall>;
  /** Says a partial prompt, then the final one, and waits until the reply has ended and every handler returned. */
  runUtterance(call: StandCall, reply: ReplyPlan | ((userText: string) => ReplyPlan), utterance: Utterance): Promise<UtteranceWire>;
  /** Says one prompt on the call and waits until the reply has ended and the handler has returned. */
  runTurn(call: StandCall, reply: ReplyPlan, prompt?: string): Promise<TurnSample>;
  stop(): Promise<void>;
}

// The handshake signature is not what the bench measures; every connection is accepted.
const acceptAll = async () => true;
const noTools: ToolInvoker = {
  invoke: async () => ({ ok: false, error: { code: 'unknown_tool', message: 'the bench offers no tools' } }),
};
const TURN_TIMEOUT_MS = 60_000;

export async function startStand(table: Table): Promise<Stand> {
  const store = createDynamoStore(table);
  let nextReply: ReplyPlan | ((userText: string) => ReplyPlan) = { tokens: ['Hello.'], firstTokenMs: 0, tokenGapMs: 0 };
  const llm = await startLlmServer({
    responder: (body): Reply => {
      const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
      const plan = typeof nextReply === 'function' ? nextReply(typeof lastUser?.content === 'string' ? lastUser.content : '') : nextReply;
      return { tokens: plan.tokens, firstTokenMs: plan.firstTokenMs, tokenGapMs: plan.tokenGapMs };
    },
  });
  const naiveConnections = new Set<string>();
  const handlerRuns = new Map<string, Promise<unknown>>();
  /** Every handler run still going, per connection: a speculative turn outlives the frame after it. */
  const allRuns = new Map<string, Set<Promise<unknown>>>();
  let gatewayRef: Gateway | undefined;
  // Each design gets its own LLM client and @connections client (own connection pools), as two Lambda functions
  // would. The sink factory is built on first use: the gateway's URL is known only once it listens.
  // Two marks from inside the handler, taken by thin wrappers around its edges (one clock read each): how long
  // its conversation Query took, and when it asked the LLM, so a slow LLM dispatch can be told from a slow read.
  const probe = { readMs: Number.NaN, llmCalledAt: Number.NaN };
  const llmClient = (): Llm => {
    const client = createOpenAiLlm({ baseURL: llm.baseUrl, apiKey: async () => 'bench', defaultModel: 'bench-model' });
    return {
      stream(request, signal, events) {
        probe.llmCalledAt = preciseNow();
        return client.stream(request, signal, events);
      },
    };
  };
  const timedStore: Store = {
    ...store,
    async loadConversation(sessionId, maxMessages) {
      const started = preciseNow();
      const conversation = await store.loadConversation(sessionId, maxMessages);
      probe.readMs = preciseNow() - started;
      return conversation;
    },
  };
  const sinkForDesign = () => {
    let factory: ReturnType<typeof connectionsSinkFactory> | undefined;
    return (endpoint: ConnectionsEndpoint) =>
      (factory ??= connectionsSinkFactory({ CONNECTIONS_ENDPOINT: gatewayRef!.connectionsEndpoint, AWS_REGION: 'us-east-1' }))(endpoint);
  };
  const ours = createDefaultHandler({ store: timedStore, llm: llmClient(), tools: noTools, sinkFor: sinkForDesign() });
  const naive = createNaiveDefaultHandler({ store: timedStore, llm: llmClient(), sinkFor: sinkForDesign() });
  const onConnect = createConnectHandler({ store, verifySignature: acceptAll });
  const onDisconnect = createDisconnectHandler({ store });

  const gateway = await startGateway({
    websocket: {
      connect: async (event: WebSocketEvent) => {
        const result = await onConnect(event);
        if (result.statusCode === 200 && event.queryStringParameters?.design === 'naive') naiveConnections.add(event.requestContext.connectionId);
        return result;
      },
      message: (event: WebSocketEvent) => {
        const id = event.requestContext.connectionId;
        const run = naiveConnections.has(id) ? naive(event) : ours(event);
        handlerRuns.set(id, run);
        const runs = allRuns.get(id) ?? new Set();
        allRuns.set(id, runs);
        runs.add(run);
        void run.finally(() => runs.delete(run));
        return run;
      },
      disconnect: async (event: WebSocketEvent) => {
        naiveConnections.delete(event.requestContext.connectionId);
        return onDisconnect(event);
      },
    },
  });
  gatewayRef = gateway;

  const sockets = new Map<string, { ws: WebSocket; onLast: (() => void) | undefined }>();

  async function openCall(design: Design, options: { preemption?: Preemption } = {}): Promise<StandCall> {
    const sessionId = `bench-${design}-${randomUUID()}`;
    await createSession(table, {
      sessionId,
      callSid: `CA${randomUUID().replaceAll('-', '')}`,
      from: '+14065550100',
      to: '+14065550199',
      useCaseId: 'bench',
      systemPrompt: 'You are a helpful assistant on a phone call. Keep replies short.',
      tools: [],
      dtmfMap: {},
      llm: { maxToolRounds: 4 },
      filler: { afterMs: 5_000, text: 'One moment please.' },
      timeZone: 'America/Denver',
      ...(options.preemption ? { preemption: options.preemption } : {}),
    });
    const ws = new WebSocket(`${gateway.webSocketUrl}?session=${encodeURIComponent(sessionId)}&design=${design}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const connectionId = (await getSession(table, sessionId))?.connectionId;
    if (!connectionId) throw new Error('the bench call was not bound to its session');
    const entry: { ws: WebSocket; onLast: (() => void) | undefined } = { ws, onLast: undefined };
    ws.on('message', (data) => {
      try {
        const frame = JSON.parse(data.toString()) as { type?: unknown; last?: unknown };
        if (frame.type === 'text' && frame.last === true) entry.onLast?.();
      } catch {
        // Not a frame the bench cares about; the text check on the recorded posts catches anything wrong.
      }
    });
    sockets.set(connectionId, entry);
    ws.send(JSON.stringify({ type: 'setup', sessionId: `VX${randomUUID()}`, callSid: `CA${sessionId}`, from: '+14065550100', to: '+14065550199', customParameters: {} }));
    await handlerRuns.get(connectionId);
    return {
      design,
      sessionId,
      connectionId,
      async close() {
        sockets.delete(connectionId);
        if (ws.readyState === WebSocket.CLOSED) return;
        const closed = new Promise((resolve) => ws.once('close', resolve));
        ws.close(1000, 'bench call over');
        await closed;
      },
    };
  }

  async function runTurn(call: StandCall, reply: ReplyPlan, prompt = 'Tell me about the apartment.'): Promise<TurnSample> {
    const entry = sockets.get(call.connectionId);
    if (!entry) throw new Error('runTurn on a closed call');
    nextReply = reply;
    probe.readMs = Number.NaN;
    probe.llmCalledAt = Number.NaN;
    const requestsBefore = llm.requests.length;
    const postsBefore = gateway.posts.length;
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete reply within ${TURN_TIMEOUT_MS} ms`)), TURN_TIMEOUT_MS);
      entry.onLast = () => {
        clearTimeout(timer);
        entry.onLast = undefined;
        resolve();
      };
    });
    const promptSentAt = preciseNow();
    entry.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: prompt, lang: 'en-US', last: true }));
    await ended;
    // The handler's history writes and turn record finish off the caller's path; the next turn starts after them.
    await handlerRuns.get(call.connectionId);
    const requests = llm.requests.slice(requestsBefore);
    if (requests.length !== 1) throw new Error(`expected one LLM request for the turn, got ${requests.length}`);
    return measureTurn({
      promptSentAt,
      request: requests[0]!,
      posts: textPosts(gateway.posts.slice(postsBefore), call.connectionId),
      readMs: probe.readMs,
      llmCalledAt: probe.llmCalledAt,
    });
  }

  async function runUtterance(call: StandCall, reply: ReplyPlan | ((userText: string) => ReplyPlan), utterance: Utterance): Promise<UtteranceWire> {
    const entry = sockets.get(call.connectionId);
    if (!entry) throw new Error('runUtterance on a closed call');
    nextReply = reply;
    const requestsBefore = llm.requests.length;
    const postsBefore = gateway.posts.length;
    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete reply within ${TURN_TIMEOUT_MS} ms`)), TURN_TIMEOUT_MS);
      entry.onLast = () => {
        clearTimeout(timer);
        entry.onLast = undefined;
        resolve();
      };
    });
    entry.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: utterance.partial, lang: 'en-US', last: false }));
    await new Promise((resolve) => setTimeout(resolve, utterance.leadMs));
    const finalSentAt = preciseNow();
    entry.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: utterance.final, lang: 'en-US', last: true }));
    await ended;
    // The speculative turn (if any) and the final prompt's invocation both finish before the next utterance.
    for (;;) {
      const runs = [...(allRuns.get(call.connectionId) ?? [])];
      if (runs.length === 0) break;
      await Promise.allSettled(runs);
    }
    return {
      finalSentAt,
      requests: llm.requests.slice(requestsBefore),
      posts: textPosts(gateway.posts.slice(postsBefore), call.connectionId),
    };
  }

  return {
    gateway,
    llm,
    store,
    openCall,
    runTurn,
    runUtterance,
    async stop() {
      await gateway.stop();
      await llm.stop();
    },
  };
}
