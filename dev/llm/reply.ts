import type { ChatCompletionRequest } from './request-schema.ts';

/** What the server sends back for one request; the Responder decides it, the server handles the wire. */
export interface Reply {
  text?: string;
  toolCalls?: ReplyToolCall[];
  /** Explicit streaming chunks for the text; otherwise the text is split into word-sized tokens, spaces kept. */
  tokens?: string[];
  /** Per-reply overrides of the server's timing. */
  firstTokenMs?: number;
  tokenGapMs?: number;
  /** Answer with this HTTP error instead of a completion, before any token. */
  error?: ReplyError;
  /** Stream this many text tokens, then cut the connection: a mid-stream failure as the client sees one. */
  failAfterTokens?: number;
  /**
   * Stream the tool calls' deltas round-robin instead of one call after the other. OpenAI sends them in order,
   * but clients must assemble by `index`, and this proves they do.
   */
  interleaveToolCalls?: boolean;
  /** The usage chunk's numbers (with `stream_options.include_usage`); estimated from the text when absent. */
  usage?: { promptTokens: number; completionTokens: number; cachedTokens?: number };
}

export interface ReplyToolCall {
  name: string;
  arguments: string | Record<string, unknown>;
  /** The tool_call id; generated when absent. */
  id?: string;
}

export interface ReplyError {
  status: number;
  message: string;
  type?: string;
  code?: string;
  /** Sent as the `retry-after` header (any status; 429 is where clients look for it). */
  retryAfterSeconds?: number;
}

export type Responder = (request: ChatCompletionRequest) => Reply | Promise<Reply>;

export interface Timing {
  /** From the request's arrival to the first token written. */
  firstTokenMs?: number;
  /** Between one token and the next. */
  tokenGapMs?: number;
}
