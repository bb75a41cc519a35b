import { newMessageId } from '../../layers/data/ids.ts';
import { lastCall, loadConversation, type ChatMessage, type NewMessage, type Session, type Table } from '../../layers/data/index.ts';

/**
 * Redial resume: a caller whose call to a use case dropped (it ended without a goodbye: not handed off, not ended
 * for silence, the caller's last words no farewell) and who calls the same use case again within its resume
 * window starts with the previous conversation, bounded, and a greeting that says so.
 */

/** At most this much of the previous conversation is carried over (the newest part): the new call stays small. */
export const MAX_RESUMED_MESSAGES = 20;
export const MAX_RESUMED_CHARS = 6_000;

/** Words a caller ends a call with: after them, a hang-up was a goodbye, not a drop. */
const FAREWELL = /\b(good ?bye|bye|that'?s all|that is all|that'?s it|have a (good|nice|great) (day|one|night)|talk to you later)\b/i;

/** Session ends that are a completed call, whatever else is true. */
const COMPLETED = new Set(['handoff', 'silence']);

export interface ResumedCall {
  previousSessionId: string;
  /** The previous conversation's caller and agent words (no tool rounds), oldest first. */
  messages: NewMessage[];
  greeting: string;
}

/** The previous call to resume, or undefined for a fresh start. */
export async function findResumable(table: Table, phone: string, useCaseId: string, windowMinutes: number | undefined, now: number): Promise<ResumedCall | undefined> {
  if (!windowMinutes) return undefined;
  const last = await lastCall(table, phone, useCaseId);
  if (!last) return undefined;
  const { session, messages } = await loadConversation(table, last.sessionId, MAX_RESUMED_MESSAGES * 2);
  if (session.useCaseId !== useCaseId || session.from !== phone) return undefined;
  const endedAt = droppedAt(session);
  if (endedAt === undefined || now - endedAt > windowMinutes * 60_000) return undefined;
  const words = spokenWords(messages);
  const lastCaller = [...words].reverse().find((m) => m.role === 'user');
  if (!lastCaller || FAREWELL.test(lastCaller.content ?? '')) return undefined;
  const greeting = resumeGreeting(lastCaller.content ?? '');
  return { previousSessionId: session.sessionId, messages: [...copies(words), { role: 'assistant', content: greeting, turn: 0 }], greeting };
}

/** When the call dropped; undefined when it is still going or ended as a completed call. */
function droppedAt(session: Session): number | undefined {
  if (COMPLETED.has(session.endReason ?? '') || session.outcome === 'dialed-agent' || session.handoffData) return undefined;
  const connection = session.ledger.connection;
  // Ended by the call timer when its reconnect grace ran out: the call dropped when its connection did.
  if (connection?.state === 'ended') return connection.at;
  if (session.status === 'ended') return session.endedAt ? Date.parse(session.endedAt) : undefined;
  // Still held for a reconnect that is not coming: the caller dialled again instead.
  return connection?.state === 'disconnected' ? connection.at : undefined;
}

function spokenWords(messages: ChatMessage[]): ChatMessage[] {
  const spoken = messages.filter((m) => (m.role === 'user' || m.role === 'assistant') && !m.toolCalls?.length && typeof m.content === 'string' && m.content.trim());
  const kept: ChatMessage[] = [];
  let chars = 0;
  for (const m of spoken.reverse()) {
    chars += (m.content ?? '').length;
    if (kept.length >= MAX_RESUMED_MESSAGES || chars > MAX_RESUMED_CHARS) break;
    kept.unshift(m);
  }
  return kept;
}

function copies(messages: ChatMessage[]): NewMessage[] {
  // Fresh ids, minted in order: the copies sort before anything the new call says.
  return messages.map((m) => ({ messageId: newMessageId(), role: m.role, content: m.content, turn: 0 }));
}

/** Said instead of the welcome greeting: the caller hears that we know where we were. */
export function resumeGreeting(lastCallerWords: string): string {
  const words = lastCallerWords.trim().replace(/[.?!]+$/, '').split(/\s+/);
  const topic = words.length > 14 ? `${words.slice(0, 14).join(' ')}...` : words.join(' ');
  return `Looks like we got cut off. You were saying: ${topic}. Let's pick up from there.`;
}
