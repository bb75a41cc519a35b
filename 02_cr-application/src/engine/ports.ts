import type { ChatMessage, Conversation, NewMessage, SessionChanges, SpeculationRecord, TokenUsage, TurnRecord } from '../../../layers/data/index.ts';
import type { InterruptNote, Ledger, LedgerRead } from '../../../layers/data/turn-ledger.ts';
import type { OutboundMessage } from '../../../layers/protocol/conversation-relay.ts';
import type { ToolInvoker } from '../../../layers/tools/contract.ts';

/**
 * The engine's edges. Each is a small interface with an AWS implementation (src/edges) and a local one; the
 * engine never imports AWS, OpenAI or Twilio. Store errors are the typed ones of layers/data
 * (ConditionFailedError for a lost race, StoreError otherwise). The store is split by concern; a table-backed
 * implementation (edges/dynamo-store.ts) and the in-memory one of the tests implement all four.
 */

/** The call's session and its connection. */
export interface SessionStore {
  /**
   * Binds the call's first connection to its `created` session; answers with the session's call SID (for the
   * logs) and, when the call reconnects dropped sockets, their grace.
   */
  bindConnection(sessionId: string, connectionId: string): Promise<{ callSid: string; reconnectGraceMs?: number }>;
  /** Points a reconnected connection at its session (the turn ledger decided the reconnect). */
  pointConnection(connectionId: string, sessionId: string): Promise<void>;
  sessionIdForConnection(connectionId: string): Promise<string | undefined>;
  /** The session's call SID, for the logs of a handler that knows only the session (one GetItem). */
  callSidOf(sessionId: string): Promise<string | undefined>;
  updateSession(sessionId: string, changes: SessionChanges): Promise<void>;
  endSession(sessionId: string, reason: string, extra?: { handoffData?: string }): Promise<void>;
}

/** The chat history. */
export interface ConversationStore {
  /** The per-turn read: session (with its ledger) and the newest `maxMessages` messages, in write order. */
  loadConversation(sessionId: string, maxMessages: number): Promise<Conversation>;
  appendMessages(sessionId: string, messages: NewMessage[]): Promise<ChatMessage[]>;
  getMessage(sessionId: string, messageId: string): Promise<ChatMessage | undefined>;
  /** Replaces an assistant message's text with what the caller heard of it. */
  rewriteHeard(sessionId: string, messageId: string, heard: string): Promise<void>;
}

/**
 * The turn ledger (engine/ledger): read it, compare-and-set it. Beside it, the interrupt notes: an `interrupt`
 * frame's one write that cannot lose a race (read with the ledger, folded in by engine/ledger/decide.ts).
 */
export interface LedgerStore {
  readLedger(sessionId: string): Promise<LedgerRead | undefined>;
  /** Throws ConditionFailedError when the ledger is no longer at `expectedVersion`. */
  compareAndSetLedger(sessionId: string, expectedVersion: number, next: Ledger): Promise<void>;
  /** Unconditional; throws ConditionFailedError only for a session item without the notes map (an older one). */
  noteInterrupt(sessionId: string, note: InterruptNote): Promise<void>;
  clearInterruptNote(sessionId: string, at: number): Promise<void>;
}

export interface TurnRecordStore {
  putTurnRecord(record: TurnRecord): Promise<void>;
  /** What a speculative turn that was never confirmed cost. */
  putSpeculationRecord(record: SpeculationRecord): Promise<void>;
}

export type Store = SessionStore & ConversationStore & LedgerStore & TurnRecordStore;

// ----- LLM -----------------------------------------------------------------------------------------------------

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: { id: string; name: string; arguments: string }[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface LlmTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface LlmRequest {
  /** The session's model; the LLM edge falls back to its configured default. */
  model?: string | undefined;
  temperature?: number | undefined;
  messages: LlmMessage[];
  tools: LlmTool[];
  /** `auto` unless a keypad action forces a tool, or `none` once the tool-round budget is spent. */
  toolChoice: 'auto' | 'none' | { name: string };
}

/** One streamed piece of a chat completion, provider-neutral. */
export type LlmChunk =
  | { type: 'text'; text: string }
  /** A fragment of a tool call. Fragments of one call share `index`; `id` and `name` come in the first only. */
  | { type: 'tool-call'; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'finish'; reason: string }
  /** What the request cost, once per request when the provider reports it (after the finish). */
  | { type: 'usage'; usage: LlmUsage };

/**
 * Tokens of one LLM request (or, summed, of a turn), as the turn record keeps them. `cachedTokens` are the part of
 * `inputTokens` served from the provider's prompt cache.
 */
export type LlmUsage = TokenUsage;

/** A failed LLM request; `retryable` for 429/5xx/network errors. */
export class LlmError extends Error {
  readonly status: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, status: number | undefined, retryable: boolean, cause?: unknown) {
    super(message, { cause });
    this.name = 'LlmError';
    this.status = status;
    this.retryable = retryable;
  }
}

