import { getSession, listSessionsByDay, type Session } from '../../layers/data/sessions.ts';
import type { Table } from '../../layers/data/table.ts';
import { listSpeculationRecords, listTurnRecords, type SpeculationRecord, type TurnRecord } from '../../layers/data/turns.ts';
import type { CallTurns } from './report.ts';

export interface Selection {
  /** How many of the most recent calls with turn records to report on. */
  calls: number;
  /** One call, by session id or Twilio CallSid. */
  call?: string | undefined;
  /** Only turns run under this use case. */
  useCaseId?: string | undefined;
  /** How many UTC days back (today included) to look for calls. */
  days: number;
  now?: number | undefined;
}

export class CallNotFoundError extends Error {
  constructor(call: string, days: number) {
    super(`No call "${call}": no session with that id, and no session with that CallSid in the last ${days} day(s) (widen --days).`);
    this.name = 'CallNotFoundError';
  }
}

/** The UTC days (YYYY-MM-DD) the session index is partitioned by, newest first. */
export function recentDays(days: number, now = Date.now()): string[] {
  const out: string[] = [];
  for (let i = 0; i < days; i++) out.push(new Date(now - i * 86_400_000).toISOString().slice(0, 10));
  return out;
}

function toCall(session: Session, turns: TurnRecord[], speculations: SpeculationRecord[]): CallTurns {
  return { sessionId: session.sessionId, callSid: session.callSid, useCaseId: session.useCaseId, startedAt: session.createdAt, turns, speculations };
}

function keepUseCaseOf(speculations: SpeculationRecord[], useCaseId: string | undefined): SpeculationRecord[] {
  return useCaseId === undefined ? speculations : speculations.filter((s) => s.useCaseId === useCaseId);
}

function keepUseCase(turns: TurnRecord[], useCaseId: string | undefined): TurnRecord[] {
  return useCaseId === undefined ? turns : turns.filter((t) => t.useCaseId === useCaseId);
}

async function findCall(table: Table, selection: Selection & { call: string }): Promise<Session> {
  const byId = await getSession(table, selection.call);
  if (byId) return byId;
  // No index on CallSid: a CallSid is looked up among the sessions of the days searched.
  for (const day of recentDays(selection.days, selection.now)) {
    const match = (await listSessionsByDay(table, [day], Number.MAX_SAFE_INTEGER)).find((s) => s.callSid === selection.call);
    if (match) return match;
  }
  throw new CallNotFoundError(selection.call, selection.days);
}

/**
 * The calls to report on, newest first, each with its turn records in turn order. Without `call`: the most recent
 * `calls` calls of the last `days` days that have at least one (matching) turn record, so calls hung up before
 * anyone spoke do not crowd out the ones worth measuring.
 */
export async function loadCalls(table: Table, selection: Selection): Promise<CallTurns[]> {
  if (selection.call !== undefined) {
    const session = await findCall(table, { ...selection, call: selection.call });
    const speculations = keepUseCaseOf(await listSpeculationRecords(table, session.sessionId), selection.useCaseId);
    return [toCall(session, keepUseCase(await listTurnRecords(table, session.sessionId), selection.useCaseId), speculations)];
  }
  const calls: CallTurns[] = [];
  for (const day of recentDays(selection.days, selection.now)) {
    const sessions = await listSessionsByDay(table, [day], Number.MAX_SAFE_INTEGER);
    for (const session of sessions) {
      if (calls.length >= selection.calls) return calls;
      const turns = keepUseCase(await listTurnRecords(table, session.sessionId), selection.useCaseId);
      if (turns.length > 0) calls.push(toCall(session, turns, keepUseCaseOf(await listSpeculationRecords(table, session.sessionId), selection.useCaseId)));
    }
  }
  return calls;
}
