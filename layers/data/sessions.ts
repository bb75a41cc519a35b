import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { guard, NotFoundError } from './errors.ts';
import { connectionKey, GSI1, MESSAGE_PREFIX, sessionIndexPk, sessionKey, sessionPk } from './keys.ts';
import { fromMessageItem, type ChatMessage } from './messages.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';
import type { DtmfMap, ToolManifestEntry, UseCaseConfig } from './use-case-config.ts';

export type SessionStatus = 'created' | 'connected' | 'ended';

/**
 * One phone call, from call setup to hang-up. Tools, keypad map and prompt are copied in at setup so a tool can
 * change them for this call alone.
 */
export interface Session {
  sessionId: string;
  callSid: string;
  accountSid?: string;
  from: string;
  to: string;
  useCaseId: string;
  systemPrompt: string;
  tools: ToolManifestEntry[];
  dtmfMap: DtmfMap;
  llm: UseCaseConfig['llm'];
  filler: UseCaseConfig['filler'];
  timeZone: string;
  status: SessionStatus;
  connectionId?: string;
  /** Highest turn number claimed so far; claimed with a conditional write. */
  turnCount: number;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  endReason?: string;
  /** Set when our app ended the session with `end` (e.g. live-agent handoff). */
  handoffData?: string;
  /** What the `<Connect action>` callback did (dialed agent, hung up...). */
  outcome?: string;
  expireAt: number;
}

export type NewSession = Omit<Session, 'status' | 'turnCount' | 'createdAt' | 'updatedAt' | 'expireAt' | 'connectionId'>;

export async function createSession(table: Table, input: NewSession, now = Date.now()): Promise<Session> {
  const iso = new Date(now).toISOString();
  const session: Session = { ...input, status: 'created', turnCount: 0, createdAt: iso, updatedAt: iso, expireAt: expireAt(now) };
  const key = sessionKey(input.sessionId);
  await guard('PutItem session', key, () =>
    table.doc.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...key, pk1: sessionIndexPk(iso), sk1: `${iso}#${input.sessionId}`, ...session },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
  return session;
}

export async function getSession(table: Table, sessionId: string): Promise<Session | undefined> {
  const key = sessionKey(sessionId);
  const out = await guard('GetItem session', key, () =>
    table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
  );
  return out.Item ? fromSessionItem(out.Item) : undefined;
}

export interface Conversation {
  session: Session;
  /** Chat history in the order it was written. */
  messages: ChatMessage[];
}

/**
 * The per-turn read: session and whole history in one strongly consistent Query. The sort-key range starts at
 * `meta` and ends after the last `msg#`, so turn records (`turn#`) are not dragged along.
 */
export async function loadConversation(table: Table, sessionId: string): Promise<Conversation> {
  const pk = sessionPk(sessionId);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await guard('Query conversation', { pk }, () =>
      table.doc.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': 'meta', ':to': `${MESSAGE_PREFIX}~` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const meta = items.find((item) => item.sk === 'meta');
  if (!meta) throw new NotFoundError('session', { pk });
  const messages = items.filter((item) => String(item.sk).startsWith(MESSAGE_PREFIX)).map(fromMessageItem);
  return { session: fromSessionItem(meta), messages };
}

/**
 * Binds the WebSocket connection to a session created at call setup. Only a `created`, unexpired session can be
 * bound, once; the pointer item lets later frames (which carry only the connection id) find the session.
 */
export async function bindConnection(table: Table, sessionId: string, connectionId: string, now = Date.now()): Promise<Session> {
  const key = sessionKey(sessionId);
  const out = await guard('UpdateItem bind connection', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: 'SET #status = :connected, connectionId = :cid, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND #status = :created AND expireAt > :nowSec',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':connected': 'connected',
          ':created': 'created',
          ':cid': connectionId,
          ':now': new Date(now).toISOString(),
          ':nowSec': Math.floor(now / 1000),
        },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  const pointer = connectionKey(connectionId);
  await guard('PutItem connection pointer', pointer, () =>
    table.doc.send(
      new PutCommand({ TableName: table.name, Item: { ...pointer, sessionId, expireAt: expireAt(now) } }),
    ),
  );
  return fromSessionItem(out.Attributes ?? {});
}

/** The session a connection belongs to, or undefined for a connection we never bound. */
export async function sessionIdForConnection(table: Table, connectionId: string): Promise<string | undefined> {
  const key = connectionKey(connectionId);
  const out = await guard('GetItem connection pointer', key, () =>
    table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })),
  );
  const id = out.Item?.sessionId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Claims the next turn number. Conditional on the count the caller read, so two prompts racing for the same
 * number cannot both win; the loser gets ConditionFailedError and knows it was superseded or must re-read.
 */
