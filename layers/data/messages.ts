import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { guard } from './errors.ts';
import { newMessageId } from './ids.ts';
import { messageKey, MESSAGE_PREFIX } from './keys.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';

export type ChatRole = 'user' | 'assistant' | 'tool';

export interface StoredToolCall {
  id: string;
  name: string;
  /** The raw JSON text the LLM produced, kept verbatim so the next request replays it exactly. */
  arguments: string;
}

/** One entry of a call's chat history, in the roles the LLM API uses. */
export interface ChatMessage {
  messageId: string;
  role: ChatRole;
  /** Text spoken or heard; for tool messages the JSON result. Null for an assistant turn that only called tools. */
  content: string | null;
  toolCalls?: StoredToolCall[];
  /** For role `tool`: which call this answers. */
  toolCallId?: string;
  toolName?: string;
  turn: number;
  /** How the caller's input arrived. */
  source?: 'speech' | 'dtmf';
  /** The caller cut in: `content` holds only what they heard. */
  interrupted?: boolean;
  createdAt: string;
  expireAt: number;
}

export type NewMessage = Omit<ChatMessage, 'messageId' | 'createdAt' | 'expireAt'> & { messageId?: string };

/**
 * Appends messages; each gets a fresh ULID sort key unless the caller minted one (to refer to it later, e.g. for
 * interrupt truncation). attribute_not_exists turns an id collision into an error instead of a silent overwrite.
 */
export async function appendMessages(table: Table, sessionId: string, messages: NewMessage[], now = Date.now()): Promise<ChatMessage[]> {
  const createdAt = new Date(now).toISOString();
  const stored = messages.map((m): ChatMessage => ({ ...withinItemLimit(m), messageId: m.messageId ?? newMessageId(), createdAt, expireAt: expireAt(now) }));
  await Promise.all(
    stored.map((message) => {
      const key = messageKey(sessionId, message.messageId);
      return guard('PutItem message', key, () =>
        table.doc.send(
          new PutCommand({ TableName: table.name, Item: { ...key, ...message }, ConditionExpression: 'attribute_not_exists(pk)' }),
        ),
      );
    }),
  );
  return stored;
}

/**
 * DynamoDB refuses items over 400 KB, and a refused write would lose the message (and, for a tool round, leave a
 * call without its result, which strict LLM servers reject). Text is cut well below the limit, UTF-8 worst case
 * included, and the cut is marked so whoever reads it (the LLM too) knows.
 */
export const MAX_MESSAGE_CHARS = 60_000;
export const MAX_TOOL_ARGUMENT_CHARS = 8_000;
const CUT_MARK = ' [cut: too long to keep]';

function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - CUT_MARK.length) + CUT_MARK : text;
}

/** A message as it can be stored: text cut below the item limit, over-long tool arguments replaced by `{}`. */
export function withinItemLimit(message: NewMessage): NewMessage {
  const out: NewMessage = { ...message };
  if (typeof out.content === 'string') out.content = cut(out.content, MAX_MESSAGE_CHARS);
  if (out.toolCalls) {
    out.toolCalls = out.toolCalls.map((c) =>
      // Arguments must stay valid JSON for the next request: too long to keep means replaced by an empty object.
      c.arguments.length > MAX_TOOL_ARGUMENT_CHARS ? { ...c, arguments: '{}' } : c,
    );
  }
  return out;
}

export async function getMessage(table: Table, sessionId: string, messageId: string): Promise<ChatMessage | undefined> {
  const key = messageKey(sessionId, messageId);
  const out = await guard('GetItem message', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })));
  return out.Item ? fromMessageItem(out.Item) : undefined;
}

/**
 * Replaces an assistant message's text with what the caller actually heard before cutting in. Conditional: the
 * message must exist and be an assistant message, so a late interrupt can never create a phantom item.
 */
export async function rewriteHeard(table: Table, sessionId: string, messageId: string, heard: string): Promise<void> {
  const key = messageKey(sessionId, messageId);
  await guard('UpdateItem truncate message', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: 'SET content = :heard, interrupted = :yes',
        ConditionExpression: 'attribute_exists(pk) AND #role = :assistant',
        ExpressionAttributeNames: { '#role': 'role' },
        ExpressionAttributeValues: { ':heard': heard, ':yes': true, ':assistant': 'assistant' },
      }),
    ),
  );
}

export function fromMessageItem(item: Record<string, unknown>): ChatMessage {
  const { pk: _pk, sk, ...message } = item;
  return { ...(message as Omit<ChatMessage, 'messageId'>), messageId: String(sk).slice(MESSAGE_PREFIX.length) };
}
