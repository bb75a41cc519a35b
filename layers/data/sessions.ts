import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { guard, NotFoundError } from './errors.ts';
import { connectionKey, GSI1, MESSAGE_PREFIX, sessionIndexPk, sessionKey, sessionPk } from './keys.ts';
import { fromMessageItem, type ChatMessage } from './messages.ts';
import type { Table } from './table.ts';
import { expireAt } from './ttl.ts';
import { EMPTY_INTERRUPT_NOTES, emptyLedger, ledgerFromItem, type Ledger } from './turn-ledger.ts';
import type { DtmfMap, SilenceSettings, ToolManifestEntry, UseCaseConfig } from './use-case-config.ts';

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
  /** Set when the use case reconnects dropped sockets (`applicationReconnect`): how long a drop may last. */
  reconnectGraceMs?: number;
  /** Set when the use case reprompts a silent caller. */
  silence?: SilenceSettings;
  /** Preemptive generation (absent or disabled: every turn starts on the final prompt). */
  preemption?: UseCaseConfig['preemption'];
  status: SessionStatus;
  connectionId?: string;
  /** Who owns the reply and what became of the recent turns (engine/ledger decides, compare-and-set by version). */
  ledger: Ledger;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  endReason?: string;
  /** Set when our app ended the session with `end` (e.g. live-agent handoff). */
  handoffData?: string;
  /** What the `<Connect action>` callback did (dialed agent, hung up...). */
  outcome?: string;
  /** The use case's language (`conversationRelay.language`): replies in it carry no `lang`. */
  defaultLanguage?: string;
  /** The language the call speaks now, once the caller or a tool switched it. */
  language?: string;
  /** Call settings a tool changed mid-call (the last `config` frame sent)... */
  configRequested?: { settings: Record<string, unknown>; at: string };
  /** ...and Twilio's last `configUpdated` answer, as sent. Two fields, so neither write needs a read first. */
  configConfirmed?: { fields: Record<string, unknown>; at: string };
  expireAt: number;
}

export type NewSession = Omit<Session, 'status' | 'ledger' | 'createdAt' | 'updatedAt' | 'expireAt' | 'connectionId'>;

export async function createSession(table: Table, input: NewSession, now = Date.now()): Promise<Session> {
  const iso = new Date(now).toISOString();
  const session: Session = { ...input, status: 'created', ledger: emptyLedger(), createdAt: iso, updatedAt: iso, expireAt: expireAt(now) };
  const key = sessionKey(input.sessionId);
  await guard('PutItem session', key, () =>
    table.doc.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...key, pk1: sessionIndexPk(iso), sk1: `${iso}#${input.sessionId}`, ...withoutLedger(session), interruptNotes: EMPTY_INTERRUPT_NOTES },
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
  /** The newest messages of the chat history (at most the budget asked for), in the order they were written. */
  messages: ChatMessage[];
}

/**
 * The per-turn read: the session item (with its turn ledger) and the newest `maxMessages` messages, strongly
 * consistent. One Query, newest first, over the sort keys from `meta` to the last `msg#`: the messages come first
 * and the session item last, so a call within the budget (most calls) is read in one request. A longer call's
 * history is cut at the budget and its session item is fetched by a second request; the history is never read
 * whole. The session item is read after the messages here: the engine detects a commit that landed in between
 * from the ledger (engine/ledger/decide.ts `historyRaced`) and reads again.
 */
export async function loadConversation(table: Table, sessionId: string, maxMessages = DEFAULT_HISTORY_MESSAGES): Promise<Conversation> {
  const pk = sessionPk(sessionId);
  const key = sessionKey(sessionId);
  const budget = Math.max(1, maxMessages);
  const out = await guard('Query conversation', { pk }, () =>
    table.doc.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': pk, ':from': 'meta', ':to': `${MESSAGE_PREFIX}~` },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: budget + 1,
      }),
    ),
  );
  const items = out.Items ?? [];
  let meta = items.find((item) => item.sk === 'meta');
  if (!meta) {
    const read = await guard('GetItem session', key, () => table.doc.send(new GetCommand({ TableName: table.name, Key: key, ConsistentRead: true })));
    meta = read.Item;
  }
  if (!meta) throw new NotFoundError('session', { pk });
  const messages = items
    .filter((item) => String(item.sk).startsWith(MESSAGE_PREFIX))
    .slice(0, budget)
    .map(fromMessageItem)
    .reverse();
  return { session: fromSessionItem(meta), messages };
}

/** Messages of history a turn loads by default (a use case can set its own budget). */
export const DEFAULT_HISTORY_MESSAGES = 60;

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

export type SessionChanges = Partial<
  Pick<Session, 'tools' | 'dtmfMap' | 'useCaseId' | 'systemPrompt' | 'llm' | 'filler' | 'outcome' | 'handoffData' | 'language' | 'configRequested' | 'configConfirmed'>
>;

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
  const { pk: _pk, sk: _sk, pk1: _pk1, sk1: _sk1, interruptNotes: _notes, ...session } = item;
  return { ...(session as unknown as Session), ledger: ledgerFromItem(item) };
}

/** A new session has no ledger item yet: the first claim creates it (compare-and-set from version 0). */
function withoutLedger(session: Session): Omit<Session, 'ledger'> {
  const { ledger: _ledger, ...rest } = session;
  return rest;
}
