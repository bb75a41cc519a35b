/**
 * What the caller heard of a reply, as a prefix of what was actually posted. Twilio reports
 * `utteranceUntilInterrupt` as its text-to-speech spoke it, which is not always our text: case and punctuation
 * differ, numbers may be read out ("$1,450" -> "one thousand four hundred fifty dollars"), and the report can be
 * empty or (from a buggy peer) hold words we never sent. So the heard words are aligned with the posted words and
 * the stored text is the posted text up to the last aligned word: never longer than what was posted, never words
 * we did not say.
 */

/** Speaking pace used when Twilio reports how long the caller listened but not what they heard (~150 wpm). */
export const SPOKEN_CHARS_PER_SECOND = 14;

interface Word {
  norm: string;
  /** Offset just after the word in the posted text. */
  end: number;
  numeric: boolean;
}

const NUMBER_WORDS = new Set(
  (
    'zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen ' +
    'eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion and point ' +
    'dollar dollars cent cents percent first second third fourth fifth sixth seventh eighth ninth tenth st nd rd th ' +
    'am pm o clock half quarter minus negative'
  ).split(' '),
);

function normalise(word: string): string {
  return word
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

function postedWords(text: string): Word[] {
  const words: Word[] = [];
  // Split like the heard words: "two-bedroom" is spoken as two words.
  for (const match of text.matchAll(/[^\s-]+/g)) {
    const norm = normalise(match[0]);
    if (!norm) continue;
    words.push({ norm, end: (match.index ?? 0) + match[0].length, numeric: /\d/.test(norm) });
  }
  return words;
}

function heardWords(text: string): string[] {
  // Hyphenated number words ("forty-five") and digit groups are separate words when spoken.
  return text
    .split(/[\s-]+/)
    .map(normalise)
    .filter(Boolean);
}

/** The end offset (in `posted`) of what the caller heard, or 0 when nothing aligns. */
function alignedEnd(posted: Word[], heard: string[]): number {
  let p = 0;
  let end = 0;
  let h = 0;
  // Heard words that match nothing are tolerated a few at a time (a mis-transcribed word), not without bound.
  let misses = 0;
  while (h < heard.length && p < posted.length) {
    const word = posted[p] as Word;
    const said = heard[h] as string;
    if (said === word.norm) {
      end = word.end;
      p++;
      h++;
      misses = 0;
      continue;
    }
    if (word.numeric && (NUMBER_WORDS.has(said) || /\d/.test(said))) {
      // A number read out: consume the spoken number words that stand for it.
      while (h < heard.length && (NUMBER_WORDS.has(heard[h] as string) || /\d/.test(heard[h] as string))) h++;
      end = word.end;
      p++;
      misses = 0;
      continue;
    }
    if (word.norm.startsWith(said) && h === heard.length - 1) {
      // The report stopped inside this word: it was being spoken, so it counts as heard.
      end = word.end;
      break;
    }
    // A symbol spoken as a word ("&" -> "and", "%" -> "percent"): skip the heard word.
    if (misses < 2) {
      misses++;
      h++;
      continue;
    }
    break;
  }
  return end;
}

/**
 * The prefix of `posted` the caller heard. `heardMs` (how long they listened) is used only when Twilio sent no
 * words: then the prefix is what could be spoken in that time, cut at a word boundary.
 */
export function heardPrefix(posted: string, utterance: string, heardMs?: number): string {
  const words = heardWords(utterance);
  if (words.length === 0) {
    if (!heardMs || heardMs <= 0) return '';
    const chars = Math.floor((heardMs / 1000) * SPOKEN_CHARS_PER_SECOND);
    if (chars >= posted.trimEnd().length) return posted.trimEnd();
    const cut = posted.lastIndexOf(' ', chars);
    return cut > 0 ? posted.slice(0, cut).trimEnd() : '';
  }
  return posted.slice(0, alignedEnd(postedWords(posted), words)).trimEnd();
}

/**
 * The heard part of a stored reply that followed `spokenBefore` in the same turn (a keypad line, a tool round's
 * words, a filler): the heard words are aligned with everything said, and only the reply's share is kept.
 */
export function heardReply(spokenBefore: string, reply: string, heard: string, heardMs?: number): string {
  const all = heardPrefix(spokenBefore + reply, heard, heardMs);
  return all.length > spokenBefore.length ? all.slice(spokenBefore.length).trim() : '';
}

/**
 * A run of a turn's words that one stored message holds: `[start, end)` in everything the turn said (a keypad
 * line, a tool round's words with the filler before them, a tool's line). The reply holds what follows the last.
 */
export interface HeldWords {
  messageId: string;
  start: number;
  end: number;
}

/**
 * The messages an interrupt cuts, and what each keeps: the caller heard `said` up to `heardUpTo`, so a message
 * whose words run past that keeps only the part before it (possibly nothing). Messages heard whole are left alone.
 */
export function heardCuts(said: string, held: readonly HeldWords[], heardUpTo: number): { messageId: string; content: string }[] {
  return held
    .filter((h) => said.slice(Math.max(h.start, heardUpTo), h.end).trim() !== '')
    .map((h) => ({ messageId: h.messageId, content: said.slice(h.start, Math.max(h.start, Math.min(h.end, heardUpTo))).trim() }));
}

/**
 * What an interrupt that landed after the commit leaves of a committed turn: the heard part of its stored reply,
 * and the cuts of the messages that hold the words said before it (`held`, ranges of `spokenBefore`).
 */
export function heardTurn(
  spokenBefore: string,
  reply: string,
  held: readonly HeldWords[],
  heard: string,
  heardMs?: number,
): { reply: string; cuts: { messageId: string; content: string }[] } {
  const heardUpTo = heardPrefix(spokenBefore + reply, heard, heardMs).length;
  return { reply: heardReply(spokenBefore, reply, heard, heardMs), cuts: heardCuts(spokenBefore, held, heardUpTo) };
}