/** What an LLM edge can tell the engine about its request while the reply is still to come. */
export interface LlmStreamEvents {
  /**
   * The request has been handed to the network (its body written to the socket). Called at most once, possibly
   * never (an edge that cannot tell, a request that failed before it was sent): the engine then goes on at the
   * first chunk, the end of the stream or the failure, whichever comes first. Must not throw.
   */
  onRequestSent?(): void;
}

/** Streaming chat completion. Aborting the signal ends the stream (and the HTTP request) promptly. */
export interface Llm {
  stream(request: LlmRequest, signal: AbortSignal, events?: LlmStreamEvents): AsyncIterable<LlmChunk>;
}

// ----- Sink ----------------------------------------------------------------------------------------------------

export type PostResult =
  | { status: 'sent' }
  /** The caller hung up (410 GoneException): stop at once, never retry. */
  | { status: 'gone' }
  /** The frame failed validation and was not sent (a bug, already logged). */
  | { status: 'invalid' }
  | { status: 'failed'; error: unknown };

/** Posts one frame to one connection (PostToConnection in AWS). Never throws. */
export interface Sink {
  post(connectionId: string, message: OutboundMessage): Promise<PostResult>;
}

/** Where a connection's frames go: API Gateway's @connections endpoint for the event's domain and stage. */
export interface ConnectionsEndpoint {
  domainName?: string | undefined;
  stage?: string | undefined;
}

// ----- Clock ---------------------------------------------------------------------------------------------------

/**
 * Time, and every timer the engine sets (first-token and idle timeouts, the ledger watch, tool timeouts, the
 * filler): the tests drive a manual clock, so nothing the engine decides depends on how busy the machine is.
 */
export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` on the given clock (or at once when the signal aborts). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      cancel();
      resolve();
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// ----- Continuation (API Gateway's 29 s) -------------------------------------------------------------------------

/**
 * Hands the rest of a turn to another invocation that is not bound to API Gateway's integration timeout (an async
 * Lambda invocation of the same function in AWS). The state is plain JSON.
 */
export interface TurnContinuation {
  handOff(state: ContinuedTurnState): Promise<void>;
}

/** Everything a turn needs to go on elsewhere, as JSON: the tool calls still to run and what was said so far. */
export interface ContinuedTurnState {
  kind: 'prompt' | 'dtmf';
  connectionId: string;
  sessionId: string;
  endpoint: ConnectionsEndpoint;
  turn: number;
  /** Tool rounds already run. */
  round: number;
  /** How many times this turn was handed on: a continued turn never hands off again. */
  hops: number;
  pendingToolCalls: { id: string; name: string; arguments: string }[];
  /** Text the LLM streamed before asking for these tools (part of its tool-call message). */
  roundText: string;
  /** Everything posted to the caller so far in this reply. */
  spokenText: string;
  /**
   * How much of `spokenText` stored messages already hold (earlier tool rounds, lines): the rest (the pending
   * round's words) belongs to the pending tool-call message, or, if the turn is stopped first, to its reply.
   */
  heldChars?: number | undefined;
  /** The stored messages holding those words, as ranges of `spokenText` (an interrupt cuts them too). */
  held?: { messageId: string; start: number; end: number }[] | undefined;
  /**
   * The id minted for the pending round's words as a reply: a continuation stopped before its next LLM round
   * stores what was heard under it, so it sorts before any later turn's messages.
   */
  replyMessageId?: string | undefined;
  /** A tool asked to end the call once the reply is spoken. */
  pendingEnd?: { handoffData: string } | undefined;
  timings: Partial<TurnRecord>;
}

export type { ToolInvoker };
