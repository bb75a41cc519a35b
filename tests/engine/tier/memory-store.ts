import {
  ConditionFailedError,
  emptyLedger,
  expireAt,
  EMPTY_INTERRUPT_NOTES,
  interruptNoteKey,
  ledgerFromItem,
  withinItemLimit,
  messageKey,
  newMessageId,
  NotFoundError,
  sessionKey,
  sessionPk,
  StoreError,
  turnKey,
  type ChatMessage,
  type Conversation,
  type InterruptNote,
  type Ledger,
  type LedgerRead,
  type NewMessage,
  type NewSession,
  type Session,
  type SpeculationRecord,
  type TurnRecord,
} from '../../../layers/data/index.ts';
import type { Clock, Store } from '../../../02_cr-application/src/engine/ports.ts';

/**
 * The engine's Store in memory, with the semantics of the table-backed one (edges/dynamo-store.ts over
 * layers/data): the same conditions, the same errors, the same order and budget, the same item-size cuts. The
 * contract suite (tests/contract) runs one set of assertions against both, so an engine test that passes here
 * would pass against DynamoDB.
 *
 * Every operation resolves on a later microtask and takes effect there, never synchronously, so concurrent
 * callers interleave as they would against a real table. Tests can make an operation fail, or hold it at an
 * exact point until they release it, to force a race deterministically.
 */
export type StoreOperation = keyof Store;
type Args<K extends StoreOperation> = Parameters<Store[K]>;

/** Before the operation takes effect (nothing written yet), or after (written, but the caller has no answer). */
export type HookPhase = 'before' | 'after';

export interface HookOptions<K extends StoreOperation> {
  /** Only calls whose arguments match (e.g. one session); every call by default. */
  match?: (...args: Args<K>) => boolean;
  phase?: HookPhase;
}

export interface FailOptions<K extends StoreOperation> extends HookOptions<K> {
  /** What the call rejects with; a StoreError naming the operation by default. */
  error?: Error;
  /** How many matching calls fail (1 by default). */
  times?: number;
}

/** Releases a held call. `reached` resolves (with the call's arguments) once a call is parked at the hold. */
export interface Release<K extends StoreOperation = StoreOperation> {
  (): void;
  readonly reached: Promise<Args<K>>;
}

export interface StoreCall {
  op: StoreOperation;
  args: unknown[];
  /** Clock time the call was made. */
  at: number;
}

export interface MemoryStore extends Store {
  /** Creates a session as call setup does (layers/data createSession): `created`, no ledger yet. */
  seedSession(input: NewSession, now?: number): Promise<Session>;
  /** The session as stored (ledger included, an empty one when none was written yet), or undefined. */
  session(sessionId: string): Session | undefined;
  /** Every message of the session, in write (messageId) order. */
  messages(sessionId: string): ChatMessage[];
  /** The session's turn records, by turn number. */
  turnRecords(sessionId: string): TurnRecord[];
  /** Speculative turns that were never confirmed, in write order. */
  speculationRecords(sessionId: string): SpeculationRecord[];
  /** Every call made so far, in call order (e.g. to count ledger reads per turn). */
  readonly calls: readonly StoreCall[];
  /** The next matching call(s) of `op` reject. */
  fail<K extends StoreOperation>(op: K, options?: FailOptions<K>): void;
  /** The next matching call of `op` waits at `phase` until the returned function is called. One call per hold. */
  hold<K extends StoreOperation>(op: K, options?: HookOptions<K>): Release<K>;
}

export interface MemoryStoreOptions {
  /** Timestamps (createdAt, updatedAt, expireAt, the bind's expiry check); the system clock by default. */
  clock?: Pick<Clock, 'now'>;
}


/**
 * What a value looks like after a round trip through the document client (removeUndefinedValues): a deep copy
 * without undefined properties, so nothing the caller keeps a reference to can change what is stored.
 */
