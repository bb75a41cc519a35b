import OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { LlmError, type Llm, type LlmChunk, type LlmMessage, type LlmRequest } from '../engine/ports.ts';

export interface OpenAiLlmOptions {
  /** OPENAI_BASE_URL: any OpenAI-compatible server; unset for OpenAI itself. */
  baseURL?: string | undefined;
  /** Fetched lazily (SSM in AWS) the first time a request is made, then reused. */
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
 * Streaming chat completions through the `openai` SDK against OpenAI or any compatible server. The SDK's own
 * retries are off: the engine decides (one fast retry before the first token, only when there is time).
 */
export function createOpenAiLlm(options: OpenAiLlmOptions): Llm {
  let client: Promise<OpenAI> | undefined;
  const getClient = () =>
    (client ??= options.apiKey().then(
      (apiKey) => new OpenAI({ apiKey: apiKey ?? 'no-key-needed', baseURL: options.baseURL, maxRetries: 0 }),
      (err: unknown) => {
        client = undefined;
        throw err;
      },
    ));
  return {
    async *stream(request, signal): AsyncGenerator<LlmChunk> {
      const openai = await getClient();
      let stream;
      try {
        stream = await openai.chat.completions.create(toOpenAiRequest(request, options.defaultModel), { signal, maxRetries: 0 });
      } catch (err) {
        throw toLlmError(err);
      }
      try {
        for await (const chunk of stream) {
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
