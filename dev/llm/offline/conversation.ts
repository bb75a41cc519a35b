import { messageText, type ChatMessage } from '../request-schema.ts';

/**
 * Reads a conversation the way the offline model needs it: at a given message, what did the caller last say,
 * which tool results are waiting for an answer, and which tool calls were already made since the caller spoke
 * (the loop guard's memory). Everything comes from the messages, so the same conversation always reads the same.
 */

export interface ToolResult {
  name: string;
  /** The call's arguments, parsed (the raw string if not JSON). */
  args: unknown;
  /** The tool message's content, parsed as JSON when it is JSON. */
  result: unknown;
}

export interface Moment {
  /** Who spoke last: the caller, tools, or nobody the model must answer. */
  kind: 'user' | 'toolResult' | 'other';
  latestUser?: string;
  /** The results of the latest tool round, in call order; empty unless kind is toolResult. */
  toolResults: ToolResult[];
  /** Assistant messages with tool calls since the caller last spoke. */
  toolRoundsSinceUser: number;
  /** `callSignature`s of every tool call since the caller last spoke. */
  callsSinceUser: Set<string>;
  /** The latest result of each tool in the conversation so far, by tool name. */
  latestResults: Record<string, unknown>;
}

export function momentAt(messages: ChatMessage[], end: number): Moment {
  const upTo = messages.slice(0, end + 1);
  const last = lastSpoken(upTo);
  let userAt = -1;
  for (let i = upTo.length - 1; i >= 0; i--) {
    if (upTo[i]!.role === 'user') {
      userAt = i;
      break;
    }
  }
  const latestUser = userAt >= 0 ? messageText(upTo[userAt]!.content) : undefined;

  const calls = new Map<string, { name: string; args: unknown }>();
  let toolRoundsSinceUser = 0;
  const callsSinceUser = new Set<string>();
  upTo.forEach((message, i) => {
    if (message.role !== 'assistant' || !message.tool_calls?.length) return;
    for (const call of message.tool_calls) {
      const args = parseJson(call.function.arguments);
      calls.set(call.id, { name: call.function.name, args });
      if (i > userAt) callsSinceUser.add(callSignature(call.function.name, args));
    }
    if (i > userAt) toolRoundsSinceUser++;
  });

  const latestResults: Record<string, unknown> = {};
  for (const message of upTo) {
    if (message.role !== 'tool') continue;
    const call = calls.get(message.tool_call_id);
    if (call) latestResults[call.name] = parseJson(messageText(message.content));
  }

  const toolResults: ToolResult[] = [];
  for (let i = last ? upTo.lastIndexOf(last) : -1; i >= 0 && upTo[i]!.role === 'tool'; i--) {
    const message = upTo[i]!;
    if (message.role !== 'tool') break;
    const call = calls.get(message.tool_call_id);
    if (call) toolResults.unshift({ name: call.name, args: call.args, result: parseJson(messageText(message.content)) });
  }

  const kind = last?.role === 'user' ? 'user' : last?.role === 'tool' ? 'toolResult' : 'other';
  return {
    kind,
    ...(latestUser !== undefined ? { latestUser } : {}),
    toolResults,
    toolRoundsSinceUser,
    callsSinceUser,
    latestResults,
  };
}

/** Earlier points where the model was asked to speak: a caller message or a tool round that an assistant answered. */
export function pastDecisionPoints(messages: ChatMessage[]): number[] {
  const points: number[] = [];
  for (let i = 0; i < messages.length - 1; i++) {
    const role = messages[i]!.role;
    if ((role === 'user' || role === 'tool') && messages[i + 1]!.role === 'assistant') points.push(i);
  }
  return points;
}

/** Identifies a call by tool and arguments, whatever the key order. */
export function callSignature(name: string, args: unknown): string {
  return `${name} ${canonicalJson(args)}`;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The last message that is not a system note: a note after the caller's words ("reply in Spanish") is not a turn. */
function lastSpoken(messages: ChatMessage[]): ChatMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role !== 'system') return messages[i];
  return undefined;
}
