import { randomBytes } from 'node:crypto';
import type { Reply } from './reply.ts';
import type { ChatCompletionRequest } from './request-schema.ts';
import { splitArguments, splitIntoTokens } from './tokens.ts';

/**
 * Turns a Reply into the exact objects OpenAI's Chat Completions API sends: `chat.completion.chunk` events for a
 * stream, or one `chat.completion` object. Timing and the socket belong to the server; this is only the shapes.
 */

export interface PlannedToolCall {
  index: number;
  id: string;
  name: string;
  arguments: string;
}

/** One tool_calls delta: the opening one names the call, the rest carry argument fragments. */
export type ToolCallDelta =
  | { index: number; id: string; type: 'function'; function: { name: string; arguments: string } }
  | { index: number; function: { arguments: string } };

export interface CompletionPlan {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  textTokens: string[];
  toolCalls: PlannedToolCall[];
  toolCallDeltas: ToolCallDelta[];
  finishReason: 'stop' | 'tool_calls';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } };
}

export function planCompletion(reply: Reply, request: ChatCompletionRequest): CompletionPlan {
  const textTokens = reply.tokens ?? splitIntoTokens(reply.text ?? '');
  const toolCalls: PlannedToolCall[] = (reply.toolCalls ?? []).map((call, index) => ({
    index,
    id: call.id ?? `call_${randomBytes(18).toString('base64url')}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const toolCallDeltas = reply.interleaveToolCalls ? interleaved(toolCalls) : sequential(toolCalls);
  // OpenAI's rule of thumb (four characters a token) is close enough for a usage chunk nobody bills.
  const promptTokens = reply.usage?.promptTokens ?? Math.ceil(JSON.stringify(request.messages).length / 4);
  const completionTokens =
    reply.usage?.completionTokens ??
    textTokens.length + toolCalls.reduce((sum, call) => sum + Math.ceil((call.name.length + call.arguments.length) / 4), 0);
  const cached = reply.usage?.cachedTokens;
  return {
    id: `chatcmpl-${randomBytes(15).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    includeUsage: request.stream_options?.include_usage === true,
    textTokens,
    toolCalls,
    toolCallDeltas,
    finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      ...(cached !== undefined ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
    },
  };
}

function deltasOf(call: PlannedToolCall): ToolCallDelta[] {
  return [
    { index: call.index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
    ...splitArguments(call.arguments).map((fragment) => ({ index: call.index, function: { arguments: fragment } })),
  ];
}

function sequential(calls: PlannedToolCall[]): ToolCallDelta[] {
  return calls.flatMap(deltasOf);
}

function interleaved(calls: PlannedToolCall[]): ToolCallDelta[] {
  const queues = calls.map(deltasOf);
  const out: ToolCallDelta[] = [];
  for (let round = 0; queues.some((q) => round < q.length); round++) {
    for (const queue of queues) {
      const delta = queue[round];
      if (delta) out.push(delta);
    }
  }
  return out;
}

/** The fields every chunk of one completion repeats. */
function chunkHeader(plan: CompletionPlan) {
  return { id: plan.id, object: 'chat.completion.chunk', created: plan.created, model: plan.model, system_fingerprint: null };
}

function chunk(plan: CompletionPlan, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    ...chunkHeader(plan),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
    ...(plan.includeUsage ? { usage: null } : {}),
  };
}

export function roleChunk(plan: CompletionPlan) {
  return chunk(plan, { role: 'assistant', content: '', refusal: null });
}

export function contentChunk(plan: CompletionPlan, token: string) {
  return chunk(plan, { content: token });
}

export function toolCallChunk(plan: CompletionPlan, delta: ToolCallDelta) {
  return chunk(plan, { tool_calls: [delta] });
}

export function finishChunk(plan: CompletionPlan) {
  return chunk(plan, {}, plan.finishReason);
}

export function usageChunk(plan: CompletionPlan) {
  return { ...chunkHeader(plan), choices: [], usage: plan.usage };
}

/** The non-streaming answer. */
export function completionObject(plan: CompletionPlan) {
  const content = plan.textTokens.join('');
  return {
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: content.length > 0 || plan.toolCalls.length === 0 ? content : null,
          refusal: null,
          ...(plan.toolCalls.length > 0
            ? {
                tool_calls: plan.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: plan.finishReason,
      },
    ],
    usage: plan.usage,
  };
}
