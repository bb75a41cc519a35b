import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
// zod/mini: this schema is read on every turn, and $default's cold start pays for classic zod at import.
import * as z from 'zod/mini';
import '../config/zod-locale.ts';
import { DigitEntrySchema } from './digit-entry.ts';
import { guard } from './errors.ts';
import { sessionKey } from './keys.ts';
import type { Table } from './table.ts';

/**
 * The turn ledger as it is stored: one map attribute (`ledger`) on the session item, the item every turn already
 * reads. Which turn owns the reply and what became of each recent turn is decided by the engine's ledger module
 * (02_cr-application/src/engine/ledger); this file only reads it and compare-and-sets it by version, so every
 * writer (a streaming turn, an `interrupt`, a newer `prompt`, a partial prompt) sees one consistent state.
 */
/** `cut-off`: the connection dropped while the turn streamed (the caller heard at most what was posted). */
export const TURN_STATES = ['streaming', 'finished', 'interrupted', 'superseded', 'ended', 'cut-off'] as const;
export type LedgerTurnState = (typeof TURN_STATES)[number];

export const LedgerTurnSchema = z.object({
  state: z.enum(TURN_STATES),
  /** When the turn's prompt (or key press) reached us: orders frames that race across invocations. */
  promptAt: z.number(),
  /** The caller's words, carried here so a newer turn can include them before their message item lands. */
  userText: z.string(),
  /** `utteranceUntilInterrupt` as Twilio sent it; set once, by the first interrupt aimed at this turn. */
  heard: z.optional(z.string()),
  /** How long the caller listened before cutting in (used when Twilio sends no words). */
  heardMs: z.optional(z.number()),
  /** Every message of the turn (caller, tool rounds, reply as heard) is in the table. */
  committed: z.boolean(),
  /**
   * A later turn stopped waiting for this one's commit (its invocation seemed dead) and marked it committed. A slow
   * one commits late all the same, and then records what it stored.
   */
  abandoned: z.optional(z.boolean()),
  /** The stored reply message, so an interrupt that lands after the commit can rewrite it. */
  replyMessageId: z.optional(z.string()),
  /** The stored reply already holds only what was heard. */
  heardApplied: z.optional(z.boolean()),
  /** What the caller was told in this turn before the stored reply (a keypad line, a tool round's words, a filler). */
  spokenBefore: z.optional(z.string()),
  /**
   * The messages holding those words (tool-call messages, lines), as ranges of `spokenBefore`: an interrupt that
   * lands after the commit cuts them to what was heard, as it cuts the reply.
   */
  held: z.optional(z.array(z.object({ messageId: z.string(), start: z.int().check(z.nonnegative()), end: z.int().check(z.nonnegative()) }))),
  /** The newest message the turn wrote: a history read that lacks it raced the commit and must read again. */
  lastMessageId: z.optional(z.string()),
  /** The connection generation the turn was claimed on: a prompt Twilio replays after a reconnect is recognised. */
  gen: z.optional(z.int().check(z.positive())),
  /** The speculation this turn adopted (preemptive generation): its invocation streams the reply. */
  speculationId: z.optional(z.string()),
  /** Speculative LLM requests started for this turn's utterance (adopted or dropped). */
  speculations: z.optional(z.int().check(z.nonnegative())),
});
export type LedgerTurn = z.infer<typeof LedgerTurnSchema>;

/**
 * The session's WebSocket connection. Twilio may reconnect a dropped socket (`applicationReconnect`) to the same
 * URL: the new connection replaces the old one (a new generation) if it comes within the grace.
 */
export const LedgerConnectionSchema = z.object({
  id: z.string().check(z.minLength(1)),
  /** 1 for the first connection, one more for each reconnect. */
  gen: z.int().check(z.positive()),
  /** `ended`: it dropped and its grace passed without a reconnect (the call timer decided; no reconnect is taken). */
  state: z.enum(['connected', 'disconnected', 'ended']),
  /** When it was bound, or, once disconnected, when it dropped (an ended connection keeps when it dropped). */
  at: z.number(),
  /** How long a dropped connection may be replaced; 0 when the use case does not reconnect (a drop ends the call). */
  graceMs: z.int().check(z.nonnegative()),
});
export type LedgerConnection = z.infer<typeof LedgerConnectionSchema>;

