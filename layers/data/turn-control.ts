import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionFailedError, guard } from './errors.ts';
import { MESSAGE_PREFIX, sessionKey, sessionPk } from './keys.ts';
import { fromMessageItem, type ChatMessage } from './messages.ts';
import type { Table } from './table.ts';

/**
 * Coordination of turns across Lambda invocations. Every inbound frame is its own invocation, so a streaming
 * turn, the `interrupt` that cuts it off and the `prompt` that supersedes it meet only in the table. The state
 * lives on the session item (the one item every turn already reads), written with conditional updates:
 *
 * - `turnCount` / `replyTurn`: the turn that owns the reply. A newer prompt's claim raises them; an older turn
 *   that sees a higher `turnCount` is superseded and stops.
 * - `replyState`: `streaming` until the turn has stored its assistant message, then `done`.
 * - `interruptedTurn` / `interruptHeard`: set by `interrupt` to the turn then owning the reply and what the
 *   caller heard of it. A streaming turn that sees its own number there stops and stores only the heard text;
 *   if the reply was already `done`, the interrupt handler rewrites the stored message itself.
 * - `replyPromptAt`: when the owning turn's prompt arrived, so a claim that loses a race can tell whether it
 *   lost to an older prompt (then it claims again: newest prompt wins) or to a newer one (then it yields).
 * - `pendingPrompt`: pieces of a partial prompt (`last: false`) waiting for the final one.
 */
export interface TurnControl {
  turnCount: number;
  replyTurn?: number;
  replyState?: 'streaming' | 'done';
  replyPromptAt?: number;
  interruptedTurn?: number;
  interruptHeard?: string;
  status?: string;
}

/** The extra attributes above, as they appear on a loaded session item (loadConversation returns them too). */
export interface TurnControlFields {
  pendingPrompt?: string[];
  replyTurn?: number;
  replyState?: 'streaming' | 'done';
  replyPromptAt?: number;
  interruptedTurn?: number;
  interruptHeard?: string;
}

/**
 * Claims turn `readTurnCount + 1` for a reply that is starting: conditional on the count the caller read, and
 * consumes the partial prompt pieces the caller folded into its utterance. Throws ConditionFailedError when
 * another prompt claimed first.
 */
export async function claimReplyTurn(
  table: Table,
  sessionId: string,
  readTurnCount: number,
  promptAt: number,
  now = Date.now(),
): Promise<number> {
  const key = sessionKey(sessionId);
  const next = readTurnCount + 1;
  await guard('UpdateItem claim reply turn', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression:
          'SET turnCount = :next, replyTurn = :next, replyState = :streaming, replyPromptAt = :promptAt, updatedAt = :now REMOVE pendingPrompt',
        ConditionExpression: 'attribute_exists(pk) AND turnCount = :read',
        ExpressionAttributeValues: {
          ':next': next,
          ':read': readTurnCount,
          ':streaming': 'streaming',
          ':promptAt': promptAt,
          ':now': new Date(now).toISOString(),
        },
      }),
    ),
  );
  return next;
}

/** The coordination fields, strongly consistent: what a streaming turn re-reads between posts. */
export async function readTurnControl(table: Table, sessionId: string): Promise<TurnControl | undefined> {
  const key = sessionKey(sessionId);
  const out = await guard('GetItem turn control', key, () =>
    table.doc.send(
      new GetCommand({
        TableName: table.name,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'turnCount, replyTurn, replyState, replyPromptAt, interruptedTurn, interruptHeard, #status',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    ),
  );
  return out.Item ? toControl(out.Item) : undefined;
}

/** Keeps a partial prompt piece (`last: false`) until the final piece arrives. */
export async function appendPartialPrompt(table: Table, sessionId: string, piece: string, now = Date.now()): Promise<void> {
  const key = sessionKey(sessionId);
  await guard('UpdateItem partial prompt', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: 'SET pendingPrompt = list_append(if_not_exists(pendingPrompt, :empty), :piece), updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':empty': [], ':piece': [piece], ':now': new Date(now).toISOString() },
      }),
    ),
  );
}