function asStored<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(asStored) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = asStored(v);
    return out as T;
  }
  return value;
}

function conditionFailed(operation: string, key: Record<string, unknown>): ConditionFailedError {
  const cause = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
  return new ConditionFailedError(operation, key, cause);
}

/** DynamoDB orders sort keys by their UTF-8 bytes. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

type SessionItem = Omit<Session, 'ledger'> & { ledger?: Ledger; interruptNotes?: Record<string, InterruptNote> };

interface Hook<K extends StoreOperation> {
  op: K;
  phase: HookPhase;
  match: ((...args: Args<K>) => boolean) | undefined;
}
interface FailHook<K extends StoreOperation> extends Hook<K> {
  error: Error;
  times: number;
}
interface HoldHook<K extends StoreOperation> extends Hook<K> {
  released: Promise<void>;
  onReached(args: Args<K>): void;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const clock = options.clock ?? { now: () => Date.now() };
  const sessions = new Map<string, SessionItem>();
  const messagesBySession = new Map<string, Map<string, ChatMessage>>();
  const turnsBySession = new Map<string, Map<number, TurnRecord>>();
  const speculationsBySession = new Map<string, SpeculationRecord[]>();
  const pointers = new Map<string, string>();
  const calls: StoreCall[] = [];
  let failures: FailHook<StoreOperation>[] = [];
  let holds: HoldHook<StoreOperation>[] = [];

  const iso = (ms: number) => new Date(ms).toISOString();
  const toSession = (item: SessionItem): Session => {
    const { interruptNotes, ...rest } = asStored(item);
    return { ...rest, ledger: ledgerFromItem({ pk: sessionPk(item.sessionId), ledger: item.ledger, interruptNotes }) };
  };

  function takeFailure<K extends StoreOperation>(op: K, phase: HookPhase, args: Args<K>): Error | undefined {
    const hook = failures.find((h) => h.op === op && h.phase === phase && (!h.match || (h.match as (...a: Args<K>) => boolean)(...args)));
    if (!hook) return undefined;
    if (--hook.times <= 0) failures = failures.filter((h) => h !== hook);
    return hook.error;
  }

  async function waitAtHold<K extends StoreOperation>(op: K, phase: HookPhase, args: Args<K>): Promise<void> {
    const hook = holds.find((h) => h.op === op && h.phase === phase && (!h.match || (h.match as (...a: Args<K>) => boolean)(...args)));
    if (!hook) return;
    holds = holds.filter((h) => h !== hook);
    hook.onReached(args as Args<StoreOperation>);
    await hook.released;
  }

  /** One store call: async like a network round trip, with the test's failure and hold hooks at either side. */
  async function run<K extends StoreOperation, R>(op: K, args: Args<K>, effect: () => R): Promise<Awaited<R>> {
    calls.push({ op, args: structuredClone(args) as unknown[], at: clock.now() });
    await Promise.resolve();
    await waitAtHold(op, 'before', args);
    const before = takeFailure(op, 'before', args);
    if (before) throw before;
    const result = await effect();
    await waitAtHold(op, 'after', args);
    const after = takeFailure(op, 'after', args);
    if (after) throw after;
    return result;
  }

  function sessionMessages(sessionId: string): ChatMessage[] {
    const byId = messagesBySession.get(sessionId);
    return byId ? [...byId.values()].sort((a, b) => byteOrder(a.messageId, b.messageId)) : [];
  }

  const store: MemoryStore = {
    calls,

    async seedSession(input, now = clock.now()) {
      await Promise.resolve();
      if (sessions.has(input.sessionId)) throw conditionFailed('PutItem session', sessionKey(input.sessionId));
      const at = iso(now);
      const item: SessionItem = asStored({ ...input, status: 'created', createdAt: at, updatedAt: at, expireAt: expireAt(now), interruptNotes: { ...EMPTY_INTERRUPT_NOTES } });
      sessions.set(input.sessionId, item);
      return toSession({ ...item, ledger: emptyLedger() });
    },

    bindConnection: (sessionId, connectionId) =>
      run('bindConnection', [sessionId, connectionId], () => {
        const now = clock.now();
        const item = sessions.get(sessionId);
        if (!item || item.status !== 'created' || !(item.expireAt > Math.floor(now / 1000))) {
          throw conditionFailed('UpdateItem bind connection', sessionKey(sessionId));
        }
        Object.assign(item, { status: 'connected', connectionId, updatedAt: iso(now) });
        pointers.set(connectionId, sessionId);
        return { callSid: item.callSid, ...(item.reconnectGraceMs !== undefined ? { reconnectGraceMs: item.reconnectGraceMs } : {}) };
      }),

    pointConnection: (connectionId, sessionId) =>
      run('pointConnection', [connectionId, sessionId], () => {
        pointers.set(connectionId, sessionId);
      }),

    sessionIdForConnection: (connectionId) => run('sessionIdForConnection', [connectionId], () => pointers.get(connectionId)),

    callSidOf: (sessionId) => run('callSidOf', [sessionId], () => sessions.get(sessionId)?.callSid),

    updateSession: (sessionId, changes) =>
      run('updateSession', [sessionId, changes], () => {
        const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
        if (entries.length === 0) return;
        const item = sessions.get(sessionId);
        if (!item) throw conditionFailed('UpdateItem session', sessionKey(sessionId));
        Object.assign(item, asStored(Object.fromEntries(entries)), { updatedAt: iso(clock.now()) });
      }),

    endSession: (sessionId, reason, extra) =>
      run('endSession', [sessionId, reason, extra], () => {
        const item = sessions.get(sessionId);
        if (!item) throw conditionFailed('UpdateItem end session', sessionKey(sessionId));
        const now = iso(clock.now());
        item.status = 'ended';
        item.endReason ??= reason;
        item.endedAt ??= now;
        item.updatedAt = now;
        if (extra?.handoffData !== undefined) item.handoffData = extra.handoffData;
      }),

    loadConversation: (sessionId, maxMessages) =>
      run('loadConversation', [sessionId, maxMessages], (): Conversation => {
        const item = sessions.get(sessionId);
        if (!item) throw new NotFoundError('session', { pk: sessionPk(sessionId) });
        const all = sessionMessages(sessionId);
        return { session: toSession(item), messages: asStored(all.slice(-Math.max(1, maxMessages))) };
      }),

    appendMessages: (sessionId, messages) =>
      run('appendMessages', [sessionId, messages], () => {
        const now = clock.now();
        const createdAt = iso(now);
        const stored = messages.map((m): ChatMessage => ({ ...withinItemLimit(m), messageId: m.messageId ?? newMessageId(), createdAt, expireAt: expireAt(now) }));
        let byId = messagesBySession.get(sessionId);
        if (!byId) messagesBySession.set(sessionId, (byId = new Map()));
        // One conditional put per message, as the table store sends them: the others land even if one collides.
        let collision: ConditionFailedError | undefined;
        for (const message of stored) {
          if (byId.has(message.messageId)) collision ??= conditionFailed('PutItem message', messageKey(sessionId, message.messageId));
          else byId.set(message.messageId, asStored(message));
        }
        if (collision) throw collision;
        return stored;
      }),

    getMessage: (sessionId, messageId) => run('getMessage', [sessionId, messageId], () => asStored(messagesBySession.get(sessionId)?.get(messageId))),

    rewriteHeard: (sessionId, messageId, heard) =>
      run('rewriteHeard', [sessionId, messageId, heard], () => {
        const message = messagesBySession.get(sessionId)?.get(messageId);
        if (!message || message.role !== 'assistant') throw conditionFailed('UpdateItem truncate message', messageKey(sessionId, messageId));
        message.content = heard;
        message.interrupted = true;
      }),

    readLedger: (sessionId) =>
      run('readLedger', [sessionId], (): LedgerRead | undefined => {
        const item = sessions.get(sessionId);
        return item && { ledger: toSession(item).ledger, status: String(item.status ?? '') };
      }),

    compareAndSetLedger: (sessionId, expectedVersion, next) =>
      run('compareAndSetLedger', [sessionId, expectedVersion, next], () => {
        if (next.v !== expectedVersion + 1) throw new Error(`ledger write must advance the version by one (from ${expectedVersion} to ${next.v})`);
        const item = sessions.get(sessionId);
        const holds = item !== undefined && (expectedVersion === 0 ? item.ledger === undefined : item.ledger?.v === expectedVersion);
        if (!item || !holds) throw conditionFailed('UpdateItem turn ledger', sessionKey(sessionId));
        const { notes: _notes, ...stored } = next;
        item.ledger = asStored(stored);
        item.updatedAt = iso(clock.now());
      }),

    noteInterrupt: (sessionId, note) =>
      run('noteInterrupt', [sessionId, note], () => {
        const item = sessions.get(sessionId);
        if (!item?.interruptNotes) throw conditionFailed('UpdateItem interrupt note', sessionKey(sessionId));
        item.interruptNotes[interruptNoteKey(note.at)] = asStored(note);
      }),

    clearInterruptNote: (sessionId, at) =>
      run('clearInterruptNote', [sessionId, at], () => {
        const item = sessions.get(sessionId);
        if (!item) throw conditionFailed('UpdateItem interrupt note', sessionKey(sessionId));
        if (item.interruptNotes) delete item.interruptNotes[interruptNoteKey(at)];
      }),

    putTurnRecord: (record) =>
      run('putTurnRecord', [record], () => {
        let byTurn = turnsBySession.get(record.sessionId);
        if (!byTurn) turnsBySession.set(record.sessionId, (byTurn = new Map()));
        byTurn.set(record.turn, asStored(record));
      }),

    putSpeculationRecord: (record) =>
      run('putSpeculationRecord', [record], () => {
        const list = speculationsBySession.get(record.sessionId) ?? [];
        speculationsBySession.set(record.sessionId, [...list, asStored(record)]);
      }),
    speculationRecords: (sessionId) => asStored(speculationsBySession.get(sessionId) ?? []),

    session: (sessionId) => {
      const item = sessions.get(sessionId);
      return item && toSession(item);
    },
    messages: (sessionId) => asStored(sessionMessages(sessionId)),
    turnRecords: (sessionId) => {
      const byTurn = turnsBySession.get(sessionId);
      if (!byTurn) return [];
      // Sort keys are the zero-padded turn numbers (keys.ts), so byte order is turn order.
      return [...byTurn.values()].sort((a, b) => byteOrder(turnKey(sessionId, a.turn).sk, turnKey(sessionId, b.turn).sk)).map(asStored);
    },

    fail(op, options = {}) {
      const error = options.error ?? new StoreError(op, undefined, new Error('failure injected by the test'));
      failures.push({ op, phase: options.phase ?? 'before', match: options.match as Hook<StoreOperation>['match'], error, times: options.times ?? 1 });
    },

    hold<K extends StoreOperation>(op: K, options: HookOptions<K> = {}): Release<K> {
      let release!: () => void;
      let onReached!: (args: Args<K>) => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const reached = new Promise<Args<K>>((resolve) => (onReached = resolve));
      const hook: HoldHook<K> = { op, phase: options.phase ?? 'before', match: options.match, released, onReached };
      holds.push(hook as unknown as HoldHook<StoreOperation>);
      // Releasing a hold no call has reached yet disarms it.
      const fn = () => {
        holds = holds.filter((h) => h !== (hook as unknown));
        release();
      };
      return Object.assign(fn, { reached });
    },
  };
  return store;
}
