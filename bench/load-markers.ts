/**
 * Every word the load bench's LLM speaks names its call, its turn and the LLM request that produced it
 * (`c3t2r17w5`), so any frame on any socket, and any message stored in any session, can be traced to exactly one
 * reply: late frames of an older reply, a reply stored in the wrong session or twice, and the heard part of an
 * interrupted reply are all read from the text itself.
 */
export interface Marker {
  call: number;
  turn: number;
  request: number;
  word: number;
}

const MARKER = /c(\d+)t(\d+)r(\d+)w(\d+)/g;
const UTTERANCE = /call (\d+) turn (\d+)\b/g;

/** The reply to LLM request `request` (the server's arrival order) for a call's turn: `words` marked words. */
export function markedReplyTokens(call: number, turn: number, request: number, words: number): string[] {
  return Array.from({ length: words }, (_, i) => `${i === 0 ? '' : ' '}c${call}t${turn}r${request}w${i}${i === words - 1 ? '.' : ''}`);
}

export function markersIn(text: string): Marker[] {
  return [...text.matchAll(MARKER)].map((m) => ({ call: Number(m[1]), turn: Number(m[2]), request: Number(m[3]), word: Number(m[4]) }));
}

/** What the bench's caller says on a turn; the LLM server reads the call and turn back from it. */
export const utterance = (call: number, turn: number) => `call ${call} turn ${turn}, tell me about the apartments please`;

/** The call and turn an utterance names (the last one, should a stale partial prompt have been glued in front). */
export function utteranceTurn(text: string): { call: number; turn: number } | undefined {
  const all = [...text.matchAll(UTTERANCE)];
  const m = all[all.length - 1];
  return m ? { call: Number(m[1]), turn: Number(m[2]) } : undefined;
}

/** Every call an utterance or reply text names. */
export function callsNamed(text: string): Set<number> {
  const calls = new Set<number>();
  for (const m of text.matchAll(UTTERANCE)) calls.add(Number(m[1]));
  for (const m of markersIn(text)) calls.add(m.call);
  return calls;
}