/**
 * The silence the call timer counts: armed when a reply (or the greeting, turn 0) has been spoken, for the turn it
 * followed. Any caller input (a prompt, a partial prompt, a key, an interrupt) clears it; a check that fires and
 * finds it changed does nothing.
 */
export const LedgerSilenceSchema = z.object({
  /** The turn whose reply the caller has not answered. */
  turn: z.int().check(z.nonnegative()),
  /** Reprompts said so far. */
  round: z.int().check(z.nonnegative()),
  /** When the caller has been silent long enough for the next reprompt (or the goodbye). */
  dueAt: z.number(),
  /** When the last reprompt was posted: an interrupt after it cut into the reprompt, not into the turn's reply. */
  spokeAt: z.optional(z.number()),
  /** The use case's silence, so a speaker event can count it again from when the agent really stopped speaking. */
  afterMs: z.optional(z.int().check(z.nonnegative())),
  /** ConversationRelay reported the agent speaking (speaker events): the silence has not started yet. */
  speaking: z.optional(z.boolean()),
});
export type LedgerSilence = z.infer<typeof LedgerSilenceSchema>;

export const PartialPieceSchema = z.object({ at: z.number(), text: z.string() });

export const SPECULATION_STATES = ['running', 'confirmed', 'dropped'] as const;

/**
 * A speculative turn (preemptive generation): an LLM request started on a stable partial prompt, whose reply is
 * held until the final prompt confirms it. It has no turn number until a claim adopts it.
 */
export const SpeculationSchema = z.object({
  id: z.string(),
  /** When the partial it was started on reached us. */
  at: z.number(),
  /** The utterance it answers, in comparable form (engine/utterance.ts): what the final prompt must match. */
  key: z.string(),
  state: z.enum(SPECULATION_STATES),
  /** The turn that adopted it (when confirmed). */
  turn: z.optional(z.int().check(z.positive())),
});
export type Speculation = z.infer<typeof SpeculationSchema>;

/**
 * An `interrupt` frame as it arrived, kept on the session item beside the ledger (`interruptNotes`, by arrival)
 * from the moment its invocation starts until its ledger write has landed. Written unconditionally, so it can
 * never lose a race: a newer prompt, the interrupted turn's own commit and the interrupt's compare-and-set all
 * write the ledger at that moment, and the interrupt must not count only once it has won.
 */
export const InterruptNoteSchema = z.object({
  at: z.number(),
  heard: z.string(),
  heardMs: z.optional(z.number()),
});
export type InterruptNote = z.infer<typeof InterruptNoteSchema>;

export const LedgerSchema = z.object({
  /** Bumped by every write; every write is conditional on the version it was decided from. */
  v: z.int().check(z.nonnegative()),
  /** The highest turn number claimed; that turn owns the reply. */
  turnCount: z.int().check(z.nonnegative()),
  /** Recent turns by number (older, committed turns are pruned). */
  turns: z.record(z.string(), LedgerTurnSchema),
  /** Partial prompts (`last: false`) of the utterance in progress. */
  partial: z.optional(z.array(PartialPieceSchema)),
  /** Partial prompts received before this time belong to a turn already claimed: a late one is dropped. */
  partialsUntil: z.optional(z.number()),
  /** The connection frames come from and replies go to (absent until $connect recorded it). */
  connection: z.optional(LedgerConnectionSchema),
  silence: z.optional(LedgerSilenceSchema),
  /** The newest speculative turn (at most one runs at a time). */
  speculation: z.optional(SpeculationSchema),
  /** Speculative requests started for the utterance in progress (the cap counts these; a claim resets it). */
  speculations: z.optional(z.int().check(z.nonnegative())),
  /** A multi-digit keypad entry in progress. */
  digits: z.optional(DigitEntrySchema),
  /** When the recent interrupts decided arrived, oldest first: a note still on the item is not decided again. */
  interrupts: z.optional(z.array(z.number())),
  /**
   * Read, never stored in the ledger: the session item's interrupt notes, oldest first. The engine folds them in
   * as interrupt events (engine/ledger/decide.ts `withNotes`) before it reads or decides anything.
   */
  notes: z.optional(z.array(InterruptNoteSchema)),
});
export type Ledger = z.infer<typeof LedgerSchema>;

export const emptyLedger = (): Ledger => ({ v: 0, turnCount: 0, turns: {} });

const InterruptNotesSchema = z.record(z.string(), InterruptNoteSchema);

