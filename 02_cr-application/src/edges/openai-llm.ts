import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { LlmError, type Llm, type LlmChunk, type LlmMessage, type LlmRequest, type LlmStreamEvents } from '../engine/ports.ts';

export interface OpenAiLlmOptions {
  /** OPENAI_BASE_URL: any OpenAI-compatible server; unset for OpenAI itself. */
  baseURL?: string | undefined;
  /** Asked before each request; the caller caches it (in AWS, the SSM secret reader with its TTL). */
  apiKey: () => Promise<string | undefined>;
  /** OPENAI_MODEL: used when the session names no model. */
  defaultModel: string;
}

function toOpenAiMessage(m: LlmMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content,
            tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
          }
        : { role: 'assistant', content: m.content ?? '' };
  }
}

export function toOpenAiRequest(request: LlmRequest, defaultModel: string): ChatCompletionCreateParamsStreaming {
  const params: ChatCompletionCreateParamsStreaming = {
    model: request.model ?? defaultModel,
    messages: request.messages.map(toOpenAiMessage),
    stream: true,
    // The last chunk then reports the tokens used: what a call costs is read from the stream, not estimated.
    stream_options: { include_usage: true },
  };
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.tools.length > 0) {
    params.tools = request.tools.map(
      (t): ChatCompletionTool => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }),
    );
    params.tool_choice = typeof request.toolChoice === 'string' ? request.toolChoice : { type: 'function', function: { name: request.toolChoice.name } };
  }
  return params;
}

function toLlmError(err: unknown): unknown {
  if (err instanceof OpenAI.APIUserAbortError) return err;
  if (err instanceof OpenAI.APIError) {
    const status = typeof err.status === 'number' ? err.status : undefined;
    const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    return new LlmError(`LLM request failed (${status ?? 'network'}): ${err.message}`, status, retryable, err);
  }
  return err;
}

/**
 * When a request is on the wire. The `openai` SDK's promise resolves only with the response headers, too late for
 * the engine, which wants its table writes to start the moment the LLM request has left and not a moment before
 * (their SDK work would otherwise delay it on this one thread). Node's fetch (undici) publishes each request it
 * creates and the moment its body has been written to the socket on diagnostics channels; the request made while
 * a stream's `create()` runs is that stream's (AsyncLocalStorage carries the owner through the SDK's awaits).
 */
const requestOwner = new AsyncLocalStorage<() => void>();
const sentListeners = new WeakMap<object, () => void>();
let watchingRequests = false;

function watchRequestsSent(): void {
  if (watchingRequests) return;
  watchingRequests = true;
  diagnostics.subscribe('undici:request:create', (message) => {
    const onSent = requestOwner.getStore();
    const request = (message as { request?: object }).request;
    if (onSent && request) sentListeners.set(request, onSent);
  });
  diagnostics.subscribe('undici:request:bodySent', (message) => {
    const request = (message as { request?: object }).request;
    const onSent = request && sentListeners.get(request);
    if (!request || !onSent) return;
    sentListeners.delete(request);
    onSent();
  });
}

function onceSafe(events: LlmStreamEvents | undefined): () => void {
  let called = false;
  return () => {
    if (called || !events?.onRequestSent) return;
    called = true;
    try {
      events.onRequestSent();
    } catch {
      // The engine's hook never throws; undici's write path must not see it if it did.
    }
  };
}

/**
 * Streaming chat completions through the `openai` SDK against OpenAI or any compatible server. The SDK's own
 * retries are off: the engine decides (one fast retry before the first token, only when there is time).
 */
export function createOpenAiLlm(options: OpenAiLlmOptions): Llm {
  let client: OpenAI | undefined;
  // The SDK asks for the key before each request, so a rotated key (re-read by the secret's TTL) is picked up
  // without a new client; the secret reader answers from its cache otherwise.
  const getClient = async () =>
    (client ??= new OpenAI({ apiKey: async () => (await options.apiKey()) ?? 'no-key-needed', baseURL: options.baseURL, maxRetries: 0 }));
  return {
    async *stream(request, signal, events): AsyncGenerator<LlmChunk> {
      const openai = await getClient();
      watchRequestsSent();
      let stream;
      try {
        stream = await requestOwner.run(onceSafe(events), () =>
          openai.chat.completions.create(toOpenAiRequest(request, options.defaultModel), { signal, maxRetries: 0 }),
        );
      } catch (err) {
        throw toLlmError(err);
      }
      try {
        for await (const chunk of stream) {
          if (chunk.usage) {
            const { prompt_tokens, completion_tokens, prompt_tokens_details } = chunk.usage;
            yield { type: 'usage', usage: { inputTokens: prompt_tokens, outputTokens: completion_tokens, cachedTokens: prompt_tokens_details?.cached_tokens ?? 0 } };
          }
          const choice = chunk.choices[0];
          if (!choice) continue;
          const delta = choice.delta;
          if (delta?.content) yield { type: 'text', text: delta.content };
          for (const call of delta?.tool_calls ?? []) {
            const piece: LlmChunk = { type: 'tool-call', index: call.index };
            if (call.id) piece.id = call.id;
            if (call.function?.name) piece.name = call.function.name;
            if (call.function?.arguments) piece.arguments = call.function.arguments;
            yield piece;
          }
          if (choice.finish_reason) yield { type: 'finish', reason: choice.finish_reason };
        }
      } catch (err) {
        throw toLlmError(err);
      }
    },
  };
}
