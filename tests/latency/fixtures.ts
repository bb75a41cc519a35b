import { sessionFixture } from '../support/sessions.ts';
import { createSession, putTurnRecord, type NewSession, type Table, type TurnRecord } from '../../layers/data/index.ts';

/**
 * Three calls with hand-computed timings: two of use case `default` (A today, C a day earlier) and one of
 * `apartment-search` (B, the newest) with a tool call, an interruption and a failed turn. Every mark is an offset
 * in ms from the turn's prompt, so the expected phases can be read off the table below.
 */
export const DAY = 86_400_000;

const session = (id: string, callSid: string, useCaseId: string): NewSession => sessionFixture(id, { callSid, useCaseId });

/** `first` is the LLM's first chunk and, unless `text` says otherwise (a tool call came first), its first text. */
type Offsets = Partial<Record<'req' | 'first' | 'text' | 'posted' | 'llmLast' | 'lastPosted' | 'interrupted', number>>;

function turn(base: Omit<TurnRecord, 'promptReceivedAt' | 'kind' | 'outcome'> & Partial<TurnRecord>, at: number, o: Offsets): TurnRecord {
  const record: TurnRecord = { kind: 'prompt', outcome: 'completed', promptReceivedAt: at, ...base };
  if (o.req !== undefined) record.llmRequestSentAt = at + o.req;
  if (o.first !== undefined) record.llmFirstTokenAt = record.llmFirstTextAt = at + o.first;
  if (o.text !== undefined) record.llmFirstTextAt = at + o.text;
  if (o.posted !== undefined) record.firstTokenPostedAt = at + o.posted;
  if (o.llmLast !== undefined) record.llmLastTokenAt = at + o.llmLast;
  if (o.lastPosted !== undefined) record.lastTokenPostedAt = at + o.lastPosted;
  if (o.interrupted !== undefined) record.interruptedAt = at + o.interrupted;
  return record;
}

export interface SeededCalls {
  a: { sessionId: string; callSid: string };
  b: { sessionId: string; callSid: string };
  c: { sessionId: string; callSid: string };
  /** A session with no turn records (hung up before speaking). */
  silent: { sessionId: string; callSid: string };
}

export async function seedCalls(table: Table, now: number, prefix = 'lat'): Promise<SeededCalls> {
  const ids = {
    a: { sessionId: `${prefix}-A`, callSid: `CA${prefix}aaaa` },
    b: { sessionId: `${prefix}-B`, callSid: `CA${prefix}bbbb` },
    c: { sessionId: `${prefix}-C`, callSid: `CA${prefix}cccc` },
    silent: { sessionId: `${prefix}-S`, callSid: `CA${prefix}ssss` },
  };
  await createSession(table, session(ids.c.sessionId, ids.c.callSid, 'default'), now - DAY);
  await createSession(table, session(ids.a.sessionId, ids.a.callSid, 'default'), now - 3_000);
  await createSession(table, session(ids.b.sessionId, ids.b.callSid, 'apartment-search'), now - 2_000);
  await createSession(table, session(ids.silent.sessionId, ids.silent.callSid, 'default'), now - 1_000);

  const a = { sessionId: ids.a.sessionId, callSid: ids.a.callSid, useCaseId: 'default' };
  await putTurnRecord(table, turn({ ...a, turn: 1, posts: 5, tokens: 20 }, now - 2_500, { req: 10, first: 300, posted: 305, llmLast: 900, lastPosted: 920 }), now);
  await putTurnRecord(table, turn({ ...a, turn: 2, posts: 6, tokens: 25 }, now - 2_400, { req: 20, first: 400, posted: 410, llmLast: 1000, lastPosted: 1010 }), now);

  const c = { sessionId: ids.c.sessionId, callSid: ids.c.callSid, useCaseId: 'default' };
  await putTurnRecord(table, turn({ ...c, turn: 1, posts: 8, tokens: 30, coldStart: true }, now - DAY + 500, { req: 30, first: 500, posted: 530, llmLast: 1200, lastPosted: 1250 }), now);

  const b = { sessionId: ids.b.sessionId, callSid: ids.b.callSid, useCaseId: 'apartment-search' };
  const b1 = now - 1_800;
  await putTurnRecord(
    table,
    turn({ ...b, turn: 1, posts: 10, tokens: 40, tools: [{ name: 'search_apartments', startedAt: b1 + 300, durationMs: 350, ok: true }] }, b1, {
      req: 15, first: 290, text: 700, posted: 702, llmLast: 1500, lastPosted: 1504,
    }),
    now,
  );
  await putTurnRecord(table, turn({ ...b, turn: 2, posts: 3, tokens: 12, outcome: 'interrupted' }, now - 1_700, { req: 12, first: 280, posted: 290, interrupted: 800 }), now);
  const b3 = now - 1_600;
  await putTurnRecord(
    table,
    turn(
      { ...b, turn: 3, posts: 0, outcome: 'failed', error: 'LLM returned 500', tools: [{ name: 'search_apartments', startedAt: b3 + 200, durationMs: 1000, ok: false, timedOut: true }] },
      b3,
      { req: 14 },
    ),
    now,
  );
  return ids;
}