export interface RecordedInterrupt {
  /** The turn whose reply the caller cut off. */
  turn: number;
  /** `done`: the reply had been stored already and must be rewritten by the interrupt handler. */
  replyState: 'streaming' | 'done';
}

/**
 * Marks the turn currently owning the reply as interrupted, with what the caller heard, in one write
 * (`interruptedTurn = replyTurn` copies the attribute server-side, so no read is needed first). Undefined when no
 * reply has ever been claimed (the caller cut into the welcome greeting).
 */
export async function recordInterrupt(table: Table, sessionId: string, heard: string, now = Date.now()): Promise<RecordedInterrupt | undefined> {
  const key = sessionKey(sessionId);
  try {
    const out = await guard('UpdateItem record interrupt', key, () =>
      table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: key,
          UpdateExpression: 'SET interruptedTurn = replyTurn, interruptHeard = :heard, updatedAt = :now',
          ConditionExpression: 'attribute_exists(replyTurn)',
          ExpressionAttributeValues: { ':heard': heard, ':now': new Date(now).toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const control = toControl(out.Attributes ?? {});
    if (control.replyTurn === undefined) return undefined;
    return { turn: control.replyTurn, replyState: control.replyState === 'done' ? 'done' : 'streaming' };
  } catch (err) {
    if (err instanceof ConditionFailedError) return undefined;
    throw err;
  }
}

/**
 * Marks the turn's reply stored. Called after the assistant message is written, so an interrupt that sees `done`
 * always finds the message. False when the turn was interrupted (or superseded) meanwhile: the caller must then
 * apply the heard text itself.
 */
export async function finishReply(table: Table, sessionId: string, turn: number, now = Date.now()): Promise<boolean> {
  const key = sessionKey(sessionId);
  try {
    await guard('UpdateItem finish reply', key, () =>
      table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: key,
          UpdateExpression: 'SET replyState = :done, updatedAt = :now',
          ConditionExpression: 'replyTurn = :turn AND (attribute_not_exists(interruptedTurn) OR interruptedTurn <> :turn)',
          ExpressionAttributeValues: { ':done': 'done', ':turn': turn, ':now': new Date(now).toISOString() },
        }),
      ),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionFailedError) return false;
    throw err;
  }
}

/** The newest spoken assistant message of a turn (the one an interrupt rewrites), or undefined. */
export async function lastAssistantReply(table: Table, sessionId: string, turn: number): Promise<ChatMessage | undefined> {
  const pk = sessionPk(sessionId);
  let start: Record<string, unknown> | undefined;
  // Newest first; a turn writes at most a few messages per tool round, so this ends on the first page.
  do {
    const out = await guard('Query last assistant reply', { pk }, () =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
          ExpressionAttributeValues: { ':pk': pk, ':msg': MESSAGE_PREFIX },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: 25,
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const item of out.Items ?? []) {
      const message = fromMessageItem(item);
      if (message.turn < turn) return undefined;
      if (message.turn === turn && message.role === 'assistant' && message.content !== null && !message.toolCalls?.length) {
        return message;
      }
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return undefined;
}

function toControl(item: Record<string, unknown>): TurnControl {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const control: TurnControl = { turnCount: num(item.turnCount) ?? 0 };
  const replyTurn = num(item.replyTurn);
  if (replyTurn !== undefined) control.replyTurn = replyTurn;
  if (item.replyState === 'streaming' || item.replyState === 'done') control.replyState = item.replyState;
  const promptAt = num(item.replyPromptAt);
  if (promptAt !== undefined) control.replyPromptAt = promptAt;
  const interrupted = num(item.interruptedTurn);
  if (interrupted !== undefined) control.interruptedTurn = interrupted;
  if (typeof item.interruptHeard === 'string') control.interruptHeard = item.interruptHeard;
  if (typeof item.status === 'string') control.status = item.status;
  return control;
}