/**
 * The stored ledger (an empty one for a session that has none yet), with the session item's interrupt notes. An
 * unreadable one is a bug: say so.
 */
export function ledgerFromItem(item: Record<string, unknown>): Ledger {
  let ledger = emptyLedger();
  if (item.ledger !== undefined) {
    const parsed = LedgerSchema.safeParse(item.ledger);
    if (!parsed.success) throw new Error(`session ${String(item.pk)}: field "ledger" is malformed: ${parsed.error.message}`);
    ledger = parsed.data;
  }
  if (item.interruptNotes === undefined) return ledger;
  const notes = InterruptNotesSchema.safeParse(item.interruptNotes);
  if (!notes.success) throw new Error(`session ${String(item.pk)}: field "interruptNotes" is malformed: ${notes.error.message}`);
  const list = Object.values(notes.data).sort((a, b) => a.at - b.at);
  return list.length > 0 ? { ...ledger, notes: list } : ledger;
}

/** The map key of an interrupt note: its arrival time. */
export const interruptNoteKey = (at: number): string => `a${at}`;

/** What a new session item starts with: the map interrupt notes are written into. */
export const EMPTY_INTERRUPT_NOTES = {};

export interface LedgerRead {
  ledger: Ledger;
  /** The session's status (`ended` stops every turn). */
  status: string;
}

/** The ledger and the session status, strongly consistent. Undefined when the session does not exist. */
export async function readLedger(table: Table, sessionId: string): Promise<LedgerRead | undefined> {
  const key = sessionKey(sessionId);
  const out = await guard('GetItem turn ledger', key, () =>
    table.doc.send(
      new GetCommand({
        TableName: table.name,
        Key: key,
        ConsistentRead: true,
        ProjectionExpression: 'pk, ledger, interruptNotes, #status',
        ExpressionAttributeNames: { '#status': 'status' },
      }),
    ),
  );
  if (!out.Item) return undefined;
  return { ledger: ledgerFromItem(out.Item), status: String(out.Item.status ?? '') };
}

/**
 * Replaces the ledger if it is still at `expectedVersion` (the version the decision was made from). Throws
 * ConditionFailedError when another writer got there first: the caller re-reads and decides again.
 */
export async function compareAndSetLedger(table: Table, sessionId: string, expectedVersion: number, next: Ledger, now = Date.now()): Promise<void> {
  if (next.v !== expectedVersion + 1) throw new Error(`ledger write must advance the version by one (from ${expectedVersion} to ${next.v})`);
  const key = sessionKey(sessionId);
  // The notes are the session item's own attribute, read with the ledger; the ledger attribute never holds them.
  const { notes: _notes, ...stored } = next;
  await guard('UpdateItem turn ledger', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: 'SET ledger = :next, updatedAt = :now',
        ConditionExpression:
          expectedVersion === 0 ? 'attribute_exists(pk) AND attribute_not_exists(ledger)' : 'attribute_exists(pk) AND ledger.v = :v',
        ExpressionAttributeValues: {
          ':next': stored,
          ':now': new Date(now).toISOString(),
          ...(expectedVersion === 0 ? {} : { ':v': expectedVersion }),
        },
      }),
    ),
  );
}

/**
 * Writes an interrupt note: one unconditional update (no read, no version), so it lands at the first try whoever
 * else is writing the ledger. Throws ConditionFailedError for a session created before notes existed (no map).
 */
export async function noteInterrupt(table: Table, sessionId: string, note: InterruptNote): Promise<void> {
  await updateInterruptNote(table, sessionId, note.at, 'SET interruptNotes.#k = :note', 'attribute_exists(pk) AND attribute_exists(interruptNotes)', { ':note': note });
}

/** Removes an interrupt note once the ledger holds its interrupt (whoever wrote it there). */
export async function clearInterruptNote(table: Table, sessionId: string, at: number): Promise<void> {
  await updateInterruptNote(table, sessionId, at, 'REMOVE interruptNotes.#k', 'attribute_exists(pk)');
}

/** One update of the note keyed by its interrupt's time, on the session item. */
async function updateInterruptNote(table: Table, sessionId: string, at: number, update: string, condition: string, values?: Record<string, unknown>): Promise<void> {
  const key = sessionKey(sessionId);
  await guard('UpdateItem interrupt note', key, () =>
    table.doc.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#k': interruptNoteKey(at) },
        ...(values ? { ExpressionAttributeValues: values } : {}),
      }),
    ),
  );
}