export async function claimTurn(table: Table, sessionId: string, readTurnCount: number, now = Date.now()): Promise<number> {
  const key = sessionKey(sessionId);
  const next = readTurnCount + 1;
  await guard('UpdateItem claim turn', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: 'SET turnCount = :next, updatedAt = :now',
        ConditionExpression: 'turnCount = :read',
        ExpressionAttributeValues: { ':next': next, ':read': readTurnCount, ':now': new Date(now).toISOString() },
      }),
    ),
  );
  return next;
}

/** The current turn number, strongly consistent: a streaming turn checks it to learn it was superseded. */
export async function currentTurn(table: Table, sessionId: string): Promise<number | undefined> {
  const key = sessionKey(sessionId);
  const out = await guard('GetItem turn count', key, () =>
    table.doc.send(
      new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true, ProjectionExpression: 'turnCount' }),
    ),
  );
  const n = out.Item?.turnCount;
  return typeof n === 'number' ? n : undefined;
}

export type SessionChanges = Partial<Pick<Session, 'tools' | 'dtmfMap' | 'useCaseId' | 'systemPrompt' | 'llm' | 'filler' | 'outcome' | 'handoffData'>>;

/** Sets the given fields of a live session (tool actions, call outcome). */
export async function updateSession(table: Table, sessionId: string, changes: SessionChanges, now = Date.now()): Promise<void> {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  const key = sessionKey(sessionId);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':now': new Date(now).toISOString() };
  const sets = entries.map(([field, value]) => {
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    return `#${field} = :${field}`;
  });
  await guard('UpdateItem session', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}, updatedAt = :now`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    ),
  );
}

/** Marks the session ended (hang-up, `end`, error). Ending twice keeps the first reason. */
export async function endSession(
  table: Table,
  sessionId: string,
  reason: string,
  extra: { handoffData?: string } = {},
  now = Date.now(),
): Promise<void> {
  const key = sessionKey(sessionId);
  const values: Record<string, unknown> = { ':ended': 'ended', ':reason': reason, ':now': new Date(now).toISOString() };
  let set = '#status = :ended, endReason = if_not_exists(endReason, :reason), endedAt = if_not_exists(endedAt, :now), updatedAt = :now';
  if (extra.handoffData !== undefined) {
    values[':handoff'] = extra.handoffData;
    set += ', handoffData = :handoff';
  }
  await guard('UpdateItem end session', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: `SET ${set}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    ),
  );
}

/** Sessions created on the given UTC days, newest first (the latency report's index). */
export async function listSessionsByDay(table: Table, days: string[], limit = 100): Promise<Session[]> {
  const sessions: Session[] = [];
  for (const day of days) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await guard('Query session index', { pk1: sessionIndexPk(day) }, () =>
        table.doc.send(
          new QueryCommand({
            TableName: table.name,
            IndexName: GSI1,
            KeyConditionExpression: 'pk1 = :pk1',
            ExpressionAttributeValues: { ':pk1': sessionIndexPk(day) },
            ScanIndexForward: false,
            ExclusiveStartKey: start,
          }),
        ),
      );
      sessions.push(...(out.Items ?? []).map(fromSessionItem));
      start = out.LastEvaluatedKey;
    } while (start && sessions.length < limit);
    if (sessions.length >= limit) break;
  }
  return sessions.slice(0, limit);
}

function fromSessionItem(item: Record<string, unknown>): Session {
  const { pk: _pk, sk: _sk, pk1: _pk1, sk1: _sk1, ...session } = item;
  return session as unknown as Session;
}
