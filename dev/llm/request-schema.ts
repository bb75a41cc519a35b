import { z } from 'zod';

/**
 * The Chat Completions request body as OpenAI accepts it, to the depth our engine and SDK clients use. Objects
 * are loose (OpenAI adds fields often and the SDK forwards whatever the caller sets), but everything the server or
 * the offline model reads is checked, and so are the conversation rules OpenAI enforces with a 400, so an engine
 * bug (a tool result without its call, a call left unanswered) fails here the way it would in production.
 */

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const TextPartSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
const ContentPartSchema = z.looseObject({ type: z.string().min(1) });

const SystemMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(TextPartSchema).min(1)]),
  name: z.string().optional(),
});

const UserMessageSchema = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(ContentPartSchema).min(1)]),
  name: z.string().optional(),
});

const ToolCallSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().regex(TOOL_NAME), arguments: z.string() }),
});

const AssistantMessageSchema = z.looseObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
  name: z.string().optional(),
  refusal: z.string().nullable().optional(),
});

const ToolMessageSchema = z.looseObject({
  role: z.literal('tool'),
  content: z.union([z.string(), z.array(TextPartSchema).min(1)]),
  tool_call_id: z.string().min(1),
});

export const ChatMessageSchema = z.discriminatedUnion('role', [
  SystemMessageSchema,
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
]);

export const ToolDefinitionSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(TOOL_NAME, 'function names are 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

export const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

export const ChatCompletionRequestSchema = z
  .looseObject({
    model: z.string().min(1),
    messages: z.array(ChatMessageSchema).min(1),
    tools: z.array(ToolDefinitionSchema).optional(),
    tool_choice: ToolChoiceSchema.optional(),
    parallel_tool_calls: z.boolean().optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    // We only ever produce one choice; asking for more would silently get fewer.
    n: z.literal(1).nullable().optional(),
    user: z.string().optional(),
  })
  .superRefine((body, ctx) => {
    const toolNames = new Set((body.tools ?? []).map((t) => t.function.name));
    if (typeof body.tool_choice === 'object') {
      const name = body.tool_choice.function.name;
      if (!toolNames.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tool_choice'],
          message: `Invalid value for 'tool_choice': function '${name}' is not one of the request's tools.`,
        });
      }
    }
    if (body.tool_choice === 'required' && toolNames.size === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['tool_choice'],
        message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      });
    }
    if (body.stream_options && !body.stream) {
      ctx.addIssue({
        code: 'custom',
        path: ['stream_options'],
        message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      });
    }
    checkToolCallPairing(body.messages, ctx);
  });

/** OpenAI's rule: every tool message answers a call of the assistant message before it, and every call is answered. */
function checkToolCallPairing(messages: ChatMessage[], ctx: z.RefinementCtx): void {
  let open: Set<string> | undefined;
  let openAt = -1;
  messages.forEach((message, i) => {
    if (message.role === 'tool') {
      if (!open || !open.delete(message.tool_call_id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['messages', i, 'tool_call_id'],
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'.",
        });
      }
      return;
    }
    if (open && open.size > 0) reportUnanswered(open, openAt, ctx);
    open = message.role === 'assistant' && message.tool_calls?.length ? new Set(message.tool_calls.map((c) => c.id)) : undefined;
    openAt = i;
  });
  if (open && open.size > 0) reportUnanswered(open, openAt, ctx);
}

function reportUnanswered(open: Set<string>, at: number, ctx: z.RefinementCtx): void {
  ctx.addIssue({
    code: 'custom',
    path: ['messages', at],
    message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
  });
}

export type ChatMessage = z.infer<typeof ChatMessageSchema>;
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema>;
export type ToolChoice = z.infer<typeof ToolChoiceSchema>;
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** `messages.3.content` -> `messages[3].content`, the way OpenAI names a parameter in its errors. */
export function toOpenAiParam(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** Plain text of a message's content, whichever form (string or parts) it came in. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : ''))
    .join('');
}
